// Unit tests of the RDATA codecs: exact wire bytes, exact BIND-style text, and error token positions per type.

import { describe, expect, it } from 'vitest';
import { RRType as T } from '../../src/wire/constants.js';
import { RdataError } from '../../src/wire/rdata-api.js';
import {
  ipv4FromRdata, ipv6FromRdata, rdataFromText, rdataTargetName, rdataToText, rdataValidateWire, soaFields,
  soaWithSerial,
} from '../../src/wire/rdata/index.js';
import { hex, origin, toks } from './helpers.js';

const wire = (type: number, text: string): string => hex(rdataFromText(type, toks(text), origin));
const text = (type: number, t: string): string => rdataToText(type, rdataFromText(type, toks(t), origin));
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

/** The RdataError thrown for this input, as [tokenIndex, message]. */
function err(type: number, t: string): [number, string] {
  try {
    rdataFromText(type, toks(t), origin);
  } catch (e) {
    if (e instanceof RdataError) return [e.tokenIndex, e.message];
    throw e;
  }
  throw new Error(`no error for ${t}`);
}

describe('A', () => {
  it('encodes a dotted quad', () => {
    expect(wire(T.A, '192.0.2.1')).toBe('c0000201');
    expect(text(T.A, '10.0.0.255')).toBe('10.0.0.255');
  });
  it('rejects short, leading-zero, out-of-range and extra tokens', () => {
    expect(err(T.A, '1.2.3')[0]).toBe(0);
    expect(err(T.A, '01.2.3.4')[0]).toBe(0);
    expect(err(T.A, '1.2.3.256')[0]).toBe(0);
    expect(err(T.A, '1.2.3.4 5')).toEqual([1, 'too many fields in RDATA']);
    expect(err(T.A, '')).toEqual([0, 'missing IPv4 address']);
  });
});

