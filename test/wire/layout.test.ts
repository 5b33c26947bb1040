// Tests for RDATA name layouts: compressibility, canonical lowercasing and decompression of received RDATA.

import { describe, expect, it } from 'vitest';
import {
  canonicalRdata,
  compressibleRdata,
  decompressRdata,
  decompressibleRdata,
  rdataNameLayout,
} from '../../src/wire/layout.js';
import { WireError } from '../../src/wire/message.js';
import { T, ascii, concat, hex, mxRdata, n, soaRdata, u16, u32 } from './helpers.js';

describe('compressibleRdata / decompressibleRdata (RFC 3597 §4)', () => {
  it('allows compression only for the RFC 1035 types', () => {
    for (const t of [T.NS, T.MD, T.MF, T.CNAME, T.SOA, T.MB, T.MG, T.MR, T.PTR, T.MINFO, T.MX]) {
      expect(compressibleRdata(t)).toBe(true);
    }
    for (const t of [T.A, T.TXT, T.SRV, T.RRSIG, T.NSEC, T.DNAME, T.NAPTR, T.RP, T.AFSDB, T.SVCB, T.HTTPS, 65000]) {
      expect(compressibleRdata(t)).toBe(false);
    }
  });
  it('decompresses the RFC 1035 types plus the SHOULD list and a few extras', () => {
    for (const t of [T.MX, T.SOA, T.RP, T.AFSDB, T.RT, T.SIG, T.PX, T.NXT, T.NAPTR, T.SRV, T.KX, T.DNAME, T.RRSIG, T.NSEC]) {
      expect(decompressibleRdata(t)).toBe(true);
    }
    for (const t of [T.A, T.TXT, T.SVCB, T.HTTPS, T.DS, 300]) expect(decompressibleRdata(t)).toBe(false);
  });
  it('describes layouts', () => {
    expect(rdataNameLayout(T.SOA)).toEqual([{ kind: 'name' }, { kind: 'name' }, { kind: 'fixed', len: 20 }]);
    expect(rdataNameLayout(T.NAPTR)).toEqual([
      { kind: 'fixed', len: 4 },
      { kind: 'cstr' },
      { kind: 'cstr' },
      { kind: 'cstr' },
      { kind: 'name' },
    ]);
    expect(rdataNameLayout(T.SRV)).toEqual([{ kind: 'fixed', len: 6 }, { kind: 'name' }]);
    expect(rdataNameLayout(T.A)).toBeUndefined();
  });
});

describe('canonicalRdata (RFC 4034 §6.2, RFC 6840 §5.1)', () => {
  it('lowercases MX exchange and returns a new array', () => {
    const rd = mxRdata(10, 'Mail.Example.COM.');
    const c = canonicalRdata(T.MX, rd);
    expect(c).not.toBe(rd);
    expect(hex(c)).toBe(hex(mxRdata(10, 'mail.example.com.')));
    expect(hex(rd)).toBe(hex(mxRdata(10, 'Mail.Example.COM.'))); // input untouched
  });
  it('returns the same array when nothing changes', () => {
    const rd = mxRdata(10, 'mail.example.com.');
    expect(canonicalRdata(T.MX, rd)).toBe(rd);
    const txt = new Uint8Array([3, 65, 66, 67]);
    expect(canonicalRdata(T.TXT, txt)).toBe(txt);
  });
  it('does not lowercase NSEC next names (RFC 6840 §5.1) or SVCB targets', () => {
    const nsec = concat(n('B.example.').toWire(), [0, 1, 0x40]);
    expect(canonicalRdata(T.NSEC, nsec)).toBe(nsec);
    const svcb = concat(u16(1), n('Svc.Example.').toWire());
    expect(canonicalRdata(T.SVCB, svcb)).toBe(svcb);
  });
  it('lowercases SOA both names but not the fixed fields', () => {
    const rd = soaRdata('NS1.example.', 'HostMaster.example.', 0x41424344);
    expect(hex(canonicalRdata(T.SOA, rd))).toBe(hex(soaRdata('ns1.example.', 'hostmaster.example.', 0x41424344)));
  });
  it('lowercases the RRSIG signer only', () => {
    const fixed = [0, 1, 8, 2, ...u32(3600), ...u32(2), ...u32(1), ...u16(12345)];
    const rd = concat(fixed, n('Example.').toWire(), ascii('SIGNATURE'));
    const expected = concat(fixed, n('example.').toWire(), ascii('SIGNATURE'));
    expect(hex(canonicalRdata(T.RRSIG, rd))).toBe(hex(expected));
  });
  it('lowercases NAPTR replacement but not its character-strings', () => {
    const rd = concat(u16(100), u16(10), [1, 0x55], [7, ...ascii('E2U+SIP')], [0], n('_SIP._udp.Example.').toWire());
    const expected = concat(u16(100), u16(10), [1, 0x55], [7, ...ascii('E2U+SIP')], [0], n('_sip._udp.example.').toWire());
    expect(hex(canonicalRdata(T.NAPTR, rd))).toBe(hex(expected));
  });
  it('handles A6 prefix names', () => {
    const rd = concat([64], [1, 2, 3, 4, 5, 6, 7, 8], n('Prefix.Example.').toWire());
    const expected = concat([64], [1, 2, 3, 4, 5, 6, 7, 8], n('prefix.example.').toWire());
    expect(hex(canonicalRdata(T.A6, rd))).toBe(hex(expected));
    const noName = concat([0], new Uint8Array(16));
    expect(canonicalRdata(T.A6, noName)).toBe(noName);
  });
  it('rejects malformed RDATA of a listed type', () => {
    expect(() => canonicalRdata(T.MX, new Uint8Array([0, 10, 4, 0x6d]))).toThrow(WireError);
    expect(() => canonicalRdata(T.SOA, concat(soaRdata('a.', 'b.', 1), [0]))).toThrow(WireError);
  });
});

