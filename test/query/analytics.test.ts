// The analytics rollup store: exact counts per dimension, size buckets, percentiles, the caps under many names
// (space-saving), folding minutes into hours, retention, and the raw-bytes helpers of the answer path.

import { describe, expect, it } from 'vitest';
import { AnalyticsRecorder, Bucket, histBucket, histValue, keyToText, OTHER, requestNameKey, sizeBucket, sourcePrefix, type QueryFacts } from '../../src/query/analytics.js';
import { aggregate, buildReport, parseReportQuery, type Group } from '../../src/http/analytics.js';
import { Name } from '../../src/wire/name.js';
import { buildQuery } from '../helpers/dig.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0); // a Monday, 10:00 UTC

function facts(name: string, over: Partial<QueryFacts> = {}): QueryFacts {
  return {
    nameKey: Name.parse(name).key, zone: 'example.com', qtype: 1, rcode: 0, cached: false, stale: false, origin: '',
    tcp: false, ipv6: false, querySize: 40, responseSize: 56, source: '192.0.2.0/24', ms: 0.2, ...over,
  };
}

/** The report over everything the recorder holds for example.com. */
function report(rec: AnalyticsRecorder, params: string, nowMs = T0 + 3600_000, bytime = false): ReturnType<typeof buildReport> {
  const q = parseReportQuery('example.com', new URLSearchParams(params), bytime, Math.floor(nowMs / 1000));
  const groups: Group[] = aggregate(rec, { zone: q.zone, since: q.since, until: q.until, dimensions: q.dimensions, filters: q.filtersText, step: q.step });
  return buildReport(q, [groups]);
}

const rows = (r: ReturnType<typeof buildReport>): [string[], unknown[]][] =>
  (r.data as { dimensions: string[]; metrics: unknown[] }[]).map((d) => [d.dimensions, d.metrics]);

