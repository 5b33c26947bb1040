// Shared setup for the end-to-end tests: temporary zone directories, raw UDP/TCP queries decoded strictly, and
// polling helpers for daemon logs and answers.

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