describe('decompressRdata', () => {
  // 12 zero header octets, then example.com at offset 12.
  const header = new Uint8Array(12);
  const base = concat(header, n('example.com.').toWire()); // 12..24
  it('expands SOA names with pointers', () => {
    const rd = concat([3, ...ascii('ns1'), 0xc0, 12], [10, ...ascii('hostmaster'), 0xc0, 12], u32(2024010101), u32(7200), u32(3600), u32(1209600), u32(300));
    const msg = concat(base, rd);
    const out = decompressRdata(T.SOA, msg, base.length, rd.length);
    expect(hex(out)).toBe(hex(soaRdata('ns1.example.com.', 'hostmaster.example.com.', 2024010101)));
  });
  it('expands MX with a pointer to a pointer', () => {
    // offset 25: mail + ptr(12) ; offset 32: MX rdata pref 5 + "smtp" + ptr(25)
    const second = concat([4, ...ascii('mail'), 0xc0, 12]);
    const rd = concat(u16(5), [4, ...ascii('smtp'), 0xc0, 25]);
    const msg = concat(base, second, rd);
    const out = decompressRdata(T.MX, msg, base.length + second.length, rd.length);
    expect(hex(out)).toBe(hex(mxRdata(5, 'smtp.mail.example.com.')));
  });
  it('copies RDATA of types without decompression', () => {
    const rd = [0xc0, 12, 1, 2];
    const msg = concat(base, rd);
    const out = decompressRdata(T.SVCB, msg, base.length, 4);
    expect([...out]).toEqual(rd);
  });
  it('rejects a pointer to itself (a loop) and forward pointers', () => {
    const self = concat(header, u16(0), [0xc0, 14]);
    expect(() => decompressRdata(T.NS, self, 14, 2)).toThrow(WireError);
    try {
      decompressRdata(T.NS, self, 14, 2);
    } catch (e) {
      expect((e as WireError).kind).toBe('bad-pointer');
    }
    // two pointers pointing at each other: 12 → 14, 14 → 12
    const pair = concat(header, [0xc0, 14, 0xc0, 12]);
    expect(() => decompressRdata(T.NS, pair, 12, 2)).toThrow(WireError);
    expect(() => decompressRdata(T.NS, pair, 14, 2)).toThrow(WireError);
    // out of range
    const far = concat(header, [0xc0, 0xff]);
    expect(() => decompressRdata(T.CNAME, far, 12, 2)).toThrow(WireError);
  });
  it('rejects RDATA not matching the layout', () => {
    const msg = concat(base, u16(5), [4, ...ascii('mail'), 0xc0, 12], [0]);
    expect(() => decompressRdata(T.MX, msg, base.length, 10)).toThrow(/longer/);
    expect(() => decompressRdata(T.MX, msg, base.length, 1)).toThrow(WireError);
    expect(() => decompressRdata(T.MX, msg, base.length, 100)).toThrow(WireError);
  });
  it('rejects expanded names longer than 255 octets', () => {
    // a 63-octet label repeated via pointers: each level adds 64 octets
    const label = [63, ...new Array<number>(63).fill(0x61)];
    const parts: number[] = [...header, ...label, 0]; // name at 12
    let prev = 12;
    for (let i = 0; i < 4; i++) {
      const at = parts.length;
      parts.push(...label, 0xc0 | (prev >> 8), prev & 0xff);
      prev = at;
    }
    const msg = new Uint8Array(parts);
    try {
      decompressRdata(T.NS, msg, prev, 66);
      expect.unreachable();
    } catch (e) {
      expect((e as WireError).kind).toBe('name-too-long');
    }
  });
});
