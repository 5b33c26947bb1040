// Cooperative time slicing for long zone work (parsing and building million-record zones) so the event loop
// keeps answering queries while a reload runs.

import { setImmediate as nextTick } from 'node:timers/promises';

/**
 * Longest stretch of synchronous work between two yields to the event loop. Each loop turn reads at most 32
 * datagrams per UDP socket (libuv), so short slices keep queries flowing while a large zone is rebuilt.
 */
const SLICE_MS = 3;

export class TimeSlice {
  private started = performance.now();

  /** Yield to the event loop when the current slice has used its time; otherwise return at once. */
  async maybeYield(): Promise<void> {
    if (performance.now() - this.started < SLICE_MS) return;
    await nextTick();
    this.started = performance.now();
  }
}

/** Run a generator that yields at convenient points, synchronously to completion. */
export function runToEnd<T>(gen: Generator<void, T, void>): T {
  let step = gen.next();
  while (!step.done) step = gen.next();
  return step.value;
}

/** Run the same generator, letting the event loop run whenever a slice of time has passed. */
export async function runSliced<T>(gen: Generator<void, T, void>): Promise<T> {
  const slice = new TimeSlice();
  let step = gen.next();
  while (!step.done) {
    await slice.maybeYield();
    step = gen.next();
  }
  return step.value;
}