describe('AAAA', () => {
  it('accepts RFC 4291 forms and prints RFC 5952', () => {
    expect(wire(T.AAAA, '2001:DB8::1')).toBe('20010db8000000000000000000000001');
    expect(text(T.AAAA, '2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(text(T.AAAA, '::ffff:192.0.2.1')).toBe('::ffff:192.0.2.1');
    expect(text(T.AAAA, '0:0:0:0:0:0:0:0')).toBe('::');
    expect(text(T.AAAA, '1::')).toBe('1::');
    expect(text(T.AAAA, '64:ff9b::192.0.2.33')).toBe('64:ff9b::c000:221');
  });
  it('rejects malformed addresses', () => {
    expect(err(T.AAAA, '1::2::3')[0]).toBe(0);
    expect(err(T.AAAA, '1:2:3:4:5:6:7')[0]).toBe(0);
    expect(err(T.AAAA, '12345::')[0]).toBe(0);
    expect(err(T.AAAA, '1:2:3:4:5:6:7:8:9')[0]).toBe(0);
  });
});

describe('names and SOA', () => {
  it('completes relative names with the origin', () => {
    expect(wire(T.NS, 'ns1')).toBe('036e7331076578616d706c6503636f6d00');
    expect(text(T.CNAME, '@')).toBe('example.com.');
    expect(text(T.MX, '10 mail')).toBe('10 mail.example.com.');
  });
  it('accepts TTL-style SOA timers and exposes the fields', () => {
    const soa = rdataFromText(T.SOA, toks('ns1 hostmaster ( 2024010101 1h 15m 2w 1d1s )'), origin);
    expect(rdataToText(T.SOA, soa)).toBe('ns1.example.com. hostmaster.example.com. 2024010101 3600 900 1209600 86401');
    const f = soaFields(soa);
    expect([f.mname.toString(), f.rname.toString(), f.serial, f.refresh, f.retry, f.expire, f.minimum]).toEqual([
      'ns1.example.com.', 'hostmaster.example.com.', 2024010101, 3600, 900, 1209600, 86401,
    ]);
    expect(soaFields(soaWithSerial(soa, 4294967295)).serial).toBe(4294967295);
    expect(soaFields(soa).serial).toBe(2024010101);
  });
  it('reports the offending SOA token', () => {
    expect(err(T.SOA, 'a b 1 1x 2 3 4')[0]).toBe(3);
    expect(err(T.SOA, 'a b 4294967296 1 2 3 4')[0]).toBe(2);
    expect(err(T.SOA, 'a b 1 2 3 4')).toEqual([6, 'missing time value']);
    expect(err(T.NS, 'a..b')[0]).toBe(0);
  });
});

describe('TXT / SPF / HINFO / NAPTR', () => {
  it('encodes character-strings with escapes', () => {
    expect(wire(T.TXT, '"a b" c\\065 "\\"\\\\"')).toBe('03612062' + '026341' + '02225c');
    expect(wire(T.TXT, '""')).toBe('00');
    expect(text(T.TXT, '"x\\010y" "é"')).toBe('"x\\010y" "\\233"');
    expect(text(T.SPF, 'v=spf1 "-all"')).toBe('"v=spf1" "-all"');
    expect(text(T.HINFO, 'PC "Linux os"')).toBe('"PC" "Linux os"');
  });
  it('rejects strings over 255 octets, bad escapes and missing strings', () => {
    expect(err(T.TXT, `ok "${'x'.repeat(256)}"`)[0]).toBe(1);
    expect(err(T.TXT, '"a\\25"')[0]).toBe(0);
    expect(err(T.TXT, '')[0]).toBe(0);
    expect(err(T.HINFO, 'a')).toEqual([1, 'missing character-string']);
    expect(err(T.HINFO, 'a b c')[0]).toBe(2);
  });
  it('NAPTR', () => {
    expect(wire(T.NAPTR, '100 10 "S" "SIP+D2U" "" .')).toBe('0064000a0153075349502b4432550000');
  });
});

describe('SRV / CAA / URI / SSHFP / TLSA', () => {
  it('SRV', () => {
    expect(wire(T.SRV, '1 2 5060 .')).toBe('0001000213c400');
    expect(err(T.SRV, '1 2 65536 .')[0]).toBe(2);
  });
  it('CAA keeps tag case, quotes the value', () => {
    expect(wire(T.CAA, '128 issue "ca.example"')).toBe('80056973737565' + Buffer.from('ca.example').toString('hex'));
    expect(text(T.CAA, '0 Issue x\\;y')).toBe('0 Issue "x;y"');
    expect(err(T.CAA, '0 is-sue "x"')[0]).toBe(1);
    expect(err(T.CAA, '256 issue "x"')[0]).toBe(0);
  });
  it('URI', () => {
    expect(wire(T.URI, '1 2 "a"')).toBe('0001000261');
    expect(text(T.URI, '1 2 "a\\"b"')).toBe('1 2 "a\\"b"');
  });
  it('hex fields: split tokens, uppercase, 56-char chunks', () => {
    expect(wire(T.SSHFP, '1 1 0a0B 0c')).toBe('01010a0b0c');
    expect(text(T.TLSA, `3 1 1 ${'ab'.repeat(32)}`)).toBe(`3 1 1 ${'AB'.repeat(28)} ${'AB'.repeat(4)}`);
    expect(err(T.SSHFP, '1 1 abc')[0]).toBe(2);
    expect(err(T.TLSA, '3 1 1')).toEqual([3, 'missing hex data']);
  });
});

describe('DNSSEC types', () => {
  it('DS digest lengths, mnemonic algorithms and the CDS delete form', () => {
    expect(wire(T.CDS, '0 0 0 00')).toBe('0000000000');
    expect(wire(T.DS, `1 ECDSAP256SHA256 2 ${'00'.repeat(32)}`)).toBe('00010d02' + '00'.repeat(32));
    expect(err(T.DS, '1 8 2 aabb')[0]).toBe(3);
    expect(text(T.DS, '1 8 3 aabb')).toBe('1 8 3 AABB');
  });
  it('DNSKEY base64 over tokens and the CDNSKEY delete form', () => {
    expect(wire(T.CDNSKEY, '0 3 0 AA==')).toBe('0000030000');
    expect(wire(T.DNSKEY, '256 3 13 AQID BA==')).toBe('0100030d01020304');
    expect(err(T.DNSKEY, '256 3 13 AwEAAa==')[0]).toBe(3);
    expect(err(T.DNSKEY, '256 3 13 A')[0]).toBe(3);
  });
  it('RRSIG times as dates or seconds', () => {
    const w = wire(T.RRSIG, 'A 13 2 3600 20240101000000 1600000000 12345 example.com. AAAA');
    expect(w).toBe('00010d0200000e10' + '65920080' + '5f5e1000' + '3039' + '076578616d706c6503636f6d00' + '000000');
    expect(text(T.RRSIG, 'TYPE65280 13 2 60 20240101000000 20231201000000 1 example.com. AAAA')).toBe(
      'TYPE65280 13 2 60 20240101000000 20231201000000 1 example.com. AAAA',
    );
    expect(err(T.RRSIG, 'A 13 2 3600 20241301000000 0 1 example.com. AAAA')[0]).toBe(4);
    expect(err(T.RRSIG, 'BOGUS 13 2 3600 0 0 1 example.com. AAAA')[0]).toBe(0);
  });
  it('NSEC / NSEC3 / NSEC3PARAM', () => {
    expect(wire(T.NSEC, 'a. A MX RRSIG NSEC TYPE1234')).toBe('016100' + '0006400100000003' + '041b' + '00'.repeat(26) + '20');
    expect(text(T.NSEC, 'a. TYPE1234 A')).toBe('a. A TYPE1234');
    expect(err(T.NSEC, 'a.')).toEqual([1, 'missing type bit map']);
    expect(err(T.NSEC, 'a. A FOO')[0]).toBe(2);
    expect(wire(T.NSEC3, '1 1 12 aabb 2vptu5timamqttgl4luu9kg21e0aor3s A')).toBe(
      '0101000c02aabb14' + '17f3df17b2b2adaef615257de4d2020b80ac6c7c' + '000140',
    );
    expect(text(T.NSEC3, '1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3s')).toBe('1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S');
    expect(err(T.NSEC3, '1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3=')[0]).toBe(4);
    expect(err(T.NSEC3, '1 0 0 xyz 2vptu5timamqttgl4luu9kg21e0aor3s')[0]).toBe(3);
    expect(wire(T.NSEC3PARAM, '1 0 0 -')).toBe('0100000000');
    expect(text(T.NSEC3PARAM, '1 0 10 aabb')).toBe('1 0 10 AABB');
  });
  it('ZONEMD digest length rules', () => {
    expect(wire(T.ZONEMD, '7 1 240 000102030405060708090a0b')).toBe('0000000701f0000102030405060708090a0b');
    expect(err(T.ZONEMD, '7 1 1 000102030405060708090a0b')[0]).toBe(3);
    expect(err(T.ZONEMD, '7 1 240 00')[0]).toBe(3);
  });
  it('CERT mnemonics', () => {
    expect(wire(T.CERT, 'PGP 7 RSASHA256 AAAA')).toBe('0003000708000000');
    expect(text(T.CERT, '1 0 3 AAAA')).toBe('PKIX 0 DSA AAAA');
    expect(err(T.CERT, 'NOPE 0 0 AAAA')[0]).toBe(0);
  });
});

describe('LOC (RFC 1876)', () => {
  it('encodes with defaults', () => {
    // version 0, size 1m=0x12, hp 10000m=0x16, vp 10m=0x13, lat 42N, lon 71W, alt 0m
    expect(wire(T.LOC, '42 N 71 W 0m')).toBe('00121613' + '89032100' + '70c3da80' + '00989680');
    expect(text(T.LOC, '52 22 23 N 4 53 32 E -2m 0 10000 10')).toBe('52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m');
    expect(text(T.LOC, '0 0 0.001 S 0 0 0.5 W 1.5m 1.5m 0.1m 1234567m')).toBe('0 0 0.001 S 0 0 0.500 W 1.50m 1m 0.10m 1000000m');
  });
  it('rejects bad coordinates', () => {
    expect(err(T.LOC, '91 N 0 E 0')[0]).toBe(0);
    expect(err(T.LOC, '10 60 N 0 E 0')[0]).toBe(1);
    expect(err(T.LOC, '10 X 0 E 0')[0]).toBe(1);
    expect(err(T.LOC, '10 N 0 E')).toEqual([4, 'missing altitude']);
    expect(err(T.LOC, '10 N 0 E 0 1 1 1 1')[0]).toBe(8);
  });
});

describe('SVCB / HTTPS (RFC 9460)', () => {
  it('sorts params by key and encodes values', () => {
    expect(wire(T.HTTPS, '1 . port=443 alpn=h2,h3')).toBe('000100' + '00010006026832026833' + '0003000201bb');
    expect(wire(T.SVCB, '0 foo.')).toBe('000003666f6f00');
    expect(text(T.SVCB, '1 . ipv6hint=2001:db8:0::1 mandatory=ipv6hint ech=AAEC')).toBe(
      '1 . mandatory=ipv6hint ech=AAEC ipv6hint=2001:db8::1',
    );
    expect(text(T.SVCB, '1 . alpn="a\\\\,b" key65000=x key7="/{?dns}"')).toBe('1 . alpn="a\\\\,b" key7="/{?dns}" key65000="x"');
  });
  it('rejects duplicates, unknown keys, missing mandatory keys and AliasMode params', () => {
    expect(err(T.SVCB, '1 . port=1 port=2')[0]).toBe(3);
    expect(err(T.SVCB, '1 . foo=1')[0]).toBe(2);
    expect(err(T.SVCB, '1 . mandatory=alpn port=1')[0]).toBe(2);
    expect(err(T.SVCB, '1 . no-default-alpn')[0]).toBe(2);
    expect(err(T.SVCB, '1 . mandatory=port,port port=1')[0]).toBe(2);
    expect(err(T.SVCB, '0 . alpn=h2')).toEqual([2, 'too many fields in RDATA']);
    expect(err(T.SVCB, '1 . key1=h2')[0]).toBe(2);
    expect(err(T.SVCB, '1 . dohpath=/q')[0]).toBe(2);
    expect(err(T.SVCB, '1 . key065=x')[0]).toBe(2);
  });
  it('validates wire order', () => {
    expect(() => rdataValidateWire(T.SVCB, fromHex('000100' + '0003000201bb' + '00010003026832'))).toThrow(RdataError);
    expect(() => rdataValidateWire(T.SVCB, fromHex('000100' + '000000020003'))).toThrow(/mandatory key port is missing/);
  });
  it('target names', () => {
    expect(rdataTargetName(T.SVCB, rdataFromText(T.SVCB, toks('1 .'), origin))).toBeUndefined();
    expect(rdataTargetName(T.HTTPS, rdataFromText(T.HTTPS, toks('0 cdn.example.net.'), origin))?.toString()).toBe('cdn.example.net.');
    expect(rdataTargetName(T.SRV, rdataFromText(T.SRV, toks('1 2 3 sip'), origin))?.toString()).toBe('sip.example.com.');
    expect(rdataTargetName(T.MX, rdataFromText(T.MX, toks('1 mx'), origin))?.toString()).toBe('mx.example.com.');
    expect(rdataTargetName(T.A, fromHex('01020304'))).toBeUndefined();
  });
});

describe('RFC 3597 generic syntax', () => {
  it('parses \\# for unknown and known types', () => {
    expect(wire(65280, '\\# 3 ab cdef')).toBe('abcdef');
    expect(wire(65280, '\\# 0')).toBe('');
    expect(text(T.A, '\\# 4 c0000201')).toBe('192.0.2.1');
    expect(rdataToText(65280, fromHex('00ff'))).toBe('\\# 2 00FF');
    expect(rdataToText(65280, new Uint8Array(0))).toBe('\\# 0');
  });
  it('checks the length and known-type wire format', () => {
    expect(err(65280, '\\# 3 abcd')[0]).toBe(3);
    expect(err(65280, '\\# 1 abcd')[0]).toBe(1);
    expect(err(65280, '\\# 2 abc')[0]).toBe(2);
    expect(err(T.A, '\\# 3 c00002')[0]).toBe(0);
    expect(err(65280, 'abcd')[0]).toBe(0);
  });
});

describe('other types', () => {
  it('IPSECKEY, APL, EUI, NID/L32/L64', () => {
    expect(wire(T.IPSECKEY, '10 1 2 192.0.2.38 AQID')).toBe('0a0102c0000226010203');
    expect(text(T.IPSECKEY, '10 3 0 gw AAAA')).toBe('10 3 0 gw.example.com. AAAA');
    expect(wire(T.APL, '1:192.168.32.0/21 !2:ff00::/8')).toBe('00011503c0a820' + '00020881ff');
    expect(text(T.APL, '')).toBe('');
    expect(text(T.EUI48, '00-00-5E-00-53-2a')).toBe('00-00-5e-00-53-2a');
    expect(text(T.NID, '10 0014:4fff:ff20:ee64')).toBe('10 14:4fff:ff20:ee64');
    expect(wire(T.L32, '10 10.1.2.0')).toBe('000a0a010200');
    expect(err(T.EUI64, '00-00-5e-00-53-2a')[0]).toBe(0);
  });
});

describe('wire validation', () => {
  it('rejects truncated and trailing data', () => {
    expect(() => rdataValidateWire(T.A, fromHex('010203'))).toThrow(RdataError);
    expect(() => rdataValidateWire(T.A, fromHex('0102030405'))).toThrow(/trailing/);
    expect(() => rdataValidateWire(T.MX, fromHex('000a03666f'))).toThrow(RdataError);
    expect(() => rdataValidateWire(T.TXT, new Uint8Array(0))).toThrow(RdataError);
    expect(() => rdataValidateWire(T.NSEC, fromHex('00000100'))).toThrow(/trailing zero/);
    expect(() => rdataValidateWire(T.LOC, fromHex('01121613' + '89032100' + '70c3da80' + '00989680'))).toThrow(/version/);
    expect(() => rdataValidateWire(65280, fromHex('00'))).not.toThrow();
    expect(() => rdataValidateWire(T.NS, fromHex('c00c'))).toThrow(RdataError);
  });
  it('address helpers', () => {
    expect(ipv4FromRdata(fromHex('c0000201'))).toBe('192.0.2.1');
    expect(ipv6FromRdata(fromHex('20010db8000000000000000000000001'))).toBe('2001:db8::1');
    expect(() => ipv4FromRdata(fromHex('c00002'))).toThrow(RdataError);
  });
});
