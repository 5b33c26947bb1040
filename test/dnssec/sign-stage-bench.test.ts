// Throughput of the query-time signing stage (console output, not a threshold): random-subdomain NXDOMAINs
// (every one a fresh, uncached signature) and a repeated mixed load through the signature cache.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { RRType } from '../../src/wire/constants.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildSnapshot } from '../../src/zone/snapshot.js';
import { resolve } from '../../src/query/resolve.js';
import { buildResponse } from '../../src/query/answer.js';
import { SignatureCache } from '../../src/dnssec/cache.js';
import { attachSigning, prepareZoneDnssec } from '../../src/dnssec/zone-keys.js';
import { signResponse } from '../../src/dnssec/sign-stage.js';

const ZONE = `$TTL 300
@ SOA ns1 host 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.53
${Array.from({ length: 200 }, (_, i) => `h${i} A 192.0.2.${i % 250}`).join('\n')}
`;

describe('signing stage throughput', () => {
  it('prints responses/s for random NXDOMAIN floods (compact, nsec3) and the cache hit rate on repeated names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apexdns-sign-bench-'));
    try {
      const origin = Name.parse('bench.example.');
      const lines: string[] = [];
      for (const denial of ['compact', 'nsec3'] as const) {
        const cache = new SignatureCache({ maxBytes: 16 * 1024 * 1024 });
        const prep = (await prepareZoneDnssec(origin, { mode: 'live', state: 'active', denial, keys: join(dir, denial), validityDays: undefined }, cache))!;
        const snap = buildSnapshot(origin, prep.augment(parseZoneText(ZONE, 'z', { origin, zonesDir: '/x' }).records)).snapshot!;
        attachSigning(snap, prep.signing!);
        const now = Math.floor(Date.now() / 1000);
        const run = (name: (i: number) => string, ms: number): { n: number; perSec: number; sigs: number } => {
          const cpu0 = process.cpuUsage();
          const end = performance.now() + ms;
          let n = 0;
          let sigs = 0;
          while (performance.now() < end) {
            const r = resolve(snap, Name.parse(name(n++)), RRType.A);
            const out = signResponse(r, buildResponse(r), { co: false, now });
            for (const e of [...out.answer, ...out.authority]) if (e.type === RRType.RRSIG) sigs++;
          }
          const cpu = process.cpuUsage(cpu0);
          return { n, perSec: Math.round(n / ((cpu.user + cpu.system) / 1e6)), sigs };
        };
        const flood = run((i) => `r${i}x${Math.random().toString(36).slice(2, 8)}.bench.example.`, 700);
        const before = cache.stats();
        const mixed = run((i) => `h${i % 200}.bench.example.`, 700);
        const after = cache.stats();
        const hitRate = (after.hits - before.hits) / Math.max(1, after.hits - before.hits + after.misses - before.misses);
        lines.push(
          `${denial}: random NXDOMAIN ${flood.perSec} responses/s per core (${(flood.sigs / flood.n).toFixed(1)} RRSIGs each); ` +
            `repeated 200 names ${mixed.perSec} responses/s, signature cache hit rate ${(hitRate * 100).toFixed(1)}%`,
        );
        expect(flood.sigs).toBeGreaterThan(flood.n); // SOA + at least one denial RRSIG per response
        expect(hitRate).toBeGreaterThan(0.9);
      }
      console.log(lines.join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
