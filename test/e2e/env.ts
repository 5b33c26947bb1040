// Shared setup for the end-to-end tests: temporary zone directories, raw UDP/TCP queries decoded strictly, and
// polling helpers for daemon logs and answers.

import { createSocket, type Socket } from 'node:dgram';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { buildQuery, queryTcp, queryUdp, type QuerySpec } from '../helpers/dig.js';
import { REPO_ROOT, type DaemonServer } from '../helpers/daemon.js';
import { parseMessage, rrText, type ParsedMessage, type ParsedRR } from '../helpers/dnsmsg.js';

/** The repository's example zone file. */
export const EXAMPLE_ZONE = join(REPO_ROOT, 'zones', 'example.com.zone');

export interface ZoneDir {
  readonly dir: string;
  /** Absolute path of the copied example.com zone. */
  readonly zoneFile: string;
  remove(): void;
}

/** A temp dir holding a copy of zones/example.com.zone, with `append` added at its end. */
export function exampleZoneDir(append = ''): ZoneDir {
  const dir = mkdtempSync(join(tmpdir(), 'apexdns-e2e-'));
  const zoneFile = join(dir, 'example.com.zone');
  copyFileSync(EXAMPLE_ZONE, zoneFile);
  if (append.length > 0) writeFileSync(zoneFile, append, { flag: 'a' });
  return { dir, zoneFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The daemon and zone directory of the running test. */
export interface PerTest {
  d: DaemonServer | undefined;
  z: ZoneDir | undefined;
}

/** Call in a describe block: after each test the daemon set in the slots is stopped and the zone dir removed. */
export function perTest(): PerTest {
  const t: PerTest = { d: undefined, z: undefined };
  afterEach(async () => {
    await t.d?.stop();
    t.d = undefined;
    t.z?.remove();
    t.z = undefined;
  });
  return t;
}

/** Query over UDP and decode (strictly) the response. */
export async function udp(port: number, q: QuerySpec, host = '127.0.0.1', timeoutMs = 2000): Promise<ParsedMessage> {
  return parseMessage(await queryUdp(port, buildQuery(q), timeoutMs, host));
}

/** Query over TCP and decode (strictly) the response. */
export async function tcp(port: number, q: QuerySpec, host = '127.0.0.1', timeoutMs = 5000): Promise<ParsedMessage> {
  return parseMessage(await queryTcp(port, buildQuery(q), timeoutMs, host));
}

/** The records of a section as `owner ttl class type rdata` lines, sorted. */
export function lines(rrs: readonly ParsedRR[]): string[] {
  return rrs.map(rrText).sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `probe` every 25 ms until it returns true; throws `what` after `timeoutMs`. */
export async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** pino JSON lines of a captured output (non-JSON lines skipped). */
export function logLines(output: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const l of output.split('\n')) {
    const t = l.trim();
    if (!t.startsWith('{')) continue;
    try {
      const v: unknown = JSON.parse(t);
      if (typeof v === 'object' && v !== null) out.push(v as Record<string, unknown>);
    } catch {
      // a line cut by the capture limit: skip it
    }
  }
  return out;
}

/** Count log lines with `msg` equal to the given text. */
export function countMsg(output: string, msg: string): number {
  return logLines(output).filter((l) => l.msg === msg).length;
}

/** A UDP socket bound to a fresh port on 127.0.0.1 (a new source port: the kernel may pick any worker). */
export function boundUdp(): Promise<Socket> {
  return new Promise((res) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => res(s));
  });
}

/** Send one query from `s` and wait for the response with its ID (3 s); resolves with the raw response. */
export function askOn(s: Socket, port: number, q: QuerySpec & { readonly id: number }): Promise<Buffer> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no answer to ${q.name} ${q.type ?? 'A'} (id ${q.id})`)), 3000);
    const on = (m: Buffer): void => {
      if (m.readUInt16BE(0) !== q.id) return;
      clearTimeout(timer);
      s.off('message', on);
      res(m);
    };
    s.on('message', on);
    s.send(buildQuery(q), port, '127.0.0.1');
  });
}

/** The samples of a Prometheus text exposition: `name{labels}` → value. */
export function promSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
