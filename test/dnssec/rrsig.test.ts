// Tests for src/dnssec/rrsig.ts: RFC 6605 §6.1 signature verification, our own signatures, RRSIG RDATA layout.

import { describe, expect, it } from 'vitest';
import { canonicalRRset, signingInput } from '../../src/dnssec/canonical.js';
import { generateKey, keyFromFiles } from '../../src/dnssec/keys.js';
import { parseRrsig, rrsigPrefix, signCanonical, signRRset, signingKeyFor, verifyRRsig } from '../../src/dnssec/rrsig.js';
import { RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import {
  RFC6605_DNSKEY_B64, RFC6605_EXPIRATION, RFC6605_INCEPTION, RFC6605_PRIVATE, RFC6605_RRSIG_SIG, b64, dnskey, hex, toHex,
} from './vectors.js';

const exampleNet = Name.parse('example.net.');
const rfcKey = keyFromFiles(
  exampleNet,
  `example.net. 3600 IN DNSKEY 257 3 13 ${RFC6605_DNSKEY_B64}`,
  `Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: ${RFC6605_PRIVATE}\n`,
);
const wwwA = { owner: Name.parse('www.example.net.'), type: RRType.A, class: 1, ttl: 3600, rdata: [hex('c0000201')] };

describe('RFC 6605 §6.1 example', () => {
  // www.example.net. 3600 IN RRSIG A 13 3 3600 20100909100439 20100812100439 55648 example.net. qx6w...
  const prefix = rrsigPrefix(RRType.A, 13, 3, 3600, RFC6605_EXPIRATION, RFC6605_INCEPTION, 55648, exampleNet);
  const published = new Uint8Array([...prefix, ...b64(RFC6605_RRSIG_SIG)]);

  it('builds the published RRSIG prefix bytes', () => {
    expect(toHex(prefix)).toBe('0001' + '0d' + '03' + '00000e10' + '4c88b137' + '4c63c737' + 'd960' + '076578616d706c65036e657400');
  });
  it('verifies the published signature over www.example.net A 192.0.2.1', () => {
    expect(verifyRRsig(wwwA, published, dnskey(257, 13, RFC6605_DNSKEY_B64))).toBe(true);
    expect(verifyRRsig(wwwA, published, dnskey(257, 13, RFC6605_DNSKEY_B64), { now: RFC6605_INCEPTION + 10 })).toBe(true);
  });
  it('rejects it for other data, other times, or outside the validity period', () => {
    const key = dnskey(257, 13, RFC6605_DNSKEY_B64);
    expect(verifyRRsig({ ...wwwA, rdata: [hex('c0000202')] }, published, key)).toBe(false);
    expect(verifyRRsig({ ...wwwA, owner: Name.parse('w.example.net.') }, published, key)).toBe(false);
    const tampered = published.slice();
    tampered[9] = tampered[9]! ^ 1;
    expect(verifyRRsig(wwwA, tampered, key)).toBe(false);
    expect(verifyRRsig(wwwA, published, key, { now: RFC6605_EXPIRATION + 1 })).toBe(false);
  });
  it('signs with the same private key; the result verifies and has the published prefix', () => {
    const ours = signRRset(wwwA, rfcKey, exampleNet, RFC6605_INCEPTION, RFC6605_EXPIRATION);
    expect(ours.length).toBe(prefix.length + 64);
    expect(toHex(ours.subarray(0, prefix.length))).toBe(toHex(prefix));
    expect(verifyRRsig(wwwA, ours, rfcKey.dnskeyRdata)).toBe(true);
    // the owner case in the query does not matter (RFC 4034 §6.2)
    expect(verifyRRsig({ ...wwwA, owner: Name.parse('WWW.Example.NET.') }, ours, rfcKey.dnskeyRdata)).toBe(true);
  });
});

describe('signRRset', () => {
  const zone = Name.parse('Example.COM.');
  const zsk = generateKey(zone, 'zsk');
  const ksk = generateKey(zone, 'ksk');

  it('writes every RRSIG field (RFC 4034 §3.1) with a lowercase signer', () => {
    const rrset = { owner: Name.parse('a.Example.com.'), type: RRType.TXT, class: 1, ttl: 300, rdata: [hex('0568656c6c6f')] };
    const sig = parseRrsig(signRRset(rrset, zsk, zone, 1_700_000_000, 1_700_604_800));
    expect(sig).toMatchObject({ typeCovered: 16, algorithm: 13, labels: 3, originalTtl: 300, expiration: 1_700_604_800, inception: 1_700_000_000, keyTag: zsk.tag });
    expect(sig.signer.toString()).toBe('example.com.');
    expect(sig.signature.length).toBe(64);
  });

  it('wildcard expansions carry the wildcard label count and verify under any expanded name', () => {
    const q = { owner: Name.parse('foo.bar.example.com.'), type: RRType.A, class: 1, ttl: 60, rdata: [hex('c0000263')] };
    const rdata = signRRset(q, zsk, zone, 1_700_000_000, 1_700_604_800, { labels: 2 });
    expect(parseRrsig(rdata).labels).toBe(2);
    expect(verifyRRsig(q, rdata, zsk.dnskeyRdata)).toBe(true);
    expect(verifyRRsig({ ...q, owner: Name.parse('other.example.com.') }, rdata, zsk.dnskeyRdata)).toBe(true);
    expect(verifyRRsig({ ...q, owner: Name.parse('x.other.org.') }, rdata, zsk.dnskeyRdata)).toBe(false);
  });

  it('signCanonical output equals the prefix + an ECDSA signature over signingInput', () => {
    const set = canonicalRRset({ owner: zone, type: RRType.DNSKEY, class: 1, ttl: 3600, rdata: [ksk.dnskeyRdata, zsk.dnskeyRdata] });
    const rdata = signCanonical(set, ksk, zone, 10, 20);
    const prefix = rrsigPrefix(RRType.DNSKEY, 13, 2, 3600, 20, 10, ksk.tag, zone);
    expect(toHex(rdata.subarray(0, prefix.length))).toBe(toHex(prefix));
    expect(signingInput(prefix, set).length).toBe(prefix.length + set.body.length);
    expect(verifyRRsig({ owner: zone, type: RRType.DNSKEY, class: 1, ttl: 3600, rdata: [zsk.dnskeyRdata, ksk.dnskeyRdata] }, rdata, ksk.dnskeyRdata)).toBe(true);
  });

  it('DNSKEY/CDS/CDNSKEY go to the KSK, the rest to the ZSK', () => {
    expect([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY, RRType.SOA, RRType.NSEC, RRType.A].map((t) => signingKeyFor(t, ksk, zsk).role))
      .toEqual(['ksk', 'ksk', 'ksk', 'zsk', 'zsk', 'zsk']);
  });
});
