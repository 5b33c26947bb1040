// The daemon control channel for `apexdns zone notify|retransfer|refresh ZONE`: a Unix socket in the state dir
// carrying one JSON request line and one JSON reply line per connection.

import { createServer, connect, type Server } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

export type ControlCommand = 'notify' | 'retransfer' | 'refresh';
export const CONTROL_COMMANDS: readonly ControlCommand[] = ['notify', 'retransfer', 'refresh'];

export interface ControlRequest {
  readonly cmd: ControlCommand;
  readonly zone: string;
}

export interface ControlReply {
  readonly ok: boolean;
  readonly message: string;
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
        const v = JSON.parse(line) as Partial<ControlRequest>;
        if (typeof v.zone !== 'string' || !CONTROL_COMMANDS.includes(v.cmd as ControlCommand)) throw new Error('bad request');
        req = { cmd: v.cmd as ControlCommand, zone: v.zone };
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
      resolve();
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
        resolve({ ok: r.ok === true, message: String(r.message) });
      } catch {
        reject(new Error(`no valid reply on ${path}`));
      }
    });
  });
}
