// LogSampler (src/transfer/server.ts): per-packet warnings are kept to one line per kind and interval, with a count.

import { describe, expect, it } from 'vitest';
import { LogSampler } from '../../src/transfer/server.js';

describe('LogSampler', () => {
  it('admits the first line of a kind, then one per interval carrying how many were left out', () => {
    const s = new LogSampler(1000);
    const seen: (number | undefined)[] = [];
    for (let t = 0; t < 2500; t += 100) seen.push(s.admit('tsig-failed BADSIG', 10_000 + t));
    // t = 0 logged; 100..900 left out (9); t = 1000 logged with 9; 1100..1900 left out; t = 2000 logged with 9.
    expect(seen.filter((v) => v !== undefined)).toEqual([0, 9, 9]);
    expect(seen.filter((v) => v === undefined).length).toBe(22);
  });

  it('keeps kinds apart', () => {
    const s = new LogSampler(1000);
    expect([s.admit('a', 0), s.admit('b', 1), s.admit('a', 2), s.admit('b', 3), s.admit('c', 4)]).toEqual([0, 0, undefined, undefined, 0]);
    expect([s.admit('a', 1000), s.admit('b', 1001)]).toEqual([1, 1]);
  });
});
