// Fuzz test of the small parsers of untrusted input: Name.parse / Name.fromWire (only NameError), decompressRdata /
// canonicalRdata (only WireError), parseTtl (never throws) and parseRecordComment (never throws).

import { describe, expect, it } from 'vitest';
import { RRType } from '../../src/wire/constants.js';
import { canonicalRdata, decompressRdata, decompressibleRdata, forEachRdataName, rdataNameLayout } from '../../src/wire/layout.js';
import { WireError } from '../../src/wire/message.js';
import { Name, NameError } from '../../src/wire/name.js';
import { parseRecordComment } from '../../src/zone/cf-attrs.js';
import { MAX_UINT32, parseTtl } from '../../src/zone/ttl.js';
import { SCALE, hex, int, mutateBytes, mutateText, only, pick, prng, randomBytes, seed, type Rnd } from './fuzz-helpers.js';

const NAME_ALPHABET = ['a', 'Z', '0', '-', '_', '*', '.', '.', '.', '\\', '\\', '0', '2', '5', '9', '@', ' ', '"', '(', '\u00ff', '\u0100', '\u0000'];

function randomNameText(rnd: Rnd): string {
  let s = '';
  const len = rnd() < 0.8 ? int(rnd, 30) : int(rnd, 600);
  for (let i = 0; i < len; i++) s += rnd() < 0.7 ? pick(rnd, NAME_ALPHABET) : String.fromCharCode(int(rnd, 256));
  return s;
}

const origin = Name.parse('example.com.');
/** A backslash escaping a character that is not a single octet. */

describe('Name fuzz', () => {
  it('Name.parse: random and mutated text throws only NameError; results print and parse back (5000)', () => {
    const rnd = prng(seed(0xa11ce));
    const bases = ['www.example.com.', 'a\\.b\\032c', '@', '.', '*.wild', `${'x'.repeat(63)}.${'y'.repeat(63)}.${'z'.repeat(63)}.${'w'.repeat(61)}.`, '\\255\\000.'];
    let parsed = 0;
    for (let n = 0; n < 5000 * SCALE; n++) {
      const text = rnd() < 0.5 ? randomNameText(rnd) : mutateText(rnd, pick(rnd, bases), NAME_ALPHABET);
      const withOrigin = rnd() < 0.5;
      let name: Name | undefined;
      only([NameError], () => JSON.stringify(text), () => {
        name = withOrigin ? Name.parse(text, origin) : Name.parse(text);
      });
      if (!name) continue;
      parsed++;
      // A parsed name is within RFC 1035 §2.3.4 limits and its presentation form parses to the same name.
      expect(name.wireLength).toBeLessThanOrEqual(255);
      const again = Name.parse(name.toString());
      expect(again.key).toBe(name.key);
      expect(again.labels).toEqual(name.labels);
      expect(hex(Name.fromWire(name.toWire()).toWire())).toBe(hex(name.toWire()));
    }
    expect(parsed).toBeGreaterThan(1000 * SCALE);
  });

  // Regression: a backslash followed by a character above U+00FF is not an octet escape.
  it('Name.parse rejects a backslash-escaped character above U+00FF with NameError', () => {
    expect(() => Name.parse('a\\\u0100.')).toThrow(NameError);
  });

  it('Name.fromWire: random and mutated bytes at random offsets throw only NameError (5000)', () => {
    const rnd = prng(seed(0xb0b));
    const good = Name.parse('WWW.Example.com.').toWire();
    let ok = 0;
    for (let n = 0; n < 5000 * SCALE; n++) {
      const buf = rnd() < 0.5 ? randomBytes(rnd, int(rnd, 300)) : mutateBytes(rnd, good);
      const off = int(rnd, buf.length + 2);
      let name: Name | undefined;
      only([NameError], () => `${hex(buf)} @${off}`, () => {
        name = Name.fromWire(buf, off);
      });
      if (!name) continue;
      ok++;
      // The name is exactly the bytes it was read from.
      expect(hex(name.toWire())).toBe(hex(buf.subarray(off, off + name.wireLength)));
      expect(Name.parse(name.toString()).key).toBe(name.key);
    }
    expect(ok).toBeGreaterThan(200);
  });
});

