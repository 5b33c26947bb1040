// Tests for src/dnssec/canonical.ts: RFC 4034 §6 canonical RR order/form and the RFC 4035 §5.3.2 wildcard owner.

import { describe, expect, it } from 'vitest';
import { canonicalRRset, rrsigLabels, signedOwnerKey, sortedCanonicalRdata } from '../../src/dnssec/canonical.js';
import { RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { hex, toHex } from './vectors.js';

const nameWire = (s: string): Uint8Array => Name.parse(s).toWire();
function mx(pref: number, host: string): Uint8Array {
  const n = nameWire(host);
  const out = new Uint8Array(2 + n.length);
  out[0] = pref >> 8;
  out[1] = pref & 0xff;
  out.set(n, 2);
  return out;
}

describe('canonical RRset body', () => {
  it('MX with mixed case, random order and a case-only duplicate', () => {
    const set = canonicalRRset({
      owner: Name.parse('Www.Example.COM.'),
      type: RRType.MX,
      class: 1,
      ttl: 3600,
      rdata: [mx(10, 'MAIL.example.com.'), mx(5, 'b.Example.com.'), mx(10, 'mail.EXAMPLE.com.'), mx(5, 'a.example.com.')],
    });
    const owner = '03777777076578616d706c6503636f6d00';
    const head = '000f 0001 00000e10';
    const expected =
      `${owner} ${head} 0011 0005 0161 076578616d706c6503636f6d00` +
      `${owner} ${head} 0011 0005 0162 076578616d706c6503636f6d00` +
      `${owner} ${head} 0014 000a 046d61696c 076578616d706c6503636f6d00`;
    expect(toHex(set.body)).toBe(toHex(hex(expected)));
    expect(set.labels).toBe(3);
    expect(set.ttl).toBe(3600);
  });

  it('NS, SOA rdata names are lowercased (RFC 4034 §6.2 item 3)', () => {
    const soa = new Uint8Array([...nameWire('NS1.Example.'), ...nameWire('Host.Example.'), ...new Uint8Array(20).fill(1)]);
    const [c] = sortedCanonicalRdata(RRType.SOA, [soa]);
    expect(toHex(c!)).toBe(toHex(new Uint8Array([...nameWire('ns1.example.'), ...nameWire('host.example.'), ...new Uint8Array(20).fill(1)])));
    const ns = sortedCanonicalRdata(RRType.NS, [nameWire('B.example.'), nameWire('a.EXAMPLE.')]);
    expect(ns.map(toHex)).toEqual([toHex(nameWire('a.example.')), toHex(nameWire('b.example.'))]);
  });

  it('A and TXT: sorted as left-justified octet strings, duplicates removed, TXT case kept', () => {
    const a = sortedCanonicalRdata(RRType.A, [hex('c0000202'), hex('0a000001'), hex('c0000201'), hex('0a000001')]);
    expect(a.map(toHex)).toEqual(['0a000001', 'c0000201', 'c0000202']);
    const txt = sortedCanonicalRdata(RRType.TXT, [hex('0141'), hex('026161'), hex('0161'), hex('0141')]);
    // "\x01A" < "\x01a" < "\x02aa": the length octet sorts first, case is data
    expect(txt.map(toHex)).toEqual(['0141', '0161', '026161']);
  });

  it('short RRset bodies are their own cache identity; long ones are hashed', () => {
    const small = canonicalRRset({ owner: Name.parse('a.example.'), type: RRType.A, class: 1, ttl: 60, rdata: [hex('c0000201')] });
    expect(small.bodyKey).toBe('r' + Buffer.from(small.body).toString('latin1'));
    const big = canonicalRRset({ owner: Name.parse('a.example.'), type: RRType.TXT, class: 1, ttl: 60, rdata: [new Uint8Array(200).fill(0x41)] });
    expect(big.bodyKey.length).toBe(33);
    expect(big.bodyKey[0]).toBe('h');
  });
});

describe('labels and wildcard owners', () => {
  it('RRSIG labels do not count a leading * (RFC 4034 §3.1.3)', () => {
    expect(rrsigLabels(Name.parse('*.a.example.'))).toBe(2);
    expect(rrsigLabels(Name.parse('www.example.'))).toBe(2);
    expect(rrsigLabels(Name.root)).toBe(0);
  });
  it('wildcard expansion signs over *.<closest encloser> (RFC 4035 §5.3.2)', () => {
    const q = Name.parse('X.Y.Wild.Example.');
    expect(signedOwnerKey(q, 4)).toBe(Name.parse('x.y.wild.example.').key);
    expect(signedOwnerKey(q, 2)).toBe(Name.parse('*.wild.example.').key);
    const set = canonicalRRset({ owner: q, type: RRType.A, class: 1, ttl: 300, rdata: [hex('c0000201')] }, 2);
    expect(toHex(set.body)).toBe(toHex(hex('012a 0477696c64 076578616d706c65 00 0001 0001 0000012c 0004 c0000201')));
    expect(set.labels).toBe(2);
    expect(() => signedOwnerKey(q, 5)).toThrow(/exceeds/);
  });
});
