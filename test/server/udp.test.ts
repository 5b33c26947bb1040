// Tests for both UDP transports (node:dgram and the batched native addon): echo round trips on IPv4/IPv6 loopback,
// async and iterable results, handler errors, close, queries up to the largest datagram; plus batches and large
// answers for the addon.

import { afterEach, describe, expect, it } from 'vitest';
import type { ClientInfo, Handler } from '../../src/server/handler.js';
import { startListeners, type Listeners } from '../../src/server/listen.js';
import { nativeUdp, nativeUdpUnavailable } from '../../src/server/native-udp.js';
import { hasIPv6Loopback, sleep, udpAsk, udpSilent } from './netutil.js';

const batchedBuilt = nativeUdp() !== undefined;
if (!batchedBuilt) {
  // CI builds the addon (npm test runs the build); there a missing addon is a failure, never a skip.
  if (process.env.APEXDNS_REQUIRE_PEERS === '1') throw new Error(`batched UDP addon missing (APEXDNS_REQUIRE_PEERS=1): ${nativeUdpUnavailable()}`);
  console.warn(`test/server/udp: batched UDP tests skipped: ${nativeUdpUnavailable()}`);
}
const IOS = [
  { io: 'dgram', skip: false },
  { io: 'batched', skip: !batchedBuilt },
] as const;

const ipv6 = await hasIPv6Loopback();
if (!ipv6) console.warn('test/server/udp: ::1 cannot be bound on this host (no IPv6 loopback); IPv6 tests skipped');

let open: Listeners[] = [];
afterEach(async () => {
  await Promise.all(open.map((l) => l.close(0)));
  open = [];
});

async function serve(addr: string, handler: Handler, io: 'dgram' | 'batched'): Promise<{ l: Listeners; port: number }> {
  const l = await startListeners([addr], handler, { tcp: false, udpIo: io });
  open.push(l);
  return { l, port: l.bound[0]?.port ?? 0 };
}

const echo = (msg: Uint8Array): Uint8Array => Buffer.concat([Buffer.from('R:'), msg]);

