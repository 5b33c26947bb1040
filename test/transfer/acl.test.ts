// Transfer ACLs: CIDR parsing, v4/v6/mapped matching, prefix edges, TSIG key requirements.

import { describe, expect, it } from 'vitest';
import { AclError, compileAcl, matchAcl, parseAddress, parseCidr } from '../../src/transfer/acl.js';
import { Name } from '../../src/wire/name.js';

const k1 = Name.parse('xfr-key.');
const k2 = Name.parse('other-key.');

describe('address parsing', () => {
  it('parses IPv4 and IPv6 forms', () => {
    expect(parseAddress('192.0.2.1')).toEqual({ family: 4, words: [0xc0000201, 0, 0, 0] });
    expect(parseAddress('2001:db8::1')).toEqual({ family: 6, words: [0x20010db8, 0, 0, 1] });
    expect(parseAddress('::')).toEqual({ family: 6, words: [0, 0, 0, 0] });
    expect(parseAddress('::1')).toEqual({ family: 6, words: [0, 0, 0, 1] });
    expect(parseAddress('fe80::1%eth0')).toEqual({ family: 6, words: [0xfe800000, 0, 0, 1] });
    expect(parseAddress('1:2:3:4:5:6:7:8')).toEqual({ family: 6, words: [0x00010002, 0x00030004, 0x00050006, 0x00070008] });
    expect(parseAddress('64:ff9b::192.0.2.33')).toEqual({ family: 6, words: [0x0064ff9b, 0, 0, 0xc0000221] });
  });
  it('turns IPv4-mapped IPv6 into IPv4', () => {
    expect(parseAddress('::ffff:192.0.2.1')).toEqual({ family: 4, words: [0xc0000201, 0, 0, 0] });
    expect(parseAddress('::FFFF:c000:0201')).toEqual({ family: 4, words: [0xc0000201, 0, 0, 0] });
  });
  it('rejects junk', () => {
    for (const t of ['256.1.1.1', '1.2.3', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', ':1::', '', '1.2.3.4.5', '12345::1']) {
      expect(parseAddress(t), t).toBeUndefined();
    }
  });
});

describe('CIDR', () => {
  it('parses prefixes and host addresses', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ family: 4, bits: 8, net: [0x0a000000, 0, 0, 0], mask: [0xff000000, 0, 0, 0] });
    expect(parseCidr('192.0.2.7').bits).toBe(32);
    expect(parseCidr('2001:db8::/32')).toEqual({ family: 6, bits: 32, net: [0x20010db8, 0, 0, 0], mask: [0xffffffff, 0, 0, 0] });
    expect(parseCidr('::1').bits).toBe(128);
    expect(parseCidr('::ffff:10.0.0.0/104')).toEqual({ family: 4, bits: 8, net: [0x0a000000, 0, 0, 0], mask: [0xff000000, 0, 0, 0] });
    expect(parseCidr('0.0.0.0/0').mask).toEqual([0, 0, 0, 0]);
  });
  it('rejects bad prefixes', () => {
    expect(() => parseCidr('10.0.0.1/8')).toThrow(AclError);
    expect(() => parseCidr('10.0.0.0/33')).toThrow('above 32');
    expect(() => parseCidr('2001:db8::/129')).toThrow('above 128');
    expect(() => parseCidr('::ffff:10.0.0.0/90')).toThrow('at least /96');
    expect(() => parseCidr('10.0.0.0/x')).toThrow('bad prefix length');
    expect(() => parseCidr('nope')).toThrow('not an IPv4 or IPv6 address');
  });
  it('enforces width limits (seed I08: /24 and /64)', () => {
    const lim = { minV4: 24, minV6: 64 };
    expect(parseCidr('198.41.144.0/24', lim).bits).toBe(24);
    expect(() => parseCidr('198.41.0.0/16', lim)).toThrow('wider than /24');
    expect(parseCidr('2a06:98c0:3601::/64', lim).bits).toBe(64);
    expect(() => parseCidr('2a06:98c0:3601::/48', lim)).toThrow('wider than /64');
  });
});

describe('matchAcl', () => {
  const acl = compileAcl([
    { address: '198.41.144.240/28' },
    { address: '2a06:98c0:3601::/48' },
    { address: '203.0.113.5', key: k1 },
    { key: k2 },
  ]);
  it('matches IPv4 prefixes at their edges', () => {
    expect(matchAcl(acl, { address: '198.41.144.240' })).toBe(true);
    expect(matchAcl(acl, { address: '198.41.144.255' })).toBe(true);
    expect(matchAcl(acl, { address: '198.41.144.239' })).toBe(false);
    expect(matchAcl(acl, { address: '198.41.145.0' })).toBe(false);
  });
  it('matches IPv4-mapped client addresses against IPv4 rules', () => {
    expect(matchAcl(acl, { address: '::ffff:198.41.144.241' })).toBe(true);
    expect(matchAcl(acl, { address: '::ffff:198.41.144.1' })).toBe(false);
  });
  it('matches IPv6 prefixes at their edges', () => {
    expect(matchAcl(acl, { address: '2a06:98c0:3601::' })).toBe(true);
    expect(matchAcl(acl, { address: '2a06:98c0:3601:ffff:ffff:ffff:ffff:ffff' })).toBe(true);
    expect(matchAcl(acl, { address: '2a06:98c0:3602::' })).toBe(false);
    expect(matchAcl(acl, { address: '2a06:98c0:3600:ffff::1' })).toBe(false);
  });
  it('requires the key when an entry names one', () => {
    expect(matchAcl(acl, { address: '203.0.113.5' })).toBe(false);
    expect(matchAcl(acl, { address: '203.0.113.5', keyName: k1 })).toBe(true);
    expect(matchAcl(acl, { address: '203.0.113.5', keyName: Name.parse('XFR-KEY.') })).toBe(true);
    expect(matchAcl(acl, { address: '203.0.113.6', keyName: k1 })).toBe(false);
    expect(matchAcl(acl, { address: '203.0.113.5', keyName: Name.parse('wrong.') })).toBe(false);
  });
  it('key-only entries match any address signed with that key', () => {
    expect(matchAcl(acl, { address: '192.0.2.1', keyName: k2 })).toBe(true);
    expect(matchAcl(acl, { address: '2001:db8::1', keyName: k2 })).toBe(true);
    expect(matchAcl(acl, { address: '192.0.2.1' })).toBe(false);
  });
  it('does not mix families and rejects unparseable clients', () => {
    const any4 = compileAcl([{ address: '0.0.0.0/0' }]);
    expect(matchAcl(any4, { address: '8.8.8.8' })).toBe(true);
    expect(matchAcl(any4, { address: '2001:db8::1' })).toBe(false);
    expect(matchAcl(any4, { address: 'garbage' })).toBe(false);
    expect(matchAcl([], { address: '8.8.8.8' })).toBe(false);
  });
  it('accepts a pre-parsed address', () => {
    expect(matchAcl(acl, { address: parseAddress('198.41.144.250') })).toBe(true);
  });
  it('rejects empty entries', () => {
    expect(() => compileAcl([{}])).toThrow('needs an address, a key, or both');
  });
});
