// Response rate limiting with two threads on one shared table (as two worker processes share the shm table): many
// clients seen by both threads at the same moment must each get one bucket, not one per thread.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/daemon.js';

const RRL_JS = join(REPO_ROOT, 'dist', 'query', 'rrl.js');
const CLIENTS = 4000;
const RATE = 20;

// Each thread waits on the shared start flag, then sends 2 × RATE responses' worth of checks for every client in the
// same order (one second), so both threads create the same buckets at the same time. It posts its Send count.
const THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.rrl).then(({ RateLimiter }) => {
  const table = new Int32Array(workerData.table);
  const flag = new Int32Array(workerData.flag);
  const l = new RateLimiter({ responsesPerSecond: ${RATE}, window: 15, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, exempt: () => false, table });
  Atomics.add(flag, 1, 1);
  Atomics.wait(flag, 0, 0);
  let sent = 0;
  for (let c = 0; c < ${CLIENTS}; c++) {
    const ip = Uint8Array.of(10, c >> 8, c & 255, 1);
    for (let i = 0; i < ${RATE}; i++) if (l.check(ip, 7, 1800000000) === 0) sent++;
  }
  parentPort.postMessage(sent);
});
`;

describe.skipIf(!existsSync(RRL_JS))('rate limiting: two threads, one table', () => {
  it(`${CLIENTS} new clients, each seen by both threads at once, get ${RATE} responses each in all`, async () => {
    const { RRL_ENTRIES, RRL_ENTRY, RrlVerdict } = (await import(RRL_JS)) as typeof import('../../src/query/rrl.js');
    expect(RrlVerdict.Send).toBe(0);
    const table = new SharedArrayBuffer(RRL_ENTRIES * RRL_ENTRY * 4);
    const flag = new SharedArrayBuffer(8);
    const flags = new Int32Array(flag);
    const workers = [0, 1].map(() => new Worker(THREAD, { eval: true, workerData: { rrl: RRL_JS, table, flag } }));
    const counts = workers.map((w) => new Promise<number>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); }));
    while (Atomics.load(flags, 1) < 2) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(flags, 0, 1);
    Atomics.notify(flags, 0);
    const sent = (await Promise.all(counts)).reduce((a, b) => a + b, 0);
    await Promise.all(workers.map((w) => w.terminate()));
    // One bucket of RATE per client: 2 × RATE checks per client, exactly RATE sent.
    expect(sent).toBe(CLIENTS * RATE);
  });
});
