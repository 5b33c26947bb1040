// Tests for src/dnssec/nsec-chain.ts: the canonical sort key agrees with compareCanonical (RFC 4034 §6.1).

import { describe, expect, it } from 'vitest';
import { canonicalSortKey } from '../../src/dnssec/nsec-chain.js';
import { Name } from '../../src/wire/name.js';
import { compareCanonical } from '../helpers/canonical.js';

const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);

describe('canonicalSortKey', () => {
  it('orders the RFC 4034 §6.1 example like the RFC', () => {
    const rfc = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.'];
    const names = rfc.map((n) => Name.parse(n));
    const shuffled = [...names].reverse();
    shuffled.sort((a, b) => (canonicalSortKey(a) < canonicalSortKey(b) ? -1 : 1));
    expect(shuffled.map((n) => n.toString())).toEqual(names.map((n) => n.toString()));
  });

  it('agrees with compareCanonical on random names with \\000, \\001, upper case and prefix labels', () => {
    let seed = 11;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = ['\x00', '\x01', '\x02', 'a', 'A', 'b', 'B', '*', '-', '\xff', '\x7f'];
    const label = (): string => Array.from({ length: 1 + rnd(3) }, () => alphabet[rnd(alphabet.length)]!).join('');
    const names = Array.from({ length: 400 }, () => new Name([...Array.from({ length: rnd(3) }, label), 'zone']));
    for (let i = 0; i < 4000; i++) {
      const a = names[rnd(names.length)]!;
      const b = names[rnd(names.length)]!;
      const ka = canonicalSortKey(a);
      const kb = canonicalSortKey(b);
      expect(sign(ka < kb ? -1 : ka > kb ? 1 : 0), `${a.toString()} vs ${b.toString()}`).toBe(sign(compareCanonical(a, b)));
    }
  });
});
