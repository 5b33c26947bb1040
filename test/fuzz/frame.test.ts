// Fuzz test of the TCP deframer: random byte streams cut into random chunks throw only FrameError, buffer at most
// maxMessage + 2 bytes, and valid framed streams come out identical however they are chunked.

import { describe, expect, it } from 'vitest';
import { Deframer, FrameError, frame } from '../../src/server/frame.js';
import { SCALE, hex, int, only, prng, randomBytes, seed, type Rnd } from './fuzz-helpers.js';

function chunks(rnd: Rnd, stream: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < stream.length) {
    const n = rnd() < 0.3 ? int(rnd, 3) : 1 + int(rnd, 200);
    out.push(stream.subarray(p, p + n));
    p += n;
  }
  return out;
}

describe('Deframer fuzz', () => {
  it('random streams in random chunks throw only FrameError and stay within maxMessage + 2 bytes (3000)', () => {
    const rnd = prng(seed(0xf4a3e));
    let errors = 0;
    let messages = 0;
    for (let n = 0; n < 3000 * SCALE; n++) {
      const max = rnd() < 0.5 ? 0xffff : 1 + int(rnd, 600);
      const d = new Deframer(max);
      const stream = randomBytes(rnd, int(rnd, 1500));
      // Small length prefixes more often, so messages complete.
      if (stream.length > 0 && rnd() < 0.6) stream[0] = 0;
      let consumed = 0;
      const r = only([FrameError], () => `max ${max} ${hex(stream)}`, () => {
        for (const c of chunks(rnd, stream)) {
          const msgs = d.push(c);
          for (const m of msgs) {
            expect(m.length).toBeGreaterThan(0);
            expect(m.length).toBeLessThanOrEqual(max);
            consumed += 2 + m.length;
            messages++;
          }
          expect(d.buffered).toBeLessThanOrEqual(max + 2);
        }
        // Everything not returned is the incomplete tail.
        expect(consumed + d.buffered).toBe(stream.length);
      });
      if (r === 'error') errors++;
    }
    expect(errors).toBeGreaterThan(500 * SCALE);
    expect(messages).toBeGreaterThan(500 * SCALE);
  });

  it('valid framed streams give back the same messages however they are chunked (1000)', () => {
    const rnd = prng(seed(0xf4a3f));
    for (let n = 0; n < 1000 * SCALE; n++) {
      const msgs = Array.from({ length: 1 + int(rnd, 6) }, () => randomBytes(rnd, 1 + (rnd() < 0.1 ? int(rnd, 5000) : int(rnd, 100))));
      const stream = Buffer.concat(msgs.map((m) => frame(m)));
      const d = new Deframer();
      const got: string[] = [];
      for (const c of chunks(rnd, stream)) for (const m of d.push(c)) got.push(hex(m));
      expect(got).toEqual(msgs.map(hex));
      expect(d.buffered).toBe(0);
    }
  });

  it('a declared length above the limit or zero is refused before any buffering', () => {
    const d = new Deframer(512);
    expect(() => d.push(Uint8Array.of(0x02, 0x01))).toThrow(new FrameError('TCP message of 513 octets exceeds the limit of 512', 'too-large'));
    const z = new Deframer();
    z.push(Uint8Array.of(0));
    expect(() => z.push(Uint8Array.of(0))).toThrow('zero-length TCP message');
  });
});