/** Types with names in RDATA (compressible or not), plus A6 and a few without names. */
const LAYOUT_TYPES = [
  RRType.NS, RRType.CNAME, RRType.SOA, RRType.MX, RRType.MINFO, RRType.RP, RRType.PX, RRType.SRV, RRType.NAPTR,
  RRType.RRSIG, RRType.SIG, RRType.NSEC, RRType.NXT, RRType.SVCB, RRType.HTTPS, RRType.AFSDB, RRType.KX, RRType.DNAME,
  RRType.A6, RRType.HINFO, RRType.A, RRType.TXT, 65280, 300,
];

describe('layout fuzz', () => {
  it('decompressRdata: random messages, offsets and lengths throw only WireError; output is uncompressed (6000)', () => {
    const rnd = prng(seed(0xdec0));
    // A message with compressible names for the mutator: header, then "example.com" and RDATA pointing back at it.
    const base = Uint8Array.from([
      ...new Array<number>(12).fill(0), 7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0,
      0, 10, 3, ...Buffer.from('www'), 0xc0, 12, 4, ...Buffer.from('mail'), 0xc0, 12,
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    ]);
    let ok = 0;
    for (let n = 0; n < 6000 * SCALE; n++) {
      const msg = rnd() < 0.3 ? randomBytes(rnd, int(rnd, 120)) : mutateBytes(rnd, base, 3);
      const type = pick(rnd, LAYOUT_TYPES);
      const offset = rnd() < 0.5 ? Math.min(25, msg.length) : int(rnd, msg.length + 1);
      const rdlength = rnd() < 0.8 ? int(rnd, msg.length - offset + 1) : int(rnd, msg.length + 10);
      let out: Uint8Array | undefined;
      only([WireError], () => `type ${type} ${hex(msg)} off ${offset} len ${rdlength}`, () => {
        out = decompressRdata(type, msg, offset, rdlength);
      });
      if (!out) continue;
      ok++;
      if (!decompressibleRdata(type)) expect(hex(out)).toBe(hex(msg.subarray(offset, offset + rdlength)));
      const layout = rdataNameLayout(type);
      // RFC 2136 §2.4.1: "RDLENGTH ... zero ... RDATA is empty" in prerequisites and deletes: empty RDATA of any type
      // decodes as empty and has no names to walk.
      if (layout && decompressibleRdata(type) && out.length > 0) {
        // Every embedded name is now plain; canonicalization of the result cannot fail.
        only([], () => `type ${type} decompressed ${hex(out!)}`, () => {
          forEachRdataName(layout, out!, () => undefined);
          canonicalRdata(type, out!);
        });
      }
    }
    expect(ok).toBeGreaterThan(1000 * SCALE);
  });

  it('canonicalRdata: random RDATA throws only WireError and only lowercases A-Z (6000)', () => {
    const rnd = prng(seed(0xcafe));
    for (let n = 0; n < 6000 * SCALE; n++) {
      const rdata = randomBytes(rnd, int(rnd, 80));
      if (rnd() < 0.3) for (let i = 0; i < rdata.length; i++) if (rdata[i]! > 63) rdata[i] = 0x41 + int(rnd, 26);
      const type = pick(rnd, LAYOUT_TYPES);
      const before = hex(rdata);
      let out: Uint8Array | undefined;
      only([WireError], () => `type ${type} ${before}`, () => {
        out = canonicalRdata(type, rdata);
      });
      expect(hex(rdata)).toBe(before); // the input is never modified
      if (!out) continue;
      expect(out.length).toBe(rdata.length);
      for (let i = 0; i < out.length; i++) {
        const a = rdata[i]!;
        const b = out[i]!;
        if (a !== b && !(a >= 65 && a <= 90 && b === a + 32)) throw new Error(`type ${type} ${before}: byte ${i} ${a} -> ${b}`);
      }
    }
  });
});

