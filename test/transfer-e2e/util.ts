// Shared helpers of the transfer end-to-end tests: zone text, SOA serial and record look-ups with dig, polling,
// normalised `dig AXFR` listings for comparing servers' copies, the daemon's JSON log events, the test TSIG key and
// an apexdns primary that notifies one peer, and the per-file teardown.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { dig } from '../helpers/dig.js';
import { stopAll } from '../helpers/procs.js';

export const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==';
export const TSIG_ARG = `hmac-sha256:xfr-key:${SECRET}`;
/** The daemon config's `tsig-keys` with the test key. */
export const KEY = [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET }];
/** The daemon config's `acl` that lets the test read every copy with `dig AXFR -y` (any address, the key required). */
export const READER = [{ name: 'reader', key: 'xfr-key' }];

const dirs: string[] = [];

/** A temporary directory removed by cleanupDirs(). */
export function tmp(prefix = 'apexdns-e2e-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** afterAll of every file: stop all registered servers, then remove the temporary directories. */
export async function teardown(): Promise<void> {
  await stopAll();
  cleanupDirs();
}

/** A small zone: SOA (given timers: refresh retry expire minimum), NS, ns1 glue, then `body`. */
export function zone(origin: string, serial: number, body: readonly string[], timers = '3600 600 86400 300'): string {
  return [`$ORIGIN ${origin}.`, '$TTL 300', `@ IN SOA ns1 hostmaster ${serial} ${timers}`, '@ IN NS ns1', 'ns1 IN A 192.0.2.1', ...body, ''].join('\n');
}

/** SOA serial over UDP (undefined when not answered with an SOA). */
export async function soaSerial(port: number, name: string): Promise<number | undefined> {
  const r = await dig(port, [name, 'SOA', '+short', '+time=1', '+tries=1']);
  const f = r.stdout.trim().split(/\s+/);
  return f.length >= 7 ? Number(f[2]) : undefined;
}

export async function digShort(port: number, name: string, type: string): Promise<string> {
  return (await dig(port, [name, type, '+short', '+time=1', '+tries=1'])).stdout.trim();
}

export async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `dig AXFR` records (TSIG-signed with the test key unless `key` is false), comments and TSIG lines removed,
 * whitespace normalised, the duplicate closing SOA dropped, sorted: two servers' copies compare equal.
 */
export async function axfrLines(port: number, name: string, key = true): Promise<string[]> {
  const r = await dig(port, [name, 'AXFR', ...(key ? ['-y', TSIG_ARG] : []), '+nocomments', '+nostats', '+nocmd'], 30_000);
  if (/Transfer failed|connection refused|timed out/i.test(r.stdout)) throw new Error(`AXFR from ${port} failed:\n${r.stdout}`);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';') && !/\tTSIG\t/.test(l));
  return [...new Set(lines.map((l) => l.replace(/\s+/g, ' ').trim()))].sort();
}

/** The daemon's JSON log lines with `event` (all workers). */
export function events(output: string, event: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes(`"event":"${event}"`)) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by the capture window
    }
  }
  return out;
}

/**
 * A built apexdns primary on `port` serving `name` from `file` (state under `dir`/state, serial: increment) that
 * sends NOTIFY to and allows TSIG-signed transfers by the peer `peer` on 127.0.0.1:`peerPort`.
 */
export function startNotifyingPrimary(o: {
  readonly dir: string;
  readonly file: string;
  readonly name: string;
  readonly port: number;
  readonly peer: string;
  readonly peerPort: number;
}): Promise<DaemonServer> {
  return startDaemon([{ name: o.name, file: o.file }], {
    port: o.port,
    extra: {
      'state-dir': join(o.dir, 'state'),
      'tsig-keys': KEY,
      peers: [{ name: o.peer, address: '127.0.0.1', port: o.peerPort, tsig: 'xfr-key' }],
      zones: [{ name: o.name, file: o.file, notify: [o.peer], 'allow-transfer': [o.peer], serial: 'increment' }],
    },
  });
}
