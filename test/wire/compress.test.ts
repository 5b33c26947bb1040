// Tests for src/wire/compress.ts through MessageWriter: compression as good as a plain suffix map (the oracle below),
// names intact through rollbacks, case kept, big messages.

import { describe, expect, it } from 'vitest';
import { MessageWriter } from '../../src/wire/encode.js';
import { decodeMessage } from '../../src/wire/decode.js';
import { Flag, RRClass } from '../../src/wire/constants.js';
import type { SectionEntry } from '../../src/wire/message.js';
import { T, aRdata, nameRdata, prng, rrset } from './helpers.js';

/**
 * Reference for the size of a compressed message: a map from lowercased suffix text to offset, the first occurrence
 * of each suffix kept, only offsets below 0x4000 recorded (RFC 1035 §4.1.4), rolled back with the RRset it came in.
 */
class Oracle {
  pos = 12;
  private readonly seen = new Map<string, number>();
  private log: string[] = [];

  name(text: string): void {
    const labels = text === '.' ? [] : text.replace(/\.$/, '').split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      if (this.seen.has(suffix)) {
        this.pos += 2;
        return;
      }
      if (this.pos < 0x4000) {
        this.seen.set(suffix, this.pos);
        this.log.push(suffix);
      }
      this.pos += 1 + labels[i]!.length;
    }
    this.pos += 1;
  }

  mark(): { pos: number; log: number } {
    return { pos: this.pos, log: this.log.length };
  }

  rollback(m: { pos: number; log: number }): void {
    this.pos = m.pos;
    while (this.log.length > m.log) this.seen.delete(this.log.pop()!);
  }
}

const LABELS = ['www', 'WWW', 'mail', 'ns1', 'a', 'b-c', 'Example', 'example', 'com', 'net', 'x'.repeat(40), 'sub'];

function randomName(rnd: () => number): string {
  const count = 1 + Math.floor(rnd() * 4);
  const labels = Array.from({ length: count }, () => LABELS[Math.floor(rnd() * LABELS.length)]!);
  return labels.join('.') + '.';
}

describe('name compression', () => {
  it('matches the suffix-map reference and decodes to the same names (2000 seeded messages, with rollbacks)', () => {
    const rnd = prng(0xc0de);
    const w = new MessageWriter();
    let rollbacks = 0;
    for (let m = 0; m < 2000; m++) {
      const limit = 200 + Math.floor(rnd() * 1800);
      w.begin(m, Flag.QR, limit);
      const oracle = new Oracle();
      const qname = randomName(rnd);
      w.question({ name: rrset(qname, T.A, 0).owner, type: T.A, class: RRClass.IN });
      oracle.name(qname);
      oracle.pos += 4;
      const kept: SectionEntry[] = [];
      const rrsets = 1 + Math.floor(rnd() * 30);
      for (let i = 0; i < rrsets; i++) {
        const owner = randomName(rnd);
        const ns = rnd() < 0.5;
        const targets = ns ? Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => randomName(rnd)) : [];
        const e = ns ? rrset(owner, T.NS, 60, ...targets.map(nameRdata)) : rrset(owner, T.A, 60, aRdata('192.0.2.1'));
        const mark = oracle.mark();
        for (let r = 0; r < e.rdata.length; r++) {
          oracle.name(owner);
          oracle.pos += 10;
          if (ns) oracle.name(targets[r]!);
          else oracle.pos += 4;
        }
        // Additional-section RRsets are all-or-nothing and later ones may still fit (RFC 2181 §9).
        if (w.addRRset('additional', e)) kept.push(e);
        else {
          rollbacks++;
          oracle.rollback(mark);
        }
        expect(w.size, `message ${m}, RRset ${i}`).toBe(oracle.pos);
      }
      const out = w.finish();
      const d = decodeMessage(out);
      // Names compare case-insensitively (RFC 4343): a pointer reads back in its target's case.
      const lc = (names: string[]): string[] => names.map((x) => x.toLowerCase());
      expect(d.question[0]!.name.toString()).toBe(qname);
      expect(lc(d.additional.map((r) => r.owner.toString()))).toEqual(lc(kept.flatMap((e) => e.rdata.map(() => e.owner.toString()))));
      expect(lc(d.additional.map((r) => (r.type === T.NS ? decodeMessageName(r.rdata) : 'A')))).toEqual(
        lc(kept.flatMap((e) => e.rdata.map((rd) => (e.type === T.NS ? decodeMessageName(rd) : 'A')))),
      );
    }
    expect(rollbacks).toBeGreaterThan(500);
  });

  it('keeps the original case of every label it writes out', () => {
    const w = new MessageWriter();
    w.begin(1, Flag.QR, 512);
    w.question({ name: rrset('WwW.Example.COM.', T.A, 0).owner, type: T.A, class: RRClass.IN });
    w.addRRset('answer', rrset('mail.EXAMPLE.com.', T.NS, 60, nameRdata('Ns1.eXample.com.')));
    const d = decodeMessage(w.finish());
    // Suffixes already present are pointed to, so they read back in their first occurrence's case.
    expect(d.answer.map((r) => r.owner.toString())).toEqual(['mail.Example.COM.']);
    expect(decodeMessageName(d.answer[0]!.rdata)).toBe('Ns1.Example.COM.');
  });

  it('fills a 64 KiB message of distinct names (more targets than fit below 0x4000) and reads back every name', () => {
    const w = new MessageWriter();
    w.begin(1, Flag.QR, 65535);
    let added = 0;
    for (let i = 0; w.addRRset('answer', rrset(`h${i}.z${i % 97}.example.`, T.NS, 60, nameRdata(`n${i}.z${(i * 7) % 97}.example.`))); i++) added++;
    const out = w.finish();
    expect(out.length).toBeGreaterThan(60000);
    const d = decodeMessage(out);
    expect(d.answer.length).toBe(added);
    d.answer.forEach((r, i) => {
      expect(r.owner.toString()).toBe(`h${i}.z${i % 97}.example.`);
      expect(decodeMessageName(r.rdata)).toBe(`n${i}.z${(i * 7) % 97}.example.`);
    });
  });
});

/** The uncompressed name that decodeMessage left in NS RDATA, as text. */
function decodeMessageName(rd: Uint8Array): string {
  const labels: string[] = [];
  for (let p = 0; rd[p] !== 0; p += rd[p]! + 1) labels.push(Buffer.from(rd.subarray(p + 1, p + 1 + rd[p]!)).toString('latin1'));
  return labels.join('.') + '.';
}
