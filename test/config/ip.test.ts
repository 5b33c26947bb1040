// Tests for the config's IP / CIDR / host:port / duration / base64 parsers.

import { describe, expect, it } from 'vitest';
import { cidrContains, formatIPv6, parseCidr, parseHostPort, parseIPv4, parseIPv6 } from '../../src/util/ip.js';
import { decodeBase64, parseDuration } from '../../src/config/schema.js';

describe('parseIPv4', () => {
  it('accepts dotted quads and returns bytes', () => {
    const a = parseIPv4('192.0.2.53');
    expect(a?.text).toBe('192.0.2.53');
    expect(Array.from(a!.bytes)).toEqual([192, 0, 2, 53]);
  });
  it('refuses leading zeros, out-of-range octets and short forms', () => {
    expect(parseIPv4('010.0.0.1')).toBeUndefined();
    expect(parseIPv4('256.0.0.1')).toBeUndefined();
    expect(parseIPv4('1.2.3')).toBeUndefined();
    expect(parseIPv4('1.2.3.4.5')).toBeUndefined();
    expect(parseIPv4('1.2.3.x')).toBeUndefined();
  });
});

describe('parseIPv6', () => {
  it('canonicalises per RFC 5952', () => {
    expect(parseIPv6('2001:DB8:0:0:0:0:0:1')?.text).toBe('2001:db8::1');
    expect(parseIPv6('2001:db8:0:0:1:0:0:1')?.text).toBe('2001:db8::1:0:0:1');
    expect(parseIPv6('2001:db8:0:1:1:1:1:1')?.text).toBe('2001:db8:0:1:1:1:1:1');
    expect(parseIPv6('::')?.text).toBe('::');
    expect(parseIPv6('::1')?.text).toBe('::1');
    expect(parseIPv6('fe80::')?.text).toBe('fe80::');
    expect(parseIPv6('0:0:1:0:0:0:0:0')?.text).toBe('0:0:1::');
  });
  it('accepts an embedded IPv4 tail', () => {
    const a = parseIPv6('::ffff:192.0.2.1');
    expect(Array.from(a!.bytes)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
    expect(a?.text).toBe('::ffff:c000:201');
    expect(parseIPv6('1:2:3:4:5:6:1.2.3.4')?.text).toBe('1:2:3:4:5:6:102:304');
  });
  it('refuses malformed text', () => {
    for (const t of ['1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'fe80::1%eth0', ':1::', '1:2:3:4:5:6:7::8', 'g::1']) {
      expect(parseIPv6(t), t).toBeUndefined();
    }
  });
  it('formatIPv6 picks the first of equal zero runs', () => {
    expect(formatIPv6(parseIPv6('1:0:0:2:0:0:3:4')!.bytes)).toBe('1::2:0:0:3:4');
  });
});

describe('parseCidr / cidrContains', () => {
  it('parses prefixes and matches addresses', () => {
    const r = parseCidr('10.0.0.0/24');
    expect(r.ok && r.cidr.text).toBe('10.0.0.0/24');
    if (!r.ok) return;
    expect(cidrContains(r.cidr, parseIPv4('10.0.0.255')!.bytes)).toBe(true);
    expect(cidrContains(r.cidr, parseIPv4('10.0.1.0')!.bytes)).toBe(false);
    const v6 = parseCidr('2001:db8::/61');
    expect(v6.ok && v6.cidr.text).toBe('2001:db8::/61');
    if (!v6.ok) return;
    expect(cidrContains(v6.cidr, parseIPv6('2001:db8:0:7::1')!.bytes)).toBe(true);
    expect(cidrContains(v6.cidr, parseIPv6('2001:db8:0:8::1')!.bytes)).toBe(false);
    expect(cidrContains(v6.cidr, parseIPv4('10.0.0.1')!.bytes)).toBe(false);
  });
  it('a bare address is a host prefix', () => {
    const r = parseCidr('2001:db8::1');
    expect(r.ok && r.cidr.text).toBe('2001:db8::1/128');
  });
  it('reports host bits and bad lengths', () => {
    expect(parseCidr('10.0.0.1/24')).toEqual({ ok: false, message: 'host bits set below /24 (did you mean "10.0.0.0/24"?)' });
    expect(parseCidr('10.0.0.0/33')).toEqual({ ok: false, message: 'prefix length "33" must be an integer 0..32' });
    expect(parseCidr('10.0.0/8')).toEqual({ ok: false, message: '"10.0.0" is not an IPv4 or IPv6 address' });
  });
});

describe('parseHostPort', () => {
  it('parses both families and canonicalises', () => {
    const a = parseHostPort('127.0.0.1:5353');
    expect(a.ok && a.value.text).toBe('127.0.0.1:5353');
    const b = parseHostPort('[2001:DB8::0:1]:53');
    expect(b.ok && b.value.text).toBe('[2001:db8::1]:53');
    expect(b.ok && b.value.port).toBe(53);
  });
  it('applies a default port only when one is given', () => {
    expect(parseHostPort('192.0.2.1', 53)).toMatchObject({ ok: true, value: { port: 53, text: '192.0.2.1:53' } });
    expect(parseHostPort('::1', 53)).toMatchObject({ ok: true, value: { port: 53, text: '[::1]:53' } });
    expect(parseHostPort('192.0.2.1')).toEqual({ ok: false, message: '"192.0.2.1": missing port (expected a.b.c.d:port or [ipv6]:port)' });
    expect(parseHostPort('::1:53')).toEqual({ ok: false, message: '"::1:53": write IPv6 with a port as [addr]:port' });
  });
  it('takes a zone id only when asked to, and only on a link-local address (RFC 4007 §11)', () => {
    expect(parseHostPort('[fe80::1%eth0]:53')).toEqual({ ok: false, message: '"fe80::1%eth0": a zone id (%interface) is not accepted here' });
    expect(parseHostPort('[fe80::0:1%eth0]:53', undefined, { zones: true })).toEqual({
      ok: true,
      value: { address: parseIPv6('fe80::1'), port: 53, zone: 'eth0', text: '[fe80::1%eth0]:53' },
    });
    expect(parseHostPort('[::1%lo]:53', undefined, { zones: true })).toEqual({ ok: false, message: '"::1%lo": a zone id (%lo) only goes with a link-local address (fe80::/10)' });
    expect(parseHostPort('[fe80::1%a b]:53', undefined, { zones: true })).toEqual({ ok: false, message: '"fe80::1%a b": "a b" is not an interface name or index' });
  });
  it('rejects bad ports and hosts', () => {
    expect(parseHostPort('127.0.0.1:0')).toEqual({ ok: false, message: '"127.0.0.1:0": port must be an integer 1..65535' });
    expect(parseHostPort('127.0.0.1:65536')).toEqual({ ok: false, message: '"127.0.0.1:65536": port must be an integer 1..65535' });
    expect(parseHostPort('localhost:53')).toEqual({ ok: false, message: '"localhost" is not an IPv4 address' });
    expect(parseHostPort('[::1:53')).toEqual({ ok: false, message: '"[::1:53": missing "]" (expected a.b.c.d:port or [ipv6]:port)' });
  });
});

describe('parseDuration / decodeBase64', () => {
  it('parses TTL-style durations', () => {
    expect(parseDuration('300')).toBe(300);
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('1D')).toBe(86400);
    expect(parseDuration('2w')).toBe(1209600);
    expect(parseDuration('5x')).toBeUndefined();
    expect(parseDuration('h')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
  });
  it('decodes strict base64 only', () => {
    expect(Array.from(decodeBase64('AAEC/w==')!)).toEqual([0, 1, 2, 255]);
    expect(decodeBase64('AAEC/w')).toBeUndefined();
    expect(decodeBase64('AAE=C/w=')).toBeUndefined();
    expect(decodeBase64('not base64!')).toBeUndefined();
    expect(decodeBase64('AB==')).toBeUndefined(); // stray bits in the last symbol
  });
});
