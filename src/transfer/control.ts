// The daemon control channel for `apexdns zone notify|retransfer|refresh ZONE`: a Unix socket in the state dir
// carrying one JSON request line and one JSON reply line per connection.

import { createServer, connect, type Server } from 'node:net';
import { chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonValue } from '../util/json.js';

/** Zone transfer commands (they need a zone), and daemon commands (`status`, `reload`, `stats`; zone optional). */
export type ZoneCommand = 'notify' | 'retransfer' | 'refresh';
export type DaemonCommand = 'status' | 'reload' | 'stats';
export type ControlCommand = ZoneCommand | DaemonCommand;
export const CONTROL_COMMANDS: readonly ZoneCommand[] = ['notify', 'retransfer', 'refresh'];
export const DAEMON_COMMANDS: readonly DaemonCommand[] = ['status', 'reload', 'stats'];

export type ControlRequest =
  | { readonly cmd: ZoneCommand; readonly zone: string }
  | { readonly cmd: DaemonCommand; readonly zone?: string };

export interface ControlReply {
  readonly ok: boolean;
  readonly message: string;
  /** Machine-readable result (`--json`). */
  readonly data?: JsonValue;
}

/** The socket path for a state directory. */
export function controlSocketPath(stateDir: string): string {
  return join(stateDir, 'control.sock');
}

/** Listen on the control socket (a stale socket file from a crash is replaced). */
export async function startControlServer(path: string, handle: (req: ControlRequest) => Promise<ControlReply>): Promise<Server> {
  await rm(path, { force: true });
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 4096) sock.destroy();
        return;
      }
      const line = buf.slice(0, nl);
      buf = '';
      let req: ControlRequest;
      try {
        const v = JSON.parse(line) as { cmd?: unknown; zone?: unknown };
        if (v.zone !== undefined && typeof v.zone !== 'string') throw new Error('bad request');
        const zone = v.zone;
        if (CONTROL_COMMANDS.includes(v.cmd as ZoneCommand) && zone !== undefined) req = { cmd: v.cmd as ZoneCommand, zone };
        else if (DAEMON_COMMANDS.includes(v.cmd as DaemonCommand)) req = zone === undefined ? { cmd: v.cmd as DaemonCommand } : { cmd: v.cmd as DaemonCommand, zone };
        else throw new Error('bad request');
      } catch {
        sock.end(JSON.stringify({ ok: false, message: 'bad request' }) + '\n');
        return;
      }
      handle(req).then(
        (r) => sock.end(JSON.stringify(r) + '\n'),
        (e: unknown) => sock.end(JSON.stringify({ ok: false, message: (e as Error).message }) + '\n'),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      // Only the daemon's user may reload it or read its state.
      chmod(path, 0o600).then(() => resolve(), reject);
    });
  });
  server.unref();
  return server;
}

/** Client side (the CLI): send one request and wait for the reply. */
export function sendControl(path: string, req: ControlRequest, timeoutMs = 150_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no reply on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (d: string) => {
      buf += d;
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the daemon on ${path}: ${e.message}`));
    });
    sock.on('close', () => {
      clearTimeout(timer);
      try {
        const r = JSON.parse(buf.trim()) as ControlReply;
        resolve(r.data === undefined ? { ok: r.ok === true, message: String(r.message) } : { ok: r.ok === true, message: String(r.message), data: r.data });
      } catch {
        reject(new Error(`no valid reply on ${path}`));
      }
    });
  });
}
