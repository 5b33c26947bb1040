// A small coverage-guided fuzzer: V8 block coverage (node:inspector precise coverage) decides which mutants join the
// corpus; every input is timed (a hang is one that takes over 100 ms twice), anything thrown that the target does
// not declare as its own error is a crash, and the heap is measured at checkpoints for unbounded growth.

import { Session } from 'node:inspector';
import { int, pick, prng, type Rnd } from '../fuzz-helpers.js';

/** One fuzz target: how to make, mutate, run and describe its inputs. */
export interface Target<T> {
  readonly name: string;
  readonly seeds: readonly T[];
  mutate(rnd: Rnd, input: T, other: T): T;
  /** Runs one input. Throws only for a failed check (a crash); declared errors are caught inside. */
  exec(input: T): void | Promise<void>;
  describe(input: T): string;
}

export interface Budget {
  readonly maxExecs: number;
  readonly maxSeconds: number;
  /** Inputs run between two coverage readings; a reading with new blocks re-runs the batch one by one. */
  readonly batch: number;
}

export interface Finding {
  readonly kind: 'crash' | 'hang';
  readonly detail: string;
  readonly input: string;
}

export interface Stats {
  readonly target: string;
  readonly execs: number;
  readonly seconds: number;
  readonly corpus: number;
  readonly features: number;
  readonly maxMs: number;
  /** Heap used (MiB, after a full GC when --expose-gc is on) at the first checkpoint and at the end. */
  readonly heapStartMiB: number;
  readonly heapEndMiB: number;
  readonly findings: readonly Finding[];
}

/** No input may take longer than this (issue 15: "no input takes more than 100 ms"). */
export const HANG_MS = 100;
const MAX_FINDINGS = 20;
/** Feature keys kept; past this the fuzzer stops adding (a bounded set even on a very long run). */
const MAX_FEATURES = 2_000_000;

type CoverageRange = { readonly startOffset: number; readonly endOffset: number; readonly count: number };
type CoverageResult = { readonly result: readonly { readonly scriptId: string; readonly url: string; readonly functions: readonly { readonly ranges: readonly CoverageRange[] }[] }[] };

/** V8 precise block coverage of the project's own sources, read and reset synchronously. */
class Coverage {
  private readonly session = new Session();

  constructor(private readonly scope: string) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  private post(method: string, params: object = {}): unknown {
    let out: unknown;
    let err: Error | null = null;
    let done = false;
    this.session.post(method, params, (e, r) => {
      err = e;
      out = r;
      done = true;
    });
    // The in-process inspector answers synchronously; anything else would make the readings meaningless.
    if (!done) throw new Error(`inspector ${method} did not answer synchronously`);
    if (err) throw err;
    return out;
  }

  /** Blocks run since the last call, as `script:offset:bucket` keys (bucket: log2 of the count, AFL-style). */
  take(): string[] {
    const res = this.post('Profiler.takePreciseCoverage') as CoverageResult;
    const keys: string[] = [];
    for (const script of res.result) {
      if (!script.url.includes(this.scope)) continue;
      for (const fn of script.functions) {
        for (const r of fn.ranges) {
          if (r.count === 0) continue;
          keys.push(`${script.scriptId}:${r.startOffset}:${Math.min(7, Math.floor(Math.log2(r.count)))}`);
        }
      }
    }
    return keys;
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.post('Profiler.disable');
    this.session.disconnect();
  }
}

function heapMiB(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Run `target` within `budget`; coverage counts blocks of files whose URL contains `scope` (default `/src/`). */
export async function fuzz<T>(target: Target<T>, budget: Budget, seed: number, scope = '/src/'): Promise<Stats> {
  const rnd = prng(seed);
  const cov = new Coverage(scope);
  const seen = new Set<string>();
  const corpus: T[] = [];
  const findings: Finding[] = [];
  let execs = 0;
  let maxMs = 0;

  const newFeatures = (keys: readonly string[]): number => {
    let n = 0;
    for (const k of keys) {
      if (seen.has(k) || seen.size >= MAX_FEATURES) continue;
      seen.add(k);
      n++;
    }
    return n;
  };

  /** Run one input with its checks; false when it crashed or hung (recorded). */
  const runOne = async (input: T): Promise<boolean> => {
    execs++;
    const t0 = performance.now();
    try {
      const r = target.exec(input);
      if (r instanceof Promise) await r;
    } catch (e) {
      if (findings.length < MAX_FINDINGS) findings.push({ kind: 'crash', detail: e instanceof Error ? (e.stack ?? e.message) : String(e), input: target.describe(input) });
      return false;
    }
    const ms = performance.now() - t0;
    if (ms > HANG_MS) {
      // Once more: a GC pause or a busy machine can stretch one run; a real hang repeats.
      const t1 = performance.now();
      try {
        const r = target.exec(input);
        if (r instanceof Promise) await r;
      } catch {
        // Reported by the first run already.
      }
      const again = performance.now() - t1;
      if (again > HANG_MS) {
        if (findings.length < MAX_FINDINGS) findings.push({ kind: 'hang', detail: `${ms.toFixed(1)} ms, then ${again.toFixed(1)} ms`, input: target.describe(input) });
        return false;
      }
      maxMs = Math.max(maxMs, again);
    } else maxMs = Math.max(maxMs, ms);
    return true;
  };

  cov.take();
  for (const s of target.seeds) {
    await runOne(s);
    newFeatures(cov.take());
    corpus.push(s);
  }
  const started = performance.now();
  const heapStartMiB = heapMiB();
  const deadline = started + budget.maxSeconds * 1000;
  const batch: T[] = [];
  while (execs < budget.maxExecs && performance.now() < deadline && findings.length < MAX_FINDINGS) {
    batch.length = 0;
    for (let i = 0; i < budget.batch; i++) {
      // Recent corpus entries are the most promising parents (they found something new last).
      const parent = rnd() < 0.5 ? corpus[corpus.length - 1 - int(rnd, Math.min(corpus.length, 16))]! : pick(rnd, corpus);
      let child = target.mutate(rnd, parent, pick(rnd, corpus));
      for (let k = int(rnd, 3); k > 0; k--) child = target.mutate(rnd, child, pick(rnd, corpus));
      batch.push(child);
      await runOne(child);
    }
    if (newFeatures(cov.take()) === 0) continue;
    // Something in the batch reached new code: find which inputs, one coverage reading each.
    for (const input of batch) {
      await runOne(input);
      if (newFeatures(cov.take()) > 0) corpus.push(input);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  cov.stop();
  return { target: target.name, execs, seconds, corpus: corpus.length, features: seen.size, maxMs, heapStartMiB, heapEndMiB: heapMiB(), findings };
}

export function formatStats(s: Stats): string {
  return `${s.target}: ${s.execs} inputs in ${s.seconds.toFixed(1)} s (${Math.round(s.execs / Math.max(s.seconds, 1e-9))}/s), corpus ${s.corpus}, ` +
    `${s.features} coverage features, slowest ${s.maxMs.toFixed(1)} ms, heap ${s.heapStartMiB.toFixed(1)} -> ${s.heapEndMiB.toFixed(1)} MiB, ` +
    `${s.findings.filter((f) => f.kind === 'crash').length} crashes, ${s.findings.filter((f) => f.kind === 'hang').length} hangs`;
}
