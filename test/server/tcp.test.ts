// Tests for the TCP listener (RFC 7766): pipelining out of order, streams, limits, timeouts, graceful close.

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Handler } from '../../src/server/handler.js';
import { startListeners, type Listeners } from '../../src/server/listen.js';
import type { TcpLimits } from '../../src/server/tcp.js';
import { sleep, tcpConnect, udpAsk, type TcpTestClient } from './netutil.js';

let open: Listeners[] = [];
let clients: TcpTestClient[] = [];
afterEach(async () => {
  for (const c of clients) c.socket.destroy();
  clients = [];
  await Promise.all(open.map((l) => l.close(0)));
  open = [];
});

async function serve(handler: Handler, limits: Partial<TcpLimits> = {}): Promise<{ l: Listeners; port: number }> {
  const l = await startListeners(['127.0.0.1:0'], handler, { tcpLimits: limits });
  open.push(l);
  return { l, port: l.bound[0]?.port ?? 0 };
}

async function connect(port: number): Promise<TcpTestClient> {
  const c = await tcpConnect('127.0.0.1', port);
  clients.push(c);
  return c;
}

const text = (ms: readonly Buffer[]): string[] => ms.map((m) => m.toString());
const echo = (msg: Uint8Array): Uint8Array => Buffer.concat([Buffer.from('R:'), msg]);