describe('parseTtl fuzz', () => {
  it('never throws; agrees with a reference reading of the BIND grammar (20000)', () => {
    const rnd = prng(seed(0x77));
    const alphabet = ['0', '1', '9', '5', 's', 'M', 'h', 'D', 'w', 'W', 'x', ' ', '-', '+', '.', 'e', '\u0173', '\u0000'];
    const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
    const reference = (t: string): number | undefined => {
      if (t.length === 0 || t.length > 64) return undefined;
      if (/^[0-9]+$/.test(t)) return Number(t) <= MAX_UINT32 ? Number(t) : undefined;
      if (!/^([0-9]+[smhdwSMHDW])+$/.test(t)) return undefined;
      let total = 0;
      for (const m of t.matchAll(/([0-9]+)([a-zA-Z])/g)) {
        const v = Number(m[1]);
        if (v > MAX_UINT32) return undefined;
        total += v * unit[m[2]!.toLowerCase()]!;
        if (total > MAX_UINT32) return undefined;
      }
      return total;
    };
    for (let n = 0; n < 20000 * SCALE; n++) {
      let t = '';
      const len = rnd() < 0.9 ? int(rnd, 14) : int(rnd, 80);
      for (let i = 0; i < len; i++) t += pick(rnd, alphabet);
      let v: number | undefined;
      only([], () => JSON.stringify(t), () => {
        v = parseTtl(t);
      });
      if (v !== reference(t)) throw new Error(`parseTtl(${JSON.stringify(t)}) = ${v}, expected ${reference(t)}`);
    }
  });
});

describe('parseRecordComment fuzz', () => {
  const ALPHA = ['c', 'f', '_', 't', 'a', 'g', 's', '=', ',', ':', '"', '\\', ' ', '\t', '-', 'p', 'r', 'o', 'x', 'i', 'e', 'd', 'u', 'n', 'l', 'cf_tags=', 'cf-proxied:', 'true', 'false', 'cf-flatten-cname', '\\u00e9', '\\"', '\u00e9', '\u0000', '}'];
  const BASES = [
    'web cf_tags=cf-proxied:true,team:"a,b"',
    'cf_tags=cf-flatten-cname',
    'just a comment',
    'a cf_tags= thing cf_tags=k1,k2:v2,k3:"x\\"y"',
    'cf_tags=cf-proxied:false,a:"\\u00e9"',
  ];

  it('never throws and returns well-formed results for random and mutated comments (8000)', () => {
    const rnd = prng(seed(0xc0ffee));
    let withErrors = 0;
    let withTags = 0;
    for (let n = 0; n < 8000 * SCALE; n++) {
      let text: string;
      if (rnd() < 0.5) {
        text = mutateText(rnd, pick(rnd, BASES), ALPHA, 5);
      } else {
        text = '';
        const len = int(rnd, 40);
        for (let i = 0; i < len; i++) text += pick(rnd, ALPHA);
      }
      let r: ReturnType<typeof parseRecordComment> | undefined;
      only([], () => JSON.stringify(text), () => {
        r = parseRecordComment(text);
      });
      const res = r!;
      expect(Array.isArray(res.errors) && res.errors.every((e) => typeof e === 'string' && e.length > 0)).toBe(true);
      for (const t of res.tags) {
        // Seed "Record attributes": names are letters, digits, "-" and "_"; control tags are never plain tags.
        expect(/^[A-Za-z0-9_-]+$/.test(t.name)).toBe(true);
        expect(['cf-proxied', 'cf-flatten-cname']).not.toContain(t.name.toLowerCase());
        if (t.value !== undefined) expect(t.value.length).toBeGreaterThan(0);
      }
      if (res.comment !== undefined) expect(res.comment).toBe(res.comment.trim());
      if (res.proxied) expect(res.proxiedExplicit).toBe(true);
      if (res.errors.length > 0) withErrors++;
      if (res.tags.length > 0) withTags++;
    }
    expect(withErrors).toBeGreaterThan(500 * SCALE);
    expect(withTags).toBeGreaterThan(500 * SCALE);
  });

  it('long comments with many cf_tags= markers stay fast (no quadratic blow-up)', () => {
    for (const unit of ['cf_tags="', 'cf_tags=a:"x', 'cf_tags=a b', 'cf_tags=,', 'cf_tags=a:"\\"', 'x cf_tags=a,b,c,d:e']) {
      const text = unit.repeat(20000);
      const t0 = performance.now();
      const r = parseRecordComment(text);
      expect(performance.now() - t0).toBeLessThan(500);
      expect(typeof r.proxied).toBe('boolean');
    }
  });
});
