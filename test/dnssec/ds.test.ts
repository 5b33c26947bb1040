// Tests for src/dnssec/ds.ts: DS digests against RFC 4034 §5.4 and RFC 6605 §6, and the RFC 8078 delete sentinels.

import { describe, expect, it } from 'vitest';
import { cdnskeyDeleteRdata, cdsDeleteRdata, dsRdata, dsRdataText, dsText } from '../../src/dnssec/ds.js';
import { Name } from '../../src/wire/name.js';
import {
  RFC4034_DNSKEY_B64, RFC4034_DS_SHA1, RFC6605_DNSKEY_B64, RFC6605_DS_SHA256, RFC6605_P384_DNSKEY_B64,
  RFC6605_P384_DS_SHA384, dnskey, toHex,
} from './vectors.js';

describe('dsRdata', () => {
  it('RFC 4034 §5.4: SHA-1 DS of dskey.example.com', () => {
    const ds = dsRdata(Name.parse('dskey.example.com.'), dnskey(256, 5, RFC4034_DNSKEY_B64), 1);
    expect(toHex(ds)).toBe('ec4505' + '01' + RFC4034_DS_SHA1.toLowerCase());
  });
  it('RFC 6605 §6.1: SHA-256 DS of the P-256 key, owner case-insensitive', () => {
    const ds = dsRdata(Name.parse('Example.NET.'), dnskey(257, 13, RFC6605_DNSKEY_B64), 2);
    expect(toHex(ds)).toBe('d9600d02' + RFC6605_DS_SHA256);
  });
  it('RFC 6605 §6.2: SHA-384 DS (digest type 4) of the P-384 key', () => {
    const ds = dsRdata(Name.parse('example.net.'), dnskey(257, 14, RFC6605_P384_DNSKEY_B64), 4);
    expect(toHex(ds)).toBe('2a130e04' + RFC6605_P384_DS_SHA384);
  });
});

describe('presentation', () => {
  it('prints like dnssec-dsfromkey', () => {
    const owner = Name.parse('example.net.');
    const key = dnskey(257, 13, RFC6605_DNSKEY_B64);
    expect(dsText(owner, key, 2)).toBe(`example.net. IN DS 55648 13 2 ${RFC6605_DS_SHA256.toUpperCase()}`);
    expect(dsText(owner, key, 2, { ttl: 3600, cds: true })).toBe(`example.net. 3600 IN CDS 55648 13 2 ${RFC6605_DS_SHA256.toUpperCase()}`);
  });
  it('RFC 8078 §4 delete sentinels: CDS 0 0 0 00 and CDNSKEY 0 3 0 AA==', () => {
    expect(toHex(cdsDeleteRdata)).toBe('0000000000');
    expect(dsRdataText(cdsDeleteRdata)).toBe('0 0 0 00');
    expect(toHex(cdnskeyDeleteRdata)).toBe('0000030000');
    expect(Buffer.from(cdnskeyDeleteRdata.subarray(4)).toString('base64')).toBe('AA==');
  });
});