describe('TCP listener', () => {
  it('answers 3 pipelined queries concurrently, out of order, correctly framed', async () => {
    const delays: Record<string, number> = { q1: 150, q2: 10, q3: 70 };
    let concurrent = 0;
    let maxConcurrent = 0;
    const { l, port } = await serve(async (m) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await sleep(delays[Buffer.from(m).toString()] ?? 0);
      concurrent--;
      return echo(m);
    });
    const c = await connect(port);
    // All three in one segment.
    c.socket.write(Buffer.from('0002q10002q20002q3'.replace(/0002/g, '\x00\x02'), 'latin1'));
    expect(text(await c.waitFor(3))).toEqual(['R:q2', 'R:q3', 'R:q1']);
    expect(maxConcurrent).toBe(3);
    expect(l.stats.tcpQueries).toBe(3);
    expect(l.stats.tcpResponses).toBe(3);
  });

  it('writes the messages of one streamed answer consecutively, others queue behind it', async () => {
    const { port } = await serve((m) => {
      const q = Buffer.from(m).toString();
      if (q === 'axfr') {
        return (async function* () {
          for (let i = 1; i <= 3; i++) {
            await sleep(30);
            yield Buffer.from(`x${i}`);
          }
        })();
      }
      if (q === 'arr') return [Buffer.from('a1'), Buffer.from('a2')];
      return echo(m);
    });
    const c = await connect(port);
    c.send(Buffer.from('axfr'));
    await sleep(10);
    c.send(Buffer.from('quick'));
    c.send(Buffer.from('arr'));
    expect(text(await c.waitFor(6))).toEqual(['x1', 'x2', 'x3', 'R:quick', 'a1', 'a2']);
  });

  it('reports TCP client info', async () => {
    let seen = '';
    const { port } = await serve((m, ci) => {
      seen = `${ci.transport} ${ci.family} ${ci.address} ${ci.localAddress}:${ci.localPort}`;
      return echo(m);
    });
    const c = await connect(port);
    c.send(Buffer.from('x'));
    await c.waitFor(1);
    expect(seen).toBe(`tcp IPv4 127.0.0.1 127.0.0.1:${port}`);
  });

  it('closes idle connections after the configured timeout (RFC 7766 §6.2.3)', async () => {
    const { l, port } = await serve(echo, { idleTimeoutMs: 200 });
    const c = await connect(port);
    c.send(Buffer.from('one'));
    await c.waitFor(1);
    const elapsed = await c.closed;
    expect(elapsed).toBeGreaterThanOrEqual(180);
    expect(elapsed).toBeLessThan(1500);
    expect(l.stats.tcpIdleClosed).toBe(1);
  });

  it('does not close a connection whose query is still being answered', async () => {
    const { port } = await serve(
      async (m) => {
        await sleep(350);
        return echo(m);
      },
      { idleTimeoutMs: 150 },
    );
    const c = await connect(port);
    c.send(Buffer.from('slow'));
    expect(text(await c.waitFor(1))).toEqual(['R:slow']);
  });

  it('refuses connections over the per-client limit at once', async () => {
    const { l, port } = await serve(echo, { maxConnectionsPerClient: 3 });
    const ok = [await connect(port), await connect(port), await connect(port)];
    await sleep(30);
    const extra = await connect(port);
    const t = await extra.closed;
    expect(t).toBeLessThan(500);
    expect(l.stats.tcpConnectionsRefused).toBe(1);
    for (const c of ok) c.send(Buffer.from('still'));
    for (const c of ok) expect(text(await c.waitFor(1))).toEqual(['R:still']);
  });

  it('at the total limit a new connection takes the place of the one quiet longest (RFC 7766 §6.2.3)', async () => {
    const { l, port } = await serve(echo, { maxConnections: 2 });
    const older = await connect(port);
    await sleep(20);
    const newer = await connect(port);
    await sleep(20);
    // `older` answered a query after `newer` opened: now `newer` is the one quiet longest.
    older.send(Buffer.from('busy'));
    expect(text(await older.waitFor(1))).toEqual(['R:busy']);
    const extra = await connect(port);
    await newer.closed;
    extra.send(Buffer.from('new'));
    expect(text(await extra.waitFor(1))).toEqual(['R:new']);
    older.send(Buffer.from('still'));
    expect(text(await older.waitFor(2)).slice(1)).toEqual(['R:still']);
    expect([l.stats.tcpEvicted, l.stats.tcpConnectionsRefused]).toEqual([1, 0]);
  });

  it('refuses a connection over the total limit when every open one is busy', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const { l, port } = await serve(async (m) => {
      await gate;
      return echo(m);
    }, { maxConnections: 2 });
    const busy = [await connect(port), await connect(port)];
    for (const c of busy) c.send(Buffer.from('wait'));
    await sleep(30);
    const extra = await connect(port);
    await extra.closed;
    expect([l.stats.tcpEvicted, l.stats.tcpConnectionsRefused]).toEqual([0, 1]);
    release();
    for (const c of busy) expect(text(await c.waitFor(1))).toEqual(['R:wait']);
  });

  it('closes on a zero-length message (protocol error)', async () => {
    const { l, port } = await serve(echo);
    const c = await connect(port);
    c.socket.write(Buffer.from([0, 0]));
    await c.closed;
    expect(l.stats.tcpProtocolErrors).toBe(1);
  });

  it('closes on a message above maxMessageSize', async () => {
    const { l, port } = await serve(echo, { maxMessageSize: 512 });
    const c = await connect(port);
    c.socket.write(Buffer.from([0x02, 0x01]));
    await c.closed;
    expect(l.stats.tcpProtocolErrors).toBe(1);
  });

  it('destroys a connection whose unread answers exceed the output cap', async () => {
    const big = Array.from({ length: 80 }, () => new Uint8Array(65535).fill(0x41)); // ~5 MiB
    const { l, port } = await serve(() => big, { maxOutputBytes: 256 * 1024 });
    const c = await connect(port);
    c.socket.pause(); // never read
    c.send(Buffer.from('axfr'));
    await c.closed;
    expect(l.stats.tcpSlowReaders).toBe(1);
  });

  it('destroys a connection that stops reading a streamed answer (write stall)', async () => {
    const { l, port } = await serve(
      () =>
        (function* () {
          for (let i = 0; i < 10_000; i++) yield new Uint8Array(65535);
        })(),
      { idleTimeoutMs: 300 },
    );
    const c = await connect(port);
    c.socket.pause();
    c.send(Buffer.from('axfr'));
    const t0 = Date.now();
    while (l.stats.tcpSlowReaders === 0 && Date.now() - t0 < 3000) await sleep(20);
    expect(l.stats.tcpSlowReaders).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250); // one full idle period without progress
    c.socket.resume(); // a paused client only sees the close once it reads
    await c.closed;
  });

  it('limits in-flight queries per connection and still answers all of them', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const { port } = await serve(
      async (m) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await sleep(20);
        concurrent--;
        return echo(m);
      },
      { maxInFlightPerConnection: 2 },
    );
    const c = await connect(port);
    for (let i = 0; i < 7; i++) c.send(Buffer.from(`q${i}`));
    const got = text(await c.waitFor(7));
    expect(got.slice().sort()).toEqual(['R:q0', 'R:q1', 'R:q2', 'R:q3', 'R:q4', 'R:q5', 'R:q6']);
    expect(maxConcurrent).toBe(2);
  });

  it('answers a client that half-closes after sending its query', async () => {
    const { port } = await serve(async (m) => {
      await sleep(50);
      return echo(m);
    });
    const c = await connect(port);
    c.send(Buffer.from('bye'));
    c.socket.end();
    expect(text(await c.waitFor(1))).toEqual(['R:bye']);
    await c.closed;
  });

  it('a slow-loris client blocks neither UDP nor other TCP clients, and is timed out', async () => {
    const { l, port } = await serve(echo, { idleTimeoutMs: 1500 });
    const loris = await connect(port);
    loris.socket.write(Buffer.from([0x00])); // one byte of a length prefix, then silence
    await sleep(50);
    const t0 = Date.now();
    expect((await udpAsk('127.0.0.1', port, Buffer.from('udp'))).toString()).toBe('R:udp');
    const other = await connect(port);
    other.send(Buffer.from('tcp'));
    expect(text(await other.waitFor(1))).toEqual(['R:tcp']);
    expect(Date.now() - t0).toBeLessThan(1000); // far below the 1.5 s the loris holds its connection
    const lorisLife = await loris.closed;
    expect(lorisLife).toBeGreaterThanOrEqual(1450);
    expect(lorisLife).toBeLessThan(4000);
    expect(l.stats.tcpIdleClosed).toBeGreaterThanOrEqual(1);
  });

  it('graceful close: stops accepting, finishes in-flight answers, then closes', async () => {
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => {
      started = r;
    });
    const { l, port } = await serve(async (m) => {
      started();
      await sleep(200);
      return echo(m);
    });
    const c = await connect(port);
    c.send(Buffer.from('inflight'));
    await handlerStarted;
    const closing = l.close(3000);
    await sleep(20);
    // No longer accepting.
    await expect(
      new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code)));
      }),
    ).rejects.toThrow('ECONNREFUSED');
    expect(text(await c.waitFor(1))).toEqual(['R:inflight']);
    await c.closed;
    await closing;
  });

  it('graceful close destroys connections still busy at the deadline', async () => {
    const { l, port } = await serve(() => new Promise<Uint8Array | null>(() => undefined)); // never answers
    const c = await connect(port);
    c.send(Buffer.from('stuck'));
    await sleep(30);
    const t0 = Date.now();
    await l.close(150);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1000);
    await c.closed;
    expect(c.messages.length).toBe(0);
  });
});