describe('analytics rollups', () => {
  it('counts exactly by queryType, responseCode, responseCached, tcp, ipVersion, sizes and source', () => {
    const rec = new AnalyticsRecorder();
    for (let i = 0; i < 5; i++) rec.record(facts('www.example.com.'), T0 + i);
    for (let i = 0; i < 3; i++) rec.record(facts('www.example.com.', { qtype: 28, cached: true, tcp: true }), T0 + 10 + i);
    rec.record(facts('nx.example.com.', { rcode: 3, ipv6: true, source: '2001:db8:0:100::/56', querySize: 16, responseSize: 100 }), T0 + 20);
    rec.record(facts('odd.example.com.', { qtype: 65280 }), T0 + 30);
    expect(rows(report(rec, 'dimensions=queryType&metrics=queryCount,uncachedCount&since=2026-01-05T09:00:00Z'))).toEqual([
      [['A'], [6, 6]],
      [['AAAA'], [3, 0]],
      [[''], [1, 1]], // seed R04: unknown types are empty
    ]);
    expect(rows(report(rec, 'dimensions=responseCode,responseCached&sort=+responseCode,+responseCached'))).toEqual([
      [['NOERROR', 'Cached'], [3]],
      [['NOERROR', 'Uncached'], [6]],
      [['NXDOMAIN', 'Uncached'], [1]],
    ]);
    expect(rows(report(rec, 'dimensions=tcp,ipVersion&sort=+tcp,+ipVersion'))).toEqual([[['0', '4'], [6]], [['0', '6'], [1]], [['1', '4'], [3]]]);
    expect(rows(report(rec, 'dimensions=querySizeBucket,responseSizeBucket&sort=-queryCount'))).toEqual([[['32-47', '48-63'], [9]], [['16-31', '96-111'], [1]]]);
    expect(rows(report(rec, 'dimensions=source'))).toEqual([[['192.0.2.0/24'], [9]], [['2001:db8:0:100::/56'], [1]]]);
    expect(rows(report(rec, 'dimensions=queryName&sort=+queryName'))).toEqual([[['nx.example.com'], [1]], [['odd.example.com'], [1]], [['www.example.com'], [8]]]);
    expect(rows(report(rec, 'dimensions=dayOfWeek'))).toEqual([[['1'], [10]]]);
    const r = report(rec, 'dimensions=queryType');
    expect(r.totals).toEqual({ queryCount: 10 });
    expect(r.min).toEqual({ queryCount: 1 });
    expect(r.max).toEqual({ queryCount: 6 });
    expect(r.rows).toBe(3);
  });

  it('counts stale answers and the flattening origin', () => {
    const rec = new AnalyticsRecorder();
    rec.record(facts('alias.example.com.', { origin: 'target.example.net', stale: true }), T0);
    rec.record(facts('alias.example.com.', { origin: 'target.example.net' }), T0);
    rec.record(facts('alias.example.com.', { cached: true }), T0);
    expect(rows(report(rec, 'dimensions=origin&metrics=queryCount,staleCount,uncachedCount&sort=+origin'))).toEqual([[[''], [1, 0, 0]], [['target.example.net'], [2, 1, 2]]]);
  });

  it('size buckets are multiples of 16 and percentiles come from log buckets within 19 %', () => {
    expect([sizeBucket(0), sizeBucket(15), sizeBucket(16), sizeBucket(31), sizeBucket(512)]).toEqual(['0-15', '0-15', '16-31', '16-31', '512-527']);
    for (const ms of [0.001, 0.05, 0.3, 1, 7.5, 120]) {
      const v = histValue(histBucket(ms));
      expect(Math.abs(v - ms) / ms).toBeLessThan(0.19);
    }
    const rec = new AnalyticsRecorder();
    // 100 queries: 1..100 ms. Median 50, 90th 90, 99th 99 (within the bucket precision).
    for (let i = 1; i <= 100; i++) rec.record(facts('www.example.com.', { ms: i }), T0);
    const r = report(rec, 'metrics=queryCount,responseTimeAvg,responseTimeMedian,responseTime90th,responseTime99th');
    const [[, m]] = rows(r) as [[string[], number[]]];
    expect(m[0]).toBe(100);
    expect(m[1]).toBe(50.5);
    expect(m[2]).toBe(+histValue(histBucket(50)).toFixed(3));
    expect(m[3]).toBe(+histValue(histBucket(90)).toFixed(3));
    expect(m[4]).toBe(+histValue(histBucket(99)).toFixed(3));
    expect(Math.abs(m[2]! - 50) / 50).toBeLessThan(0.19);
  });

  it('keeps at most max-names names per minute; heavy hitters survive a flood of new names; totals stay exact', () => {
    const rec = new AnalyticsRecorder({ maxNames: 50, maxNamesHourly: 100, maxSources: 10, maxRows: 1000, minuteRetentionS: 3600, retentionS: 86_400, maxTotalRows: 1_000_000 });
    let n = 0;
    for (let i = 0; i < 20_000; i++) {
      rec.record(facts(`r${i}.example.com.`, { rcode: 3, source: `10.${i >> 8 & 255}.${i & 255}.0/24` }), T0 + (i % 50_000));
      n++;
      if (i % 10 === 0) {
        rec.record(facts('www.example.com.'), T0);
        n++;
      }
    }
    const [b] = rec.buckets('example.com', 0, 2 ** 32) as [Bucket];
    const names = new Set([...b.entries()].map(([k]) => k));
    expect(names.size).toBeLessThanOrEqual(51);
    expect(names.has(OTHER)).toBe(true);
    expect(report(rec, 'dimensions=queryName').totals).toEqual({ queryCount: n });
    const r = report(rec, 'dimensions=queryName&limit=1&filters=queryName!=(other)');
    // www (2000 queries) is the top name; its count is low by at most the sketch's error bound.
    const [[dims, [count]]] = rows(r) as [[string[], number[]]];
    expect(dims).toEqual(['www.example.com']);
    expect(count).toBeLessThanOrEqual(2000);
    expect(count).toBeGreaterThanOrEqual(2000 - b.errorBound);
    expect(b.errorBound).toBeLessThanOrEqual(Math.ceil(n / 50));
    // Sources beyond max-sources count as (other).
    const src = rows(report(rec, 'dimensions=source&filters=queryName==www.example.com'));
    expect(src).toEqual([[['192.0.2.0/24'], [count]]]);
    expect(rows(report(rec, 'dimensions=source')).length).toBe(11);
  });

  it('caps the rows per bucket: beyond max-rows queries count under (other) name and source', () => {
    const rec = new AnalyticsRecorder({ maxNames: 1000, maxNamesHourly: 1000, maxSources: 1000, maxRows: 10, minuteRetentionS: 3600, retentionS: 86_400, maxTotalRows: 1_000_000 });
    for (let i = 0; i < 30; i++) rec.record(facts(`n${i}.example.com.`), T0);
    const [b] = rec.buckets('example.com', 0, 2 ** 32) as [Bucket];
    expect(b.rows).toBe(11);
    expect(rows(report(rec, 'dimensions=queryName&filters=queryName==(other)'))).toEqual([[['(other)'], [20]]]);
  });

  it('folds minutes into hours after the minute retention and drops what is past the retention', () => {
    const rec = new AnalyticsRecorder({ maxNames: 10, maxNamesHourly: 10, maxSources: 10, maxRows: 100, minuteRetentionS: 600, retentionS: 7200, maxTotalRows: 1_000_000 });
    for (let m = 0; m < 30; m++) rec.record(facts('www.example.com.'), T0 + m * 60_000);
    // At minute 29, minutes 0..18 started more than 10 min ago: folded into one hour bucket; 19..29 stay.
    expect(rec.bucketCount).toBe(11 + 1);
    const bt = report(rec, 'time_delta=hour&since=2026-01-05T10:00:00Z&until=2026-01-05T11:00:00Z', T0 + 3600_000, true);
    expect(bt.data).toEqual([{ dimensions: [], metrics: [[30]] }]);
    expect(bt.time_intervals).toEqual([['2026-01-05T10:00:00Z', '2026-01-05T11:00:00Z']]);
    rec.record(facts('www.example.com.'), T0 + 3 * 3600_000);
    expect(rec.bucketCount).toBe(1); // everything of 10:xx is more than 2 h old
    expect(report(rec, 'since=-600', T0 + 3 * 3600_000 + 60_000).totals).toEqual({ queryCount: 1 });
  });

  it('memory budget: past max-total-rows the oldest buckets go, whatever the retention', () => {
    const rec = new AnalyticsRecorder({ maxNames: 1000, maxNamesHourly: 1000, maxSources: 10, maxRows: 1000, minuteRetentionS: 86_400, retentionS: 86_400, maxTotalRows: 1000 });
    // 10 minutes of 300 distinct names each: 300 rows per minute bucket.
    for (let m = 0; m < 10; m++) for (let i = 0; i < 300; i++) rec.record(facts(`n${i}.example.com.`), T0 + m * 60_000);
    // Checked at each new minute: before minute 9 began, minutes 0..8 held 2700 rows; 0..5 were dropped.
    expect(rec.bucketCount).toBe(4);
    expect(rec.rowCount).toBe(1200);
    expect(rec.dropped).toBe(Math.floor(T0 / 1000) + 6 * 60);
  });

  it('bytime: per-minute series, empty intervals as 0', () => {
    const rec = new AnalyticsRecorder();
    rec.record(facts('www.example.com.'), T0);
    rec.record(facts('www.example.com.'), T0 + 1000);
    rec.record(facts('nx.example.com.', { rcode: 3 }), T0 + 120_000);
    const r = report(rec, 'dimensions=responseCode&time_delta=minute&since=2026-01-05T10:00:00Z&until=2026-01-05T10:03:00Z', T0 + 600_000, true);
    expect(r.data).toEqual([{ dimensions: ['NOERROR'], metrics: [[2, 0, 0]] }, { dimensions: ['NXDOMAIN'], metrics: [[0, 0, 1]] }]);
    expect(r.time_intervals).toEqual([
      ['2026-01-05T10:00:00Z', '2026-01-05T10:01:00Z'],
      ['2026-01-05T10:01:00Z', '2026-01-05T10:02:00Z'],
      ['2026-01-05T10:02:00Z', '2026-01-05T10:03:00Z'],
    ]);
    expect(r.max).toEqual({ queryCount: 2 });
    expect(r.min).toEqual({ queryCount: 0 });
    expect((r.query as { time_delta: string }).time_delta).toBe('minute');
  });
});

