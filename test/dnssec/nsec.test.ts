// Tests for src/dnssec/nsec.ts: RFC 9824 compact denial NSEC RDATA and the RFC 4471 successor for long names.

import { describe, expect, it } from 'vitest';
import { compactNxdomainNsec, nodataNsec, nsecRdata, nsecSuccessor } from '../../src/dnssec/nsec.js';
import { RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { compareCanonical } from '../helpers/canonical.js';
import { toHex } from './vectors.js';

const A63 = 'a'.repeat(63);
/** A name `<first>.<x * m>.A63.A63.A63.` whose wire length is exactly `wire`. */
function longName(first: string, wire: number): Name {
  const m = wire - 1 - 192 - (first.length + 1) - 1;
  return new Name([first, 'x'.repeat(m), A63, A63, A63]);
}

describe('compactNxdomainNsec (RFC 9824 §3.1)', () => {
  it('a.example.com. NSEC \\000.a.example.com. RRSIG NSEC NXNAME', () => {
    const r = compactNxdomainNsec(Name.parse('a.example.com.'));
    expect(toHex(r)).toBe('0100' + '0161' + '076578616d706c65' + '03636f6d' + '00' + '0011' + '0000000000' + '03' + '00'.repeat(10) + '80');
  });
  it('lowercases the next name so the RDATA is independent of query case', () => {
    expect(toHex(compactNxdomainNsec(Name.parse('A.Example.COM.')))).toBe(toHex(compactNxdomainNsec(Name.parse('a.example.com.'))));
  });
});

describe('nodataNsec (RFC 9824 §3.2)', () => {
  it('bitmap = types present + RRSIG + NSEC', () => {
    const r = nodataNsec(Name.parse('www.example.'), [RRType.A, RRType.AAAA]);
    expect(toHex(r)).toBe('0100' + '03777777' + '076578616d706c65' + '00' + '0006' + '400000080003'); // A: octet 0 0x40, AAAA (28): octet 3 0x08, RRSIG+NSEC: octet 5 0x03
  });
  it('empty non-terminal: RRSIG NSEC only', () => {
    const r = nodataNsec(Name.parse('ent.example.'), []);
    expect(toHex(r)).toBe('0100' + '03656e74' + '076578616d706c65' + '00' + '0006' + '000000000003');
  });
  it('nsecRdata with explicit next name', () => {
    expect(toHex(nsecRdata(Name.parse('b.'), [RRType.NS]))).toBe('016200' + '000120');
  });
});

describe('nsecSuccessor (RFC 4471 §3.1.2)', () => {
  it('prepends \\000 when it fits', () => {
    const n = longName('abc', 253);
    const s = nsecSuccessor(n);
    expect(s.wireLength).toBe(255);
    expect(s.labels[0]).toBe('\0');
    expect(s.parent().equals(n)).toBe(true);
  });
  it('254 octets: appends a zero octet to the first label', () => {
    const s = nsecSuccessor(longName('abc', 254));
    expect(s.labels[0]).toBe('abc\0');
    expect(s.wireLength).toBe(255);
  });
  it('255 octets: increments the last octet of the first label', () => {
    expect(nsecSuccessor(longName('abc', 255)).labels[0]).toBe('abd');
    expect(nsecSuccessor(longName('ABC', 255)).labels[0]).toBe('abd');
    expect(nsecSuccessor(longName('ab\xff\xff', 255)).labels[0]).toBe('ac');
    expect(nsecSuccessor(longName('a@', 255)).labels[0]).toBe('a[');
  });
  it('255 octets, first label all 0xff: moves to the parent', () => {
    const n = longName('\xff', 255);
    const s = nsecSuccessor(n);
    expect(s.labels.length).toBe(4);
    expect(s.labels[0]).toBe(n.labels[1] + '\0');
  });
  it('always returns a name that sorts after the input', () => {
    for (const n of [Name.parse('a.example.'), longName('abc', 254), longName('abc', 255), longName('\xff', 255), longName('a@', 255)]) {
      expect(compareCanonical(n, nsecSuccessor(n))).toBeLessThan(0);
    }
  });
});
