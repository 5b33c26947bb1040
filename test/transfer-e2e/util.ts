// Shared helpers of the transfer end-to-end tests: zone text, SOA serial and record look-ups with dig, polling,
// normalised `dig AXFR` listings for comparing servers' copies, and the daemon's JSON log events.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';

export const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==';
export const TSIG_ARG = `hmac-sha256:xfr-key:${SECRET}`;

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
