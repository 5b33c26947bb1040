// The analytics tap's cost on the real answer path, in process: the query engine on the benchmark zone and query
// mix (bench/data, made by `npm run bench` or bench/ab.mjs), handle() alone vs handle() plus the tap, interleaved.
// Usage: npm run build && node bench/analytics-engine.mjs [--n 1000000] [--rounds 5]

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { ZoneSet, ZoneStore } from '../dist/zone/store.js';
import { loadZone } from '../dist/zone/load.js';
import { QueryEngine } from '../dist/query/pipeline.js';
import { AnalyticsRecorder } from '../dist/query/analytics.js';
import { AnalyticsTap } from '../dist/query/analytics-tap.js';
import { Name } from '../dist/wire/name.js';

const arg = (k, d) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--n', 1_000_000);
const ROUNDS = arg('--rounds', 5);
const DATA = join(resolve(dirname(fileURLToPath(import.meta.url))), 'data');
const origin = Name.parse('bench.test.');
const res = await loadZone(origin, join(DATA, 'bench-10000.zone'), DATA, {});
if (!res.ok) throw new Error('cannot load bench/data/bench-10000.zone');
const store = new ZoneStore();
store.publish(new ZoneSet(new Map([[origin.key, { snapshot: res.zone.snapshot, expired: false }]]), 1));
const engine = new QueryEngine(store, { udpSize: 1232, identity: { idServer: undefined, version: undefined, hostname: undefined, nsid: undefined }, answerCacheEntries: 100_000, logQueries: false });
const qs = readFileSync(join(DATA, 'queries-10000-200000.txt'), 'utf8').trim().split('\n').slice(0, 50_000).map((l, i) => {
  const [name, type] = l.split(' ');
  return Uint8Array.from(dnsPacket.encode({ type: 'query', id: i & 0xffff, flags: 0, questions: [{ name: name.replace(/\.$/, ''), type, class: 'IN' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 }] }));
});
const ctx = { transport: 'udp', address: '127.0.0.1', port: 5000, octets: () => Uint8Array.of(127, 0, 0, 1) };
const tap = new AnalyticsTap(new AnalyticsRecorder(), store, engine);
const got = { plain: [], tap: [] };
for (let r = 0; r < ROUNDS * 2 + 2; r++) {
  const mode = r % 2 === 0 ? 'plain' : 'tap';
  const t = performance.now();
  for (let k = 0; k < N; k++) {
    const q = qs[k % qs.length];
    const started = performance.now();
    const a = engine.handle(q, ctx);
    if (mode === 'tap') tap.observe(q, a, ctx, false, started);
  }
  if (r >= 2) got[mode].push(((performance.now() - t) * 1e6) / N);
}
const med = (v) => v.sort((a, b) => a - b)[v.length >> 1];
console.log(`engine alone ${med(got.plain).toFixed(0)} ns/q, with the analytics tap ${med(got.tap).toFixed(0)} ns/q (medians of ${ROUNDS} × ${N}, interleaved)`);
