// Caches are per worker (issue 12 point 8, README "Caches are per worker"): every serving process reports its own
// answer-cache and signature-cache figures in one "cache stats" line at stop, and with two workers one popular name
// misses once in each worker.

import type { Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { buildQuery } from '../helpers/dig.js';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { boundUdp, exampleZoneDir, logLines, perTest, waitFor } from './env.js';

const built = daemonBuilt();
const SOCKETS = 40;
const PER_SOCKET = 5;

interface CacheStats {
  readonly pid: number;
  readonly answerCache: { readonly hits: number; readonly misses: number; readonly entries: number };
}


/** One query for www.example.com A from `s`, answered NOERROR with one record. */
function ask(s: Socket, port: number, id: number): Promise<void> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no answer to query ${id}`)), 3000);
    const on = (m: Buffer): void => {
      if (m.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      s.off('message', on);
      const p = parseMessage(m);
      if (p.rcode !== 0 || p.answer.length !== 1) rej(new Error(`query ${id}: rcode ${p.rcode}, ${p.answer.length} answers`));
      else res();
    };
    s.on('message', on);
    s.send(buildQuery({ name: 'www.example.com', type: 'A', id }), port, '127.0.0.1');
  });
}

describe.skipIf('skip' in built)('per-worker caches', () => {
  const t = perTest();

  it('workers: 2 — each worker logs its cache figures at stop, and fills its own answer cache', async () => {
    t.z = exampleZoneDir();
    t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }], { workers: 2 });
    const ready = (): number[] => logLines(t.d!.output()).filter((l) => l.msg === 'worker ready' && typeof l.workerPid === 'number').map((l) => l.workerPid as number);
    await waitFor('two workers in the log', () => ready().length === 2, 20_000);
    const workerPids = new Set(ready());
    // 40 source ports: the kernel spreads them over both workers' sockets (a hash of the client address and port).
    const socks = await Promise.all(Array.from({ length: SOCKETS }, boundUdp));
    try {
      for (let round = 0; round < PER_SOCKET; round++) {
        await Promise.all(socks.map((s, i) => ask(s, t.d!.port, round * SOCKETS + i + 1)));
      }
    } finally {
      for (const s of socks) s.close();
    }
    const d = t.d;
    t.d = undefined;
    await d.stop();
    const stats = logLines(d.output()).filter((l) => l.msg === 'cache stats') as unknown as CacheStats[];
    expect(new Set(stats.map((s) => s.pid))).toEqual(workerPids);
    // startDaemon's readiness probe asks SOA (once or a few times) before the test's queries.
    const total = stats.reduce((a, s) => a + s.answerCache.hits + s.answerCache.misses, 0);
    expect(total).toBeGreaterThan(SOCKETS * PER_SOCKET);
    expect(total).toBeLessThan(SOCKETS * PER_SOCKET + 10);
    // Each distinct question misses once per worker and fills that worker's cache: www.example.com A in both
    // workers (one miss each, not one for the server), plus the SOA probe in whichever worker got it.
    for (const s of stats) {
      expect(s.answerCache.hits + s.answerCache.misses).toBeGreaterThan(1);
      expect(s.answerCache.entries).toBe(s.answerCache.misses);
      expect([1, 2]).toContain(s.answerCache.misses);
    }
    expect(stats.reduce((a, s) => a + s.answerCache.entries, 0)).toBeGreaterThanOrEqual(3);
  });
});
