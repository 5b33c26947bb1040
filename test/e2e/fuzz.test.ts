// End-to-end robustness: ~3000 random and mutated UDP packets (seeded PRNG, reproducible) sent to the running
// daemon; every response that comes back must be a well-formed DNS message (strict decoder) with QR set and an
// ID that was sent, the process must not crash or log a fatal error, and it must still answer SOA correctly.

import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQuery, type QuerySpec } from '../helpers/dig.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { exampleZoneDir, lines, logLines, sleep, udp, type ZoneDir } from './env.js';
import { prng } from '../helpers/prng.js';

const built = daemonBuilt();
const SEED = 0x5eed1234;
const COUNT = 3000;

const SEEDS: readonly QuerySpec[] = [
  { name: 'example.com', type: 'SOA' },
  { name: 'www.example.com', type: 'A', edns: { udpSize: 1232, do: true } },
  { name: 'nope.example.com', type: 'AAAA' },
  { name: 'x.apps.example.com', type: 'A', edns: { udpSize: 4096, do: false, options: [{ code: 3, data: new Uint8Array(0) }] } },
  { name: 'host.sub.example.com', type: 'NS' },
  { name: '_sip._tcp.example.com', type: 'SRV' },
  { name: 'blog.example.com', type: 'ANY' },
  { name: 'id.server', type: 'TXT', class: 'CH' },
  { name: 'example.com', type: 'AXFR' },
  { name: 'example.com', type: 'IXFR' },
  { name: 'example.org', type: 'A', edns: { udpSize: 512, do: false, version: 1 } },
];

function makePacket(rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  const kind = int(6);
  if (kind === 0) {
    // Pure noise of any length (including shorter than a header).
    const b = Buffer.alloc(int(300));
    for (let i = 0; i < b.length; i++) b[i] = int(256);
    return b;
  }
  const base = buildQuery({ ...SEEDS[int(SEEDS.length)]!, id: int(0x10000) });
  const b = Buffer.from(base);
  switch (kind) {
    case 1: {
      // Flip a few bits anywhere (header flags, counts, labels, OPT).
      for (let n = 1 + int(4); n > 0; n--) {
        const i = int(b.length);
        b[i] = b[i]! ^ (1 << int(8));
      }
      return b;
    }
    case 2:
      // Truncate.
      return b.subarray(0, int(b.length));
    case 3: {
      // Overwrite counts and opcode/flags with random values.
      b.writeUInt16BE(int(0x10000) & ~0x8000, 2);
      for (let o = 4; o < 12; o += 2) if (rnd() < 0.5) b.writeUInt16BE(int(rnd() < 0.7 ? 4 : 0x10000), o);
      return b;
    }
    case 4: {
      // Compression pointers inside the question (forward, self, loops) or label-type bits.
      const i = 12 + int(Math.max(1, b.length - 16));
      b[i] = 0xc0 | int(0x40);
      if (i + 1 < b.length) b[i + 1] = int(256);
      return b;
    }
    default: {
      // Random garbage appended (trailing data, fake RRs).
      const tail = Buffer.alloc(1 + int(64));
      for (let i = 0; i < tail.length; i++) tail[i] = int(256);
      if (rnd() < 0.5) b.writeUInt16BE(b.readUInt16BE(10) + 1 + int(3), 10);
      return Buffer.concat([b, tail]);
    }
  }
}

describe.skipIf('skip' in built)('UDP fuzz', () => {
  let d: DaemonServer;
  let z: ZoneDir;
  beforeAll(async () => {
    z = exampleZoneDir();
    d = await startDaemon([{ name: 'example.com', file: z.zoneFile }]);
  });
  afterAll(async () => {
    await d?.stop();
    z?.remove();
  });

  it(`survives ${COUNT} random/mutated packets (seed 0x${SEED.toString(16)}) and every response is well-formed`, async () => {
    const rnd = prng(SEED);
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const sentIds = new Set<number>();
    const malformed: string[] = [];
    let responses = 0;
    sock.on('message', (buf) => {
      responses++;
      try {
        const m = parseMessage(buf);
        if (!m.qr) throw new Error('QR clear in a response');
        if (!sentIds.has(m.id)) throw new Error(`unknown id ${m.id}`);
        if (m.rcode === 2) throw new Error('SERVFAIL');
      } catch (e) {
        if (malformed.length < 10) malformed.push(`${(e as Error).message}: ${buf.toString('hex')}`);
      }
    });
    for (let i = 0; i < COUNT; i++) {
      const p = makePacket(rnd);
      if (p.length >= 2) sentIds.add(p.readUInt16BE(0));
      sock.send(p, d.port, '127.0.0.1');
      if (i % 50 === 49) await sleep(5);
    }
    await sleep(500);
    sock.close();
    expect(malformed).toEqual([]);
    // Most mutated queries still deserve an answer (FORMERR at least); the dropped ones are QR=1 or headerless.
    expect(responses).toBeGreaterThan(COUNT / 2);
    const soa = await udp(d.port, { name: 'example.com', type: 'SOA' });
    expect(lines(soa.answer)).toEqual(['example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024060101 7200 3600 1209600 300']);
    let exited = false;
    void d.exited.then(() => {
      exited = true;
    });
    await sleep(10);
    expect(exited).toBe(false);
    expect(logLines(d.output()).filter((l) => typeof l.level === 'number' && l.level >= 50).map((l) => l.msg)).toEqual([]);
  });
});
