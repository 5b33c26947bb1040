// End-to-end response rate limiting: one source flooding one name over many source ports (so the kernel spreads it
// over both workers) gets about rate × seconds answers and slip-truncated replies; a second, slow source is
// unaffected; TCP is never limited. Bounded: 15,000 queries in 3 s.

import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { buildQuery, queryTcp } from '../helpers/dig.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { stopAll } from '../helpers/procs.js';
import { exampleZoneDir, type ZoneDir } from './env.js';

const built = daemonBuilt();
const RATE = 20;

interface Tally {
  full: number;
  truncated: number;
}

function sockets(n: number, address: string, tally: Tally): Promise<Socket[]> {
  return Promise.all(
    Array.from({ length: n }, () => new Promise<Socket>((resolve) => {
      const s = createSocket('udp4');
      s.on('message', (m) => {
        const msg = parseMessage(m);
        if (msg.flags & 0x0200) tally.truncated++;
        else if (msg.answer.length > 0) tally.full++;
      });
      s.bind(0, address, () => resolve(s));
    })),
  );
}

/** Send `perSecond` queries per second (in 10 ms ticks) for `seconds`, round-robin over `socks`; then wait 500 ms. */
async function send(socks: readonly Socket[], port: number, perSecond: number, seconds: number): Promise<void> {
  const q = buildQuery({ name: 'www.example.com', type: 'A', id: 1 });
  const perTick = Math.max(1, Math.round(perSecond / 100));
  const ticks = perSecond >= 100 ? seconds * 100 : seconds * perSecond;
  const every = perSecond >= 100 ? 10 : 1000 / perSecond;
  let i = 0;
  for (let t = 0; t < ticks; t++) {
    for (let k = 0; k < perTick; k++) socks[i++ % socks.length]!.send(q, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, every));
  }
  await new Promise((r) => setTimeout(r, 500));
}

describe.skipIf('skip' in built)('response rate limiting end to end (2 workers, one shared table)', () => {
  let z: ZoneDir;
  let d: DaemonServer;
  beforeAll(async () => {
    z = exampleZoneDir();
    d = await startDaemon([{ name: 'example.com', file: z.zoneFile }], { workers: 2, extra: { rrl: { 'responses-per-second': RATE, slip: 2, exempt: [] } } });
  }, 30_000);
  afterAll(async () => {
    await stopAll();
    z.remove();
  });

  it('limits a 5,000 q/s flood from one address as one, and leaves a slow second address alone', async () => {
    const flood: Tally = { full: 0, truncated: 0 };
    const calm: Tally = { full: 0, truncated: 0 };
    const floodSocks = await sockets(16, '127.0.0.1', flood);
    const calmSocks = await sockets(1, '127.1.0.1', calm);
    try {
      await Promise.all([send(floodSocks, d.port, 5000, 3), send(calmSocks, d.port, 5, 3)]);
    } finally {
      for (const s of [...floodSocks, ...calmSocks]) s.close();
    }
    console.log(`rrl: flood of 15,000 queries at 5,000/s from one address: ${flood.full} full answers, ${flood.truncated} truncated (rate ${RATE}, slip 2); calm address: ${calm.full} full, ${calm.truncated} truncated`);
    // One bucket for both workers: a new bucket holds RATE answers, and a flood far over the rate keeps it in debt
    // (at most window × RATE deep), so about RATE answers in all; per-worker buckets would give about twice that.
    expect(flood.full).toBeGreaterThanOrEqual(RATE);
    expect(flood.full).toBeLessThanOrEqual(RATE * 1.5);
    // slip 2: about every second limited response comes back truncated (UDP loss on loopback aside).
    expect(flood.truncated).toBeGreaterThan(2000);
    expect(flood.truncated).toBeLessThan(8000);
    expect(calm).toEqual({ full: 15, truncated: 0 });
    // TCP is never limited: the flooding address is answered in full there.
    const m = parseMessage(await queryTcp(d.port, buildQuery({ name: 'www.example.com', type: 'A', id: 9 })));
    expect(m.answer.length).toBe(1);
    expect(d.output()).toContain('"reason":"rate_limit"');
  }, 30_000);
});
