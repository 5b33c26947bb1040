// CPU cost of the per-query metrics counters (src/query/stats.ts) in isolation: QueryStats.observe plus the two
// clock reads around each query, in ns per query, next to the server's µs per query from `npm run bench`.
// Usage: npm run build && node bench/metrics-cost.mjs [--n 10000000]

import { QueryStats } from '../dist/query/stats.js';

const i = process.argv.indexOf('--n');
const N = i > 0 ? Number(process.argv[i + 1]) : 10_000_000;
// www.example.com A, as a query and as its (header-only) answer.
const q = Uint8Array.from(Buffer.from('000101000001000000000000037777770765786d706c6503636f6d0000010001', 'hex'));
const r = Uint8Array.from(q);
r[2] |= 0x80;
const s = new QueryStats();
const rows = [];
for (let round = 0; round < 5; round++) {
  let t = performance.now();
  for (let k = 0; k < N; k++) s.observe(q, r, 'udp', false, performance.now());
  rows.push(((performance.now() - t) * 1e6) / N);
}
rows.sort((a, b) => a - b);
console.log(`metrics counters: ${rows[2].toFixed(0)} ns per query (median of 5 × ${N}; min ${rows[0].toFixed(0)}, max ${rows[4].toFixed(0)})`);