describe('analytics helpers on raw bytes', () => {
  it('reads the QNAME key lowercased from a request, and prints it back', () => {
    const q = buildQuery({ name: 'WwW.Example.COM', type: 'A', id: 1 });
    expect(requestNameKey(q)).toBe(Name.parse('www.example.com.').key);
    expect(keyToText(Name.parse('www.example.com.').key)).toBe('www.example.com');
    expect(keyToText(Name.parse('a\\.b.example.com.').key)).toBe('a\\.b.example.com');
    expect(requestNameKey(q.subarray(0, 14))).toBeUndefined();
  });

  it('source prefixes: /24 for IPv4, /56 for IPv6', () => {
    expect(sourcePrefix('192.0.2.77')).toBe('192.0.2.0/24');
    expect(sourcePrefix('2001:db8:1:23ff::1')).toBe('2001:db8:1:2300::/56');
    expect(sourcePrefix('::1')).toBe('0:0:0:0::/56');
    expect(sourcePrefix('::ffff:198.51.100.9')).toBe('198.51.100.0/24');
  });
});

describe('analytics persistence', () => {
  it('saves atomically under state-dir and restores the same report; slot 0 takes over the files of gone slots', async () => {
    const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadAnalytics, saveAnalytics } = await import('../../src/query/analytics-persist.js');
    const dir = mkdtempSync(join(tmpdir(), 'apexdns-analytics-'));
    try {
      const a = new AnalyticsRecorder();
      const b = new AnalyticsRecorder();
      for (let i = 0; i < 5; i++) a.record(facts('www.example.com.', { ms: i + 1, source: '198.51.100.0/24' }), T0 + i);
      a.record(facts('alias.example.com.', { origin: 'target.example.net', stale: true }), T0 + 61_000);
      b.record(facts('nx.example.com.', { rcode: 3 }), T0);
      await saveAnalytics(dir, 0, a);
      await saveAnalytics(dir, 1, b);
      expect(readdirSync(join(dir, 'analytics')).sort()).toEqual(['worker-0.json', 'worker-1.json']);
      const params = 'dimensions=queryName,responseCode,source,origin&metrics=queryCount,staleCount,responseTimeAvg,responseTime99th&sort=+queryName';
      const nowS = Math.floor((T0 + 3600_000) / 1000);
      const r = new AnalyticsRecorder();
      // One worker now: slot 0 restores both files and removes the orphan.
      expect(await loadAnalytics(dir, 0, 1, r, nowS)).toEqual([]);
      expect(readdirSync(join(dir, 'analytics'))).toEqual(['worker-0.json']);
      const q = parseReportQuery('example.com', new URLSearchParams(params), false, nowS);
      const req = { zone: q.zone, since: q.since, until: q.until, dimensions: q.dimensions, filters: q.filtersText, step: q.step };
      expect(buildReport(q, [aggregate(r, req)])).toEqual(buildReport(q, [aggregate(a, req), aggregate(b, req)]));
      expect(rows(buildReport(q, [aggregate(r, req)]))).toEqual([
        [['alias.example.com', 'NOERROR', '192.0.2.0/24', 'target.example.net'], [1, 1, 0.2, +histValue(histBucket(0.2)).toFixed(3)]],
        [['nx.example.com', 'NXDOMAIN', '192.0.2.0/24', ''], [1, 0, 0.2, +histValue(histBucket(0.2)).toFixed(3)]],
        [['www.example.com', 'NOERROR', '198.51.100.0/24', ''], [5, 0, 3, +histValue(histBucket(5)).toFixed(3)]],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
