// Tests for TTL text parsing (plain seconds, BIND unit suffixes, limits).
import { describe, expect, it } from 'vitest';
import { MAX_TTL, parseTtl } from '../../src/zone/ttl.js';

describe('parseTtl', () => {
  it('parses plain seconds', () => {
    expect(parseTtl('0')).toBe(0);
    expect(parseTtl('300')).toBe(300);
    expect(parseTtl('0300')).toBe(300);
    expect(parseTtl('4294967295')).toBe(4294967295);
  });
  it('parses unit forms, case-insensitive, summing repeated units', () => {
    expect(parseTtl('1h30m')).toBe(5400);
    expect(parseTtl('1H30M')).toBe(5400);
    expect(parseTtl('2w')).toBe(1209600);
    expect(parseTtl('2W')).toBe(1209600);
    expect(parseTtl('1d')).toBe(86400);
    expect(parseTtl('1D')).toBe(86400);
    expect(parseTtl('45s')).toBe(45);
    expect(parseTtl('1w2d3h4m5s')).toBe(604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
    expect(parseTtl('1h1h')).toBe(7200);
  });
  it('rejects malformed text like BIND', () => {
    for (const t of ['', 'h', '1x', '1h30', '-1', '+5', '1.5', ' 1', '1 ', 'ttl', '1hh', '0x10']) {
      expect(parseTtl(t), t).toBeUndefined();
    }
  });
  it('rejects values above 2^32-1', () => {
    expect(parseTtl('4294967296')).toBeUndefined();
    expect(parseTtl('99999999999999999999')).toBeUndefined();
    expect(parseTtl('7102w')).toBeUndefined(); // 4295289600
    expect(parseTtl('7101w')).toBe(7101 * 604800);
  });
  it('exports the RFC 2181 limit', () => {
    expect(MAX_TTL).toBe(2147483647);
  });
});
