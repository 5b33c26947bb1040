// DNS analytics (src/query/analytics*.ts) in isolation: the answer-path cost of the tap in ns per query (one
// repeated name, and a random-subdomain flood), and the recorder's heap after a flood of distinct names.
// Usage: npm run build && node --expose-gc bench/analytics-cost.mjs [--n 1000000] [--hour 10000000]

import { AnalyticsRecorder, requestNameKey } from '../dist/query/analytics.js';
import { AnalyticsTap } from '../dist/query/analytics-tap.js';
import { ZoneSet, ZoneStore } from '../dist/zone/store.js';
import { Name } from '../dist/wire/name.js';

const arg = (k, d) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--n', 1_000_000);
const HOUR = arg('--hour', 10_000_000);
const WEEK = arg('--week', 1000);
const gc = globalThis.gc ?? (() => {});
const heap = () => {
  gc();
  gc();
  // Typed arrays above 64 bytes (the rows' histograms) live outside the V8 heap: count them too.
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const mib = (b) => (b / 1048576).toFixed(1);

/** A query for `name` A (no EDNS) and a header-only answer. */
function query(name) {
  const labels = name.split('.');
  const parts = [Buffer.from('000101000001000000000000', 'hex')];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  parts.push(Buffer.from('0000010001', 'hex'));
  return Uint8Array.from(Buffer.concat(parts));
}
const answer = (q, rcode) => {
  const r = Uint8Array.from(q);
  r[2] |= 0x84;
  r[3] = rcode;
  return r;
};

const store = new ZoneStore();
const zones = ['example.com.', 'example.net.', 'example.org.'].map((z) => [Name.parse(z).key, { snapshot: { origin: Name.parse(z) }, expired: false }]);
store.publish(new ZoneSet(new Map(zones), 1));
const engine = { lastCached: false };
const ctx = { transport: 'udp', address: '192.0.2.77', port: 5353 };

function cost(label, names) {
  const rec = new AnalyticsRecorder();
  const tap = new AnalyticsTap(rec, store, engine);
  const qs = names.map(query);
  const rs = qs.map((q) => answer(q, names.length > 1 ? 3 : 0));
  const rows = [];
  for (let round = 0; round < 5; round++) {
    const t = performance.now();
    for (let k = 0; k < N; k++) {
      const j = k % qs.length;
      tap.observe(qs[j], rs[j], ctx, false, performance.now());
    }
    rows.push(((performance.now() - t) * 1e6) / N);
  }
  rows.sort((a, b) => a - b);
  console.log(`${label}: ${rows[2].toFixed(0)} ns per query (median of 5 × ${N}; min ${rows[0].toFixed(0)}, max ${rows[4].toFixed(0)})`);
}


// Memory (V8 heap and array buffers) after N distinct names in one minute, through the recorder (the tap's facts, as on the answer path).
const facts = (nameKey, i) => ({
  nameKey, zone: 'example.com', qtype: 1, rcode: 3, cached: false, stale: false, origin: '', tcp: false, ipv6: false,
  querySize: 45, responseSize: 100, source: `10.${(i >> 8) & 255}.${i & 255}.0/24`, ms: 0.05 + (i % 100) / 1000,
});
{
  const before = heap();
  const rec = new AnalyticsRecorder();
  const t0 = Date.UTC(2026, 0, 5, 10, 0, 0);
  for (let i = 0; i < N; i++) rec.record(facts(requestNameKey(query(`f${i}.example.com`)), i), t0 + (i % 59_000));
  const after = heap();
  console.log(`flood of ${N} distinct names in one minute: analytics memory ${mib(after - before)} MiB (${rec.bucketCount} bucket)`);
  globalThis.keep = rec;
}
{
  globalThis.keep = undefined;
  const before = heap();
  const rec = new AnalyticsRecorder();
  const t0 = Date.UTC(2026, 0, 5, 10, 0, 0);
  const step = 3_600_000 / HOUR;
  const t = performance.now();
  for (let i = 0; i < HOUR; i++) rec.record(facts(requestNameKey(query(`h${i}.example.com`)), i), t0 + Math.floor(i * step));
  const secs = (performance.now() - t) / 1000;
  const after = heap();
  console.log(`flood of ${HOUR} distinct names over one hour: analytics memory ${mib(after - before)} MiB (${rec.bucketCount} buckets, ${rec.rowCount} rows: ${((after - before) / rec.rowCount).toFixed(0)} B/row; ${secs.toFixed(1)} s)`);
  // Fold the hour (as 6 h later) and measure what one flooded hour costs once it is history.
  rec.compact(Math.floor(t0 / 1000) + 7 * 3600);
  console.log(`  the same hour folded into an hour bucket: ${mib(heap() - before)} MiB (${rec.bucketCount} bucket)`);
  globalThis.keep = rec;
}
if (WEEK > 0) {
  // A week of flood: WEEK distinct names and sources every minute, for 7 days (the memory budget holds).
  globalThis.keep = undefined;
  const before = heap();
  const rec = new AnalyticsRecorder();
  const t0 = Date.UTC(2026, 0, 5, 0, 0, 0);
  let k = 0;
  for (let m = 0; m < 7 * 1440; m++) for (let i = 0; i < WEEK; i++, k++) rec.record(facts(requestNameKey(query(`w${k}.example.com`)), k), t0 + m * 60_000 + i);
  rec.compact(Math.floor(t0 / 1000) + 7 * 86_400);
  const after = heap();
  console.log(`a week of ${WEEK} new names a minute (${k} queries): analytics memory ${mib(after - before)} MiB (${rec.bucketCount} buckets, ${rec.rowCount} rows; history from ${new Date(rec.dropped * 1000).toISOString()})`);
  globalThis.keep = rec;
}

globalThis.keep = undefined;
cost('analytics tap, one name (www.example.com A)', ['www.example.com']);
cost('analytics tap, 100k distinct names (flood)', Array.from({ length: 100_000 }, (_, i) => `r${i.toString(36)}x${(i * 7919).toString(36)}.example.com`));
