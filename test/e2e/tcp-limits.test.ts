// End to end: tcp.max-connections and max-connections-per-client hold for the whole server with two workers
// (RFC 7766 §6.2.2, §10), counted in one shared table, and places are given back when connections close.

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { buildQuery } from '../helpers/dig.js';
import { stopAll } from '../helpers/procs.js';
import { exampleZoneDir, type ZoneDir } from './env.js';

const built = daemonBuilt();

/** Open a connection from `from`, send one query: the socket when it is answered, null when the server closes it. */
function open(port: number, from: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    const q = buildQuery({ name: 'www.example.com', type: 'A', id: 3 });
    const frame = Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
    let done = false;
    const finish = (v: Socket | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (v === null) s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), 3000);
    s.on('connect', () => s.write(frame));
    s.on('data', () => finish(s));
    s.on('close', () => finish(null));
    s.on('error', () => finish(null));
  });
}

async function openMany(port: number, from: string, n: number): Promise<Socket[]> {
  const out: Socket[] = [];
  // One after another: the answer to each tells whether it was admitted before the next is opened.
  for (let i = 0; i < n; i++) {
    const s = await open(port, from);
    if (s !== null) out.push(s);
  }
  return out;
}

describe.skipIf('skip' in built)('TCP limits for the whole server (2 workers)', () => {
  let z: ZoneDir;
  let d: DaemonServer;
  beforeAll(async () => {
    z = exampleZoneDir();
    d = await startDaemon([{ name: 'example.com', file: z.zoneFile }], { workers: 2, extra: { tcp: { 'max-connections': 4, 'max-connections-per-client': 3, 'idle-timeout-ms': 20000 } } });
  }, 30_000);
  afterAll(async () => {
    await stopAll();
    z.remove();
  });

  it('admits 3 connections from one client and 4 open in all, whichever worker takes them; closed ones free their place', async () => {
    const first = await openMany(d.port, '127.0.0.1', 6);
    expect(first.length).toBe(3);
    // The fourth place is free; after that each new connection takes the place of a quiet one (RFC 7766 §6.2.3):
    // admitted only when the worker that accepts it holds a quiet connection to close.
    const closed = new Set<Socket>();
    for (const s of first) s.on('close', () => closed.add(s));
    const second = await openMany(d.port, '127.0.0.2', 3);
    expect(second.length).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 300));
    const open = [...first, ...second].filter((s) => !closed.has(s) && !s.destroyed);
    expect(open.length).toBe(4);
    for (const s of [...first, ...second]) s.destroy();
    // The server notices the closes; then there is room again.
    await new Promise((r) => setTimeout(r, 300));
    const again = await openMany(d.port, '127.0.0.3', 3);
    expect(again.length).toBe(3);
    for (const s of again) s.destroy();
  }, 60_000);
});
