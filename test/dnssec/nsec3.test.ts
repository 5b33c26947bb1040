// Tests for src/dnssec/nsec3.ts: RFC 5155 Appendix B hashes, white-lie ±1 arithmetic, NSEC3/NSEC3PARAM RDATA.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  hashMinusOne, hashPlusOne, nsec3Cover, nsec3Hash, nsec3Label, nsec3LabelToHash, nsec3Owner, nsec3paramRdata, nsec3Rdata,
} from '../../src/dnssec/nsec3.js';
import { RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { tool } from '../helpers/tools.js';
import { hex, toHex } from './vectors.js';

const salt = hex('aabbccdd');

describe('nsec3Hash (RFC 5155 Appendix B: salt aabbccdd, 12 iterations)', () => {
  const vectors: readonly (readonly [string, string])[] = [
    ['example', '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom'],
    ['a.example', '35mthgpgcu1qg68fab165klnsnk3dpvl'],
    ['ai.example', 'gjeqe526plbf1g8mklp59enfd789njgi'],
    ['ns1.example', '2t7b4g4vsa5smi47k61mv5bv1a22bojr'],
    ['ns2.example', 'q04jkcevqvmu85r014c7dkba38o0ji5r'],
    ['w.example', 'k8udemvp1j2f7eg6jebps17vp3n8i58h'],
    ['*.w.example', 'r53bq7cc2uvmubfu5ocmm6pers9tk9en'],
    ['x.w.example', 'b4um86eghhds6nea196smvmlo4ors995'],
    ['y.w.example', 'ji6neoaepv8b5o6k4ev33abha8ht9fgc'],
    ['x.y.w.example', '2vptu5timamqttgl4luu9kg21e0aor3s'],
    ['xx.example', 't644ebqk9bibcna874givr6joj62mlhv'],
  ];
  for (const [name, label] of vectors) {
    it(name, () => {
      expect(nsec3Label(nsec3Hash(Name.parse(name + '.'), salt, 12))).toBe(label);
    });
  }
  it('is case-insensitive in the owner name', () => {
    expect(nsec3Label(nsec3Hash(Name.parse('X.W.Example.'), salt, 12))).toBe('b4um86eghhds6nea196smvmlo4ors995');
  });
  it('owner helpers round-trip', () => {
    const h = nsec3Hash(Name.parse('example.'), salt, 12);
    expect(nsec3Owner(h, Name.parse('example.')).toString()).toBe('0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.');
    expect(toHex(nsec3LabelToHash('0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM')!)).toBe(toHex(h));
    expect(nsec3LabelToHash('0p9mhaveqvm6t7vbl5lop2u3t2rp3to')).toBeUndefined();
  });
});

const nsec3hashTool = tool('nsec3hash');
describe.skipIf('skip' in nsec3hashTool)('nsec3Hash agrees with BIND nsec3hash', () => {
  it('for several names, salts and iteration counts', () => {
    const path = 'path' in nsec3hashTool ? nsec3hashTool.path : '';
    const cases: readonly (readonly [string, string, number])[] = [
      ['example.com', '-', 0],
      ['Mixed.Case.Example.Com', '01', 1],
      ['a-very-long-label-with-digits-0123456789.sub.example.org', 'deadbeefcafe', 5],
      ['*.wild.example', '-', 0],
    ];
    for (const [name, s, it] of cases) {
      const out = execFileSync(path, [s, '1', String(it), name], { encoding: 'utf8' });
      const expected = out.split(' ')[0]!.toLowerCase();
      const saltBytes = s === '-' ? new Uint8Array(0) : hex(s);
      expect(nsec3Label(nsec3Hash(Name.parse(name + '.'), saltBytes, it))).toBe(expected);
    }
  });
});

describe('white lies (RFC 7129 Appendix B)', () => {
  it('H-1 and H+1 with borrow/carry and wrap-around', () => {
    expect(toHex(hashPlusOne(hex('00'.repeat(19) + 'ff')))).toBe('00'.repeat(18) + '0100');
    expect(toHex(hashMinusOne(hex('00'.repeat(18) + '0100')))).toBe('00'.repeat(19) + 'ff');
    expect(toHex(hashPlusOne(hex('ff'.repeat(20))))).toBe('00'.repeat(20));
    expect(toHex(hashMinusOne(hex('00'.repeat(20))))).toBe('ff'.repeat(20));
    expect(toHex(hashPlusOne(hex('12'.repeat(20))))).toBe('12'.repeat(19) + '13');
  });
  it('nsec3Cover spans H-1 .. H+1', () => {
    const h = hex('0f'.repeat(20));
    const c = nsec3Cover(h, Name.parse('example.'));
    expect(c.owner.toString()).toBe(`${nsec3Label(hex('0f'.repeat(19) + '0e'))}.example.`);
    expect(toHex(c.nextHashed)).toBe('0f'.repeat(19) + '10');
  });
});

describe('RDATA (RFC 5155 §3.2, §4.2)', () => {
  it('NSEC3 with salt, iterations and a bitmap', () => {
    const next = hex('11'.repeat(20));
    const r = nsec3Rdata({ salt, iterations: 12, nextHashed: next, types: [RRType.RRSIG, RRType.A] });
    expect(toHex(r)).toBe('01' + '00' + '000c' + '04aabbccdd' + '14' + '11'.repeat(20) + '0006400000000002');
  });
  it('NSEC3 defaults: SHA-1, no flags, 0 iterations, empty salt (RFC 9276), opt-out flag settable', () => {
    const r = nsec3Rdata({ nextHashed: hex('22'.repeat(20)), types: [], flags: 1 });
    expect(toHex(r)).toBe('01' + '01' + '0000' + '00' + '14' + '22'.repeat(20));
  });
  it('NSEC3PARAM', () => {
    expect(toHex(nsec3paramRdata({ salt, iterations: 12 }))).toBe('0100000c04aabbccdd');
    expect(toHex(nsec3paramRdata({}))).toBe('0100000000');
  });
});
