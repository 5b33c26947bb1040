// End to end (issue 15, "Floods: TCP"): 1,000 idle TCP connections plus 100 slow-loris clients (a byte now and then,
// never a whole message) against two workers at the default tcp.max-connections (1000 for the whole server). The
// limit holds, the quiet connections make room (RFC 7766 §6.2.3), new clients are answered over TCP, and UDP keeps
// answering. Throughput is the benchmark's business; this test checks behaviour only.

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { buildQuery } from '../helpers/dig.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { stopAll } from '../helpers/procs.js';
import { exampleZoneDir, udp, type ZoneDir } from './env.js';

const built = daemonBuilt();
const IDLE = 1000;
const SLOW = 100;
const NEW = 50;
const PER_ADDRESS = 40; // under the default max-connections-per-client (50)

interface Held {
  readonly socket: Socket;
  closed: boolean;
}

/** Open a connection from `from` that sends nothing (or, with `slow`, one byte now and one every 5 s). */
function hold(port: number, from: string, slow: boolean): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    const h: Held = { socket, closed: false };
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      if (slow) {
        // The first octet of a length prefix of 40: a message that never completes.
        socket.write(Buffer.from([0]));
        timer = setInterval(() => socket.write(Buffer.from([40])), 5000);
      }
      resolve(h);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      h.closed = true;
      if (timer !== undefined) clearInterval(timer);
    });
    setTimeout(() => reject(new Error(`connect from ${from} timed out`)), 10_000).unref();
  });
}

/** A new client: one query over a fresh connection; resolves with the answer's rcode and answer count. */
function ask(port: number, from: string, id: number): Promise<{ rcode: number; answers: number }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    const q = buildQuery({ name: 'www.example.com', type: 'A', id });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`new TCP client ${from} (id ${id}) got no answer`));
    }, 10_000);
    s.on('connect', () => s.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q])));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      clearTimeout(timer);
      const m = parseMessage(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      s.destroy();
      resolve({ rcode: m.rcode, answers: m.answer.length });
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`new TCP client ${from} (id ${id}): closed without an answer`));
    });
  });
}

const address = (block: number, i: number): string => `127.0.${block}.${1 + Math.floor(i / PER_ADDRESS)}`;

describe.skipIf('skip' in built)('TCP: 1,000 idle + 100 slow-loris connections (2 workers, default limits)', () => {
  let z: ZoneDir;
  let d: DaemonServer;
  const held: Held[] = [];
  beforeAll(async () => {
    z = exampleZoneDir();
    // A long idle timeout, so that what makes room is the connection limit's eviction, not the timer.
    d = await startDaemon([{ name: 'example.com', file: z.zoneFile }], { workers: 2, extra: { tcp: { 'idle-timeout-ms': 120_000 } } });
  }, 30_000);
  afterAll(async () => {
    for (const h of held) h.socket.destroy();
    await stopAll();
    z.remove();
  });

  it('holds the limit for the whole server, evicts the quiet ones for new clients, and UDP keeps answering', async () => {
    for (let i = 0; i < IDLE; i += 50) {
      held.push(...(await Promise.all(Array.from({ length: Math.min(50, IDLE - i) }, (_, k) => hold(d.port, address(10, i + k), false)))));
    }
    for (let i = 0; i < SLOW; i += 50) {
      held.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => hold(d.port, address(20, i + k), true)))));
    }
    // New clients, one after another: each is answered although the server is full of quiet connections.
    for (let i = 0; i < NEW; i++) expect(await ask(d.port, address(30, i), 100 + i)).toEqual({ rcode: 0, answers: 1 });
    for (let i = 0; i < 100; i++) {
      const m = await udp(d.port, { name: 'www.example.com', type: 'A' });
      expect([m.rcode, m.answer.length]).toEqual([0, 1]);
    }
    await new Promise((r) => setTimeout(r, 500));
    // 1,100 quiet connections (the new clients closed their own) for 1,000 places: at least 100 quiet ones were
    // closed by the server, and never more than 1,000 are open.
    const open = held.filter((h) => !h.closed).length;
    expect(open).toBeLessThanOrEqual(1000);
    expect(held.length - open).toBeGreaterThanOrEqual(IDLE + SLOW - 1000);
    // The connections closed first are the ones quiet longest: the first idle ones, not the last slow-loris ones.
    const closedAt = held.flatMap((h, i) => (h.closed ? [i] : []));
    console.log(`tcp flood: ${held.length} quiet connections, ${closedAt.length} closed by the server, the last closed opened as number ${closedAt.at(-1)}`);
    expect(closedAt.filter((i) => i >= 300)).toEqual([]);
  }, 120_000);
});
