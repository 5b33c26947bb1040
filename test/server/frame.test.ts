// Tests for the TCP deframer and frame(): every split position, several messages per chunk, error cases.

import { describe, expect, it } from 'vitest';
import { Deframer, FrameError, frame } from '../../src/server/frame.js';

const m1 = Uint8Array.from([0xaa, 0xbb, 0xcc]);
const m2 = Uint8Array.from([0x01]);
const m3 = Uint8Array.from(Array.from({ length: 300 }, (_, i) => i & 0xff));

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function hex(ms: readonly Uint8Array[]): string[] {
  return ms.map((m) => Buffer.from(m).toString('hex'));
}

describe('frame', () => {
  it('prefixes the big-endian length', () => {
    expect(Buffer.from(frame(m1)).toString('hex')).toBe('0003aabbcc');
    expect(Buffer.from(frame(m3)).subarray(0, 3).toString('hex')).toBe('012c00');
    expect(frame(new Uint8Array(65535)).length).toBe(65537);
  });
  it('refuses messages over 65535 octets', () => {
    expect(() => frame(new Uint8Array(65536))).toThrow(RangeError);
  });
});

describe('Deframer', () => {
  const sets: readonly (readonly Uint8Array[])[] = [[m1], [m1, m2], [m1, m2, m3]];
  for (const msgs of sets) {
    const stream = concat(msgs.map(frame));
    const expected = hex(msgs);
    it(`${msgs.length} message(s): every single split offset`, () => {
      for (let cut = 0; cut <= stream.length; cut++) {
        const d = new Deframer();
        const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
        expect(hex(out), `cut at ${cut}`).toEqual(expected);
        expect(d.buffered).toBe(0);
      }
    });
    it(`${msgs.length} message(s): every pair of split offsets`, () => {
      for (let a = 0; a <= stream.length; a++) {
        for (let b = a; b <= stream.length; b += a < 12 ? 1 : 7) {
          const d = new Deframer();
          const out = [
            ...d.push(stream.subarray(0, a)),
            ...d.push(stream.subarray(a, b)),
            ...d.push(stream.subarray(b)),
          ];
          expect(hex(out), `cuts at ${a},${b}`).toEqual(expected);
        }
      }
    });
    it(`${msgs.length} message(s): one byte at a time`, () => {
      const d = new Deframer();
      const out: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i++) out.push(...d.push(stream.subarray(i, i + 1)));
      expect(hex(out)).toEqual(expected);
    });
  }

  it('returns zero-copy views for messages inside one chunk', () => {
    const chunk = concat([frame(m1), frame(m2)]);
    const out = new Deframer().push(chunk);
    expect(out.length).toBe(2);
    expect(out[0]?.buffer).toBe(chunk.buffer);
    expect(out[0]?.byteOffset).toBe(2);
    expect(out[1]?.byteOffset).toBe(7);
  });

  it('reports buffered bytes of a partial message', () => {
    const d = new Deframer();
    expect(d.push(Uint8Array.from([0x00]))).toEqual([]);
    expect(d.buffered).toBe(1);
    expect(d.push(Uint8Array.from([0x05, 1, 2]))).toEqual([]);
    expect(d.buffered).toBe(4);
  });

  it('rejects a zero-length message', () => {
    const d = new Deframer();
    let err: unknown;
    try {
      d.push(Uint8Array.from([0, 3, 1, 2, 3, 0, 0]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrameError);
    expect((err as FrameError).code).toBe('zero-length');
  });

  it('rejects a message longer than maxMessage, as soon as the length is known', () => {
    const d = new Deframer(512);
    expect(hex(d.push(concat([frame(new Uint8Array(512).fill(7))])))[0]?.length).toBe(1024);
    expect(() => d.push(Uint8Array.from([0x02, 0x01]))).toThrow(/513 octets exceeds the limit of 512/);
  });

  it('validates maxMessage', () => {
    expect(() => new Deframer(0)).toThrow(RangeError);
    expect(() => new Deframer(65536)).toThrow(RangeError);
  });
});