describe.each(IOS)('UDP listener ($io)', ({ io, skip }) => {
  if (skip) return;
  const serveIo = (addr: string, h: Handler): ReturnType<typeof serve> => serve(addr, h, io);

  it('echo round trip on 127.0.0.1 with the client info filled in', async () => {
    let seen: ClientInfo | undefined;
    const { l, port } = await serveIo('127.0.0.1:0', (m, c) => {
      seen = c;
      return echo(m);
    });
    const answer = await udpAsk('127.0.0.1', port, Buffer.from('hello'));
    expect(answer.toString()).toBe('R:hello');
    expect(seen?.transport).toBe('udp');
    expect(seen?.address).toBe('127.0.0.1');
    expect(seen?.family).toBe('IPv4');
    expect(seen?.localAddress).toBe('127.0.0.1');
    expect(seen?.localPort).toBe(port);
    expect(seen?.port).toBeGreaterThan(0);
    expect(l.stats.udpQueries).toBe(1);
    expect(l.stats.udpResponses).toBe(1);
  });

  it('answers queries of every size a datagram can carry, up to the IPv4 maximum of 65507 octets', async () => {
    // Large EDNS options or a TSIG record make a legal query longer than the 4096-octet batch slot; RFC 768 caps a
    // datagram at 65535 octets, 65507 of payload over IPv4. The handler answers each with the length it saw and
    // a checksum of the octets, so a query cut short or stitched wrongly shows.
    const { l, port } = await serveIo('127.0.0.1:0', (m) => {
      let sum = 0;
      for (let i = 0; i < m.length; i++) sum = (sum * 31 + m[i]!) >>> 0;
      return Buffer.from(`${m.length}:${sum}`);
    });
    const sizes = [4095, 4096, 4097, 9000, 32768, 65507];
    for (const n of sizes) {
      const q = Buffer.alloc(n);
      for (let i = 0; i < n; i++) q[i] = (i * 7 + n) & 0xff;
      let sum = 0;
      for (let i = 0; i < n; i++) sum = (sum * 31 + q[i]!) >>> 0;
      expect((await udpAsk('127.0.0.1', port, q)).toString()).toBe(`${n}:${sum}`);
    }
    expect(l.stats.udpQueries).toBe(sizes.length);
    expect(l.stats.udpDropped).toBe(0);
  });

  it.skipIf(!ipv6)('echo round trip on [::1]', async () => {
    let seen: ClientInfo | undefined;
    const { port } = await serveIo('[::1]:0', (m, c) => {
      seen = c;
      return echo(m);
    });
    expect((await udpAsk('::1', port, Buffer.from('six'))).toString()).toBe('R:six');
    expect(seen?.address).toBe('::1');
    expect(seen?.family).toBe('IPv6');
  });

  it.skipIf(!ipv6)('dual-stack ":port" reports IPv4 clients as IPv4', async () => {
    let seen: ClientInfo | undefined;
    const { port } = await serveIo(':0', (m, c) => {
      seen = c;
      return echo(m);
    });
    expect((await udpAsk('127.0.0.1', port, Buffer.from('v4'))).toString()).toBe('R:v4');
    expect(seen?.address).toBe('127.0.0.1');
    expect(seen?.family).toBe('IPv4');
    expect((await udpAsk('::1', port, Buffer.from('v6'))).toString()).toBe('R:v6');
    expect(seen?.address).toBe('::1');
  });

  it('sends async answers when they resolve, and drops null ones', async () => {
    const { l, port } = await serveIo('127.0.0.1:0', async (m) => {
      await sleep(30);
      return m[0] === 0x78 ? null : echo(m); // 'x' → no answer
    });
    expect((await udpAsk('127.0.0.1', port, Buffer.from('late'))).toString()).toBe('R:late');
    expect(await udpSilent('127.0.0.1', port, Buffer.from('x'))).toBe(true);
    expect(l.stats.udpDropped).toBe(1);
  });

  it('sends only the first message of arrays, iterables and async iterables', async () => {
    let finallyRan = false;
    const { port } = await serveIo('127.0.0.1:0', (m) => {
      const k = String.fromCharCode(m[0] ?? 0);
      if (k === 'a') return [Buffer.from('a1'), Buffer.from('a2')];
      if (k === 'i') return new Set([Buffer.from('i1'), Buffer.from('i2')]);
      return (async function* () {
        try {
          yield Buffer.from('g1');
          yield Buffer.from('g2');
        } finally {
          finallyRan = true;
        }
      })();
    });
    expect((await udpAsk('127.0.0.1', port, Buffer.from('a'))).toString()).toBe('a1');
    expect((await udpAsk('127.0.0.1', port, Buffer.from('i'))).toString()).toBe('i1');
    expect((await udpAsk('127.0.0.1', port, Buffer.from('g'))).toString()).toBe('g1');
    await sleep(20);
    expect(finallyRan).toBe(true);
  });

  it('survives throwing and rejecting handlers, counting them', async () => {
    const { l, port } = await serveIo('127.0.0.1:0', (m) => {
      if (m[0] === 0x74) throw new Error('boom'); // 't'
      if (m[0] === 0x72) return Promise.reject(new Error('async boom')); // 'r'
      return echo(m);
    });
    expect(await udpSilent('127.0.0.1', port, Buffer.from('t'))).toBe(true);
    expect(await udpSilent('127.0.0.1', port, Buffer.from('r'))).toBe(true);
    expect((await udpAsk('127.0.0.1', port, Buffer.from('ok'))).toString()).toBe('R:ok');
    expect(l.stats.handlerErrors).toBe(2);
  });

  it('close() waits for pending async answers, then stops answering', async () => {
    const { l, port } = await serveIo('127.0.0.1:0', async (m) => {
      await sleep(150);
      return echo(m);
    });
    const pending = udpAsk('127.0.0.1', port, Buffer.from('inflight'));
    await sleep(50);
    const t0 = Date.now();
    await l.close(2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(80);
    expect((await pending).toString()).toBe('R:inflight');
    expect(await udpSilent('127.0.0.1', port, Buffer.from('after'), 200)).toBe(true);
  });
});

describe.skipIf(!batchedBuilt)('batched UDP', () => {
  it('answers a burst larger than one batch, every datagram to its own sender', async () => {
    const { l, port } = await serve('127.0.0.1:0', (m) => echo(m), 'batched');
    const { createSocket } = await import('node:dgram');
    const socks = Array.from({ length: 4 }, () => createSocket('udp4'));
    const got = socks.map(() => new Set<string>());
    const done = new Promise<void>((resolve) => {
      socks.forEach((s, k) =>
        s.on('message', (msg) => {
          got[k]!.add(msg.toString());
          if (got.every((g) => g.size === 150)) resolve();
        }),
      );
    });
    for (let i = 0; i < 150; i++) socks.forEach((s, k) => s.send(Buffer.from(`${k}-${i}`), port, '127.0.0.1'));
    await Promise.race([done, sleep(5000)]);
    for (const s of socks) s.close();
    got.forEach((g, k) => expect([...g].sort()).toEqual(Array.from({ length: 150 }, (_, i) => `R:${k}-${i}`).sort()));
    expect(l.stats.udpQueries).toBe(600);
    expect(l.stats.udpResponses).toBe(600);
  });

  it('sends answers larger than a slot on their own', async () => {
    const { port } = await serve('127.0.0.1:0', (m) => (m[0] === 0x62 ? Buffer.alloc(6000, 0x41) : echo(m)), 'batched');
    const big = await udpAsk('127.0.0.1', port, Buffer.from('b'));
    expect(big.length).toBe(6000);
    expect((await udpAsk('127.0.0.1', port, Buffer.alloc(4096, 0x63))).length).toBe(4098);
  });
});

