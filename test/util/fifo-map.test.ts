// Tests for src/util/fifo-map.ts: oldest-first removal with a persistent cursor, across deletes, re-inserts and clear.

import { describe, expect, it } from 'vitest';
import { FifoMap } from '../../src/util/fifo-map.js';

describe('FifoMap', () => {
  it('shifts in insertion order and skips deleted entries', () => {
    const m = new FifoMap<string, number>();
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) m.set(k, i);
    expect(m.shift()).toEqual(['a', 0]);
    m.delete('b');
    m.set('c', 20); // an existing key keeps its place
    expect(m.shift()).toEqual(['c', 20]);
    m.set('a', 5); // re-added: now the newest
    expect(m.shift()).toEqual(['d', 3]);
    expect(m.shift()).toEqual(['a', 5]);
    expect(m.shift()).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('sees entries added after its cursor ran out, and after clear', () => {
    const m = new FifoMap<number, number>();
    expect(m.shift()).toBeUndefined();
    m.set(1, 1);
    expect(m.shift()).toEqual([1, 1]);
    expect(m.shift()).toBeUndefined();
    m.set(2, 2);
    m.set(3, 3);
    expect(m.shift()).toEqual([2, 2]);
    m.clear();
    expect(m.size).toBe(0);
    m.set(4, 4);
    expect(m.shift()).toEqual([4, 4]);
  });

  it('agrees with a plain insertion-ordered model over a long random workload', () => {
    const m = new FifoMap<number, number>();
    const model = new Map<number, number>();
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 20000; i++) {
      const op = rnd(10);
      const k = rnd(500);
      if (op < 5) {
        m.set(k, i);
        model.set(k, i);
      } else if (op < 7) {
        expect(m.delete(k)).toBe(model.delete(k));
      } else {
        const first = model.entries().next();
        const want = first.done === true ? undefined : first.value;
        if (want !== undefined) model.delete(want[0]);
        expect(m.shift()).toEqual(want);
      }
      expect(m.size).toBe(model.size);
    }
  });
});
