// The analytics report's parameters: the filter grammar of seed R04 (operators, `;` binding tighter than `,`),
// metrics/dimensions/sort/limit/time checks with their 400 messages, and the zone_id function.

import { describe, expect, it } from 'vitest';
import { filterHolds, parseFilters, parseReportQuery, ReportError, type Dimension } from '../../src/http/analytics.js';
import { resolveZoneParam, zoneId } from '../../src/http/zone-id.js';
import { createHash } from 'node:crypto';

const row = (v: Partial<Record<Dimension, string>>) => (d: Dimension): string => v[d] ?? '';

describe('analytics filters', () => {
  it('parses terms with each operator', () => {
    expect(parseFilters('responseCode==NOERROR')).toEqual([[{ dimension: 'responseCode', op: '==', value: 'NOERROR' }]]);
    for (const op of ['==', '!=', '>', '<', '>=', '<='] as const) {
      expect(parseFilters(`ipVersion${op}4`)).toEqual([[{ dimension: 'ipVersion', op, value: '4' }]]);
    }
    expect(parseFilters(' queryName == "a,b;c.example.com" ')).toEqual([[{ dimension: 'queryName', op: '==', value: 'a,b;c.example.com' }]]);
    expect(parseFilters('')).toEqual([]);
  });

  it('AND (;) binds tighter than OR (,)', () => {
    const f = parseFilters('queryType==A;responseCode==NXDOMAIN,queryType==AAAA');
    expect(f).toEqual([
      [{ dimension: 'queryType', op: '==', value: 'A' }, { dimension: 'responseCode', op: '==', value: 'NXDOMAIN' }],
      [{ dimension: 'queryType', op: '==', value: 'AAAA' }],
    ]);
    expect(filterHolds(f, row({ queryType: 'A', responseCode: 'NXDOMAIN' }))).toBe(true);
    expect(filterHolds(f, row({ queryType: 'A', responseCode: 'NOERROR' }))).toBe(false);
    expect(filterHolds(f, row({ queryType: 'AAAA', responseCode: 'NOERROR' }))).toBe(true);
  });

  it('evaluates each operator; numbers and size buckets compare numerically, codes case-insensitively', () => {
    const r = row({ ipVersion: '6', querySizeBucket: '32-47', responseCode: 'NOERROR', queryName: 'www.example.com' });
    const holds = (text: string): boolean => filterHolds(parseFilters(text), r);
    expect([holds('ipVersion==6'), holds('ipVersion!=6'), holds('ipVersion>4'), holds('ipVersion<4'), holds('ipVersion>=6'), holds('ipVersion<=5')]).toEqual([true, false, true, false, true, false]);
    expect([holds('querySizeBucket>16-31'), holds('querySizeBucket<=16'), holds('querySizeBucket>=32')]).toEqual([true, false, true]);
    expect([holds('responseCode==noerror'), holds('queryName==WWW.example.com.'), holds('queryName!=www.example.com')]).toEqual([true, true, false]);
  });

  it('rejects bad input with a message', () => {
    const msg = (text: string): string => {
      try {
        parseFilters(text);
      } catch (e) {
        expect(e).toBeInstanceOf(ReportError);
        return (e as Error).message;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(msg('responseCode=NOERROR')).toBe('filters: "responseCode=NOERROR" is not "dimension operator value" (operators == != >= <= > <)');
    expect(msg('colour==red')).toMatch(/^filters: unknown dimension "colour"/);
    expect(msg('queryType==A;')).toBe('filters: empty term around ";"');
    expect(msg('queryType==A,')).toBe('filters: empty alternative around ","');
    expect(msg('queryType==')).toBe('filters: "queryType==" has no value');
    expect(msg('queryName=="abc')).toBe('filters: unterminated " quote');
  });
});

describe('analytics report parameters', () => {
  const NOW = Date.UTC(2026, 0, 5, 12, 0, 0) / 1000;
  const parse = (p: string, bytime = false) => parseReportQuery('example.com', new URLSearchParams(p), bytime, NOW);
  const err = (p: string, bytime = false): string => {
    try {
      parse(p, bytime);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`accepted ${p}`);
  };

  it('defaults: queryCount, no dimensions, the last 6 hours, limit 100000', () => {
    const q = parse('');
    expect([q.metrics, q.dimensions, q.until - q.since, q.until, q.limit]).toEqual([['queryCount'], [], 6 * 3600, NOW, 100_000]);
  });

  it('reads ISO and relative times, sort, limit and time_delta', () => {
    const q = parse('metrics=queryCount,responseTimeAvg&dimensions=queryName&since=-60&until=2026-01-05T12:00:00Z&sort=-queryCount,+queryName&limit=5&time_delta=minute', true);
    expect([q.since, q.until, q.limit, q.step, q.sort]).toEqual([NOW - 3600, NOW, 5, 60, [{ key: 'queryCount', desc: true }, { key: 'queryName', desc: false }]]);
  });

  it('answers bad parameters with messages', () => {
    expect(err('metrics=queries')).toMatch(/^metrics: unknown metric "queries"/);
    expect(err('dimensions=coloName')).toMatch(/^dimensions: unknown dimension "coloName"/);
    expect(err('sort=-responseTimeAvg')).toBe('sort: "responseTimeAvg" is not one of the requested metrics or dimensions');
    expect(err('limit=0')).toBe('limit: 0 is not an integer in 1..100000');
    expect(err('since=yesterday')).toMatch(/^since: "yesterday" is not an ISO 8601 time/);
    expect(err('since=-10&until=-20')).toBe('since must be before until');
    expect(err('time_delta=fortnight', true)).toMatch(/^time_delta: "fortnight" is not one of/);
  });
});

describe('zone_id', () => {
  it('is the first 32 hex digits of SHA-256 of the lower-case name without the trailing dot; the name works too', () => {
    const id = createHash('sha256').update('example.com').digest('hex').slice(0, 32);
    expect(zoneId('Example.COM.')).toBe(id);
    expect(resolveZoneParam(id, ['example.com.', 'example.net.'])).toBe('example.com');
    expect(resolveZoneParam('example.net', ['example.com.', 'example.net.'])).toBe('example.net');
    expect(resolveZoneParam('0'.repeat(32), ['example.com.'])).toBeUndefined();
  });
});
