// Shared helpers for the fuzz tests: a seeded PRNG, byte/text mutators and an "only this error type" checker.

export { prng } from '../helpers/prng.js';

export type Rnd = () => number;

export function int(rnd: Rnd, n: number): number {
  return Math.floor(rnd() * n);
}

export function pick<T>(rnd: Rnd, xs: readonly T[]): T {
  return xs[int(rnd, xs.length)]!;
}

export function randomBytes(rnd: Rnd, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = int(rnd, 256);
  return out;
}

/** Values that tend to hit edge cases in length and count fields. */
const INTERESTING = [0, 1, 2, 3, 4, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xfe, 0xff];

/** 1..`maxEdits` random edits: bit flip, byte set, insert, delete, truncate, duplicate a slice. */
export function mutateBytes(rnd: Rnd, input: Uint8Array, maxEdits = 4): Uint8Array {
  let b = Array.from(input);
  const edits = 1 + int(rnd, maxEdits);
  for (let e = 0; e < edits; e++) {
    const at = b.length === 0 ? 0 : int(rnd, b.length);
    const op = int(rnd, 7);
    switch (op) {
      case 0:
        if (b.length > 0) b[at] = b[at]! ^ (1 << int(rnd, 8));
        break;
      case 1:
        if (b.length > 0) b[at] = rnd() < 0.5 ? pick(rnd, INTERESTING) : int(rnd, 256);
        break;
      case 2:
        b.splice(at, 0, rnd() < 0.5 ? pick(rnd, INTERESTING) : int(rnd, 256));
        break;
      case 3:
        b.splice(at, 1);
        break;
      case 4:
        b = b.slice(0, at);
        break;
      case 5: {
        const len = 1 + int(rnd, 8);
        b.splice(at, 0, ...b.slice(at, at + len));
        break;
      }
      default:
        b.push(int(rnd, 256));
    }
  }
  return Uint8Array.from(b);
}

/** 1..`maxEdits` character edits of a string using `alphabet` for inserted characters. */
export function mutateText(rnd: Rnd, input: string, alphabet: readonly string[], maxEdits = 4): string {
  const chars = input.split('');
  const edits = 1 + int(rnd, maxEdits);
  for (let e = 0; e < edits; e++) {
    const at = int(rnd, chars.length + 1);
    const ch = pick(rnd, alphabet);
    const op = int(rnd, 4);
    if (op === 0) chars.splice(at, 1);
    else if (op === 1) chars.splice(at, 0, ch);
    else if (op === 2) chars[at] = ch;
    else {
      // Duplicate a short run (repeats separators, quotes and digits).
      const len = 1 + int(rnd, 10);
      chars.splice(at, 0, ...chars.slice(at, at + len));
    }
  }
  return chars.join('');
}

/**
 * Run `fn`; any exception that is not an instance of one of `allowed` is rethrown with the input that caused it,
 * so a crash report carries its reproducer. Returns 'ok' or 'error' (an allowed exception was thrown).
 */
export function only(allowed: readonly (abstract new (...args: never[]) => Error)[], describeInput: () => string, fn: () => void): 'ok' | 'error' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (allowed.some((c) => e instanceof c)) return 'error';
    const err = e instanceof Error ? e : new Error(String(e));
    throw new Error(`unexpected ${err.name}: ${err.message}\n  input: ${describeInput()}\n${err.stack ?? ''}`);
  }
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

/** Iteration multiplier for long local runs (`FUZZ_SCALE=50 npx vitest run test/fuzz`); 1 in CI. */
export const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? '1') || 1);

/** Seed offset for exploring other sequences locally (`FUZZ_SEED=7`); 0 in CI so failures reproduce. */
export function seed(base: number): number {
  return (base + Number(process.env.FUZZ_SEED ?? '0')) >>> 0;
}
