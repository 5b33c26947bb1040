// Query counters for metrics (src/query/stats.ts): labels by QTYPE (bounded: unknown types are "other"), RCODE,
// protocol and IP version; truncated and dropped answers; the cumulative response-time histogram.

import { describe, expect, it } from 'vitest';
import { QueryStats, RESPONSE_TIME_BUCKETS } from '../../src/query/stats.js';
import { buildQuery } from '../helpers/dig.js';

/** A response header (12 octets) with `rcode` and optionally TC. */
function reply(rcode: number, tc = false): Uint8Array {
  const b = new Uint8Array(12);
  b[2] = 0x80 | (tc ? 0x02 : 0);
  b[3] = rcode;
  return b;
}

describe('QueryStats', () => {
  it('counts by qtype, rcode, protocol and IP version; other types share one label', () => {
    const s = new QueryStats();
    const a = buildQuery({ name: 'www.example.com', type: 'A' });
    s.count(a, reply(0), 'udp', false, 0.00001);
    s.count(a, reply(0), 'udp', false, 0.00001);
    s.count(buildQuery({ name: 'x.example.com', type: 'AAAA' }), reply(3), 'tcp', true, 0.002);
    s.count(buildQuery({ name: 'x.example.com', type: 'TYPE4000' }), reply(0), 'udp', false, 0.002);
    s.count(buildQuery({ name: 'x.example.com', type: 'TYPE4001' }), reply(0), 'udp', false, 0.002);
    s.count(a, reply(0, true), 'udp', false, 2);
    s.count(a, null, 'udp', false, 0);
    s.count(new Uint8Array([1, 2, 3]), reply(1), 'udp', false, 0.00001);
    const snap = s.snapshot();
    const byLabel = Object.fromEntries(snap.queries.map((q) => [`${q.qtype} ${q.rcode} ${q.protocol} ${q.ipVersion}`, q.value]));
    expect(byLabel).toEqual({
      'A NOERROR udp 4': 3,
      'AAAA NXDOMAIN tcp 6': 1,
      'other NOERROR udp 4': 2,
      'other FORMERR udp 4': 1,
    });
    expect([snap.truncated, snap.dropped]).toEqual([1, 1]);
    // Cumulative: 3 at ≤ 50 µs, 3 more at ≤ 2.5 ms, the 2 s one only in +Inf.
    expect(snap.responseTimeBuckets.length).toBe(RESPONSE_TIME_BUCKETS.length + 1);
    expect(snap.responseTimeBuckets[0]).toBe(3);
    expect(snap.responseTimeBuckets[RESPONSE_TIME_BUCKETS.indexOf(0.0025)]).toBe(6);
    expect(snap.responseTimeBuckets[RESPONSE_TIME_BUCKETS.length - 1]).toBe(6);
    expect(snap.responseTimeBuckets[RESPONSE_TIME_BUCKETS.length]).toBe(7);
  });

  it('observes Promise results when they settle, and streamed answers once', async () => {
    const s = new QueryStats();
    const q = buildQuery({ name: 'example.com', type: 'AXFR' });
    const r = s.observe(q, Promise.resolve(reply(0)), 'tcp', false, performance.now());
    expect(s.snapshot().queries).toEqual([]);
    await r;
    s.observe(q, (function* () { yield reply(0); yield reply(0); })(), 'tcp', false, performance.now());
    expect(s.snapshot().queries).toEqual([{ qtype: 'AXFR', rcode: 'NOERROR', protocol: 'tcp', ipVersion: '4', value: 2 }]);
  });
});
