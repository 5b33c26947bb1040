// `npm run fuzz`: each coverage-guided target for APEXDNS_FUZZ_SECONDS (default 25) or APEXDNS_FUZZ_EXECS inputs
// (default 10,000,000), seed APEXDNS_FUZZ_SEED. 0 crashes, 0 hangs (no input over 100 ms) and a heap that does not
// grow are required; the statistics line of each target is printed.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatStats, fuzz, type Budget, type Stats, type Target } from './guided.js';
import { packetTarget, transferTarget, tsigTarget, zoneTarget } from './targets.js';

const seconds = Number(process.env.APEXDNS_FUZZ_SECONDS ?? 25);
const budget: Budget = { maxSeconds: seconds, maxExecs: Number(process.env.APEXDNS_FUZZ_EXECS ?? 10_000_000), batch: 64 };
const seed = Number(process.env.APEXDNS_FUZZ_SEED ?? 0x5eed);
const keys = mkdtempSync(join(tmpdir(), 'apexdns-fuzz-'));
afterAll(() => rmSync(keys, { recursive: true, force: true }));

function check(s: Stats): void {
  console.log(formatStats(s));
  for (const f of s.findings) console.log(`${f.kind}: ${f.detail}\n  input: ${f.input}`);
  expect(s.findings.map((f) => `${f.kind}: ${f.detail.split('\n')[0]}`)).toEqual([]);
  // No unbounded growth: the live heap after the run stays within 64 MiB of where it started.
  expect(s.heapEndMiB - s.heapStartMiB).toBeLessThan(64);
  expect(s.execs).toBeGreaterThan(0);
}

async function run<T>(make: () => Target<T> | Promise<Target<T>>): Promise<void> {
  check(await fuzz(await make(), budget, seed));
}

describe('coverage-guided fuzzing', () => {
  const timeout = (seconds + 60) * 1000;
  it('the packet decoder and the whole query pipeline', () => run(() => packetTarget(keys)), timeout);
  it('the zone-file parser and snapshot builder', () => run(zoneTarget), timeout);
  it('the IXFR/AXFR client parsers', () => run(transferTarget), timeout);
  it('TSIG verification', () => run(tsigTarget), timeout);
});
