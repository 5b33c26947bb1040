// End-to-end TCP (RFC 7766): several pipelined queries on one connection are all answered (any order), the
// idle timeout (tcp.idle-timeout-ms: 300) closes a quiet connection from the server side, and hostile slow
// clients (half-sent frames, one byte at a time, a reader that never reads big answers) block neither UDP
// service nor new TCP connections.

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQuery } from '../helpers/dig.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { parseMessage, type ParsedMessage } from '../helpers/dnsmsg.js';
import { exampleZoneDir, lines, sleep, tcp, udp, type ZoneDir } from './env.js';

const built = daemonBuilt();
let bigZone = '\n';
for (let i = 0; i < 40; i++) bigZone += `big 300 IN TXT "r${i} ${'z'.repeat(240)}"\n`;

function frame(q: Buffer): Buffer {
  const f = Buffer.alloc(2 + q.length);
  f.writeUInt16BE(q.length, 0);
  f.set(q, 2);
  return f;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

describe.skipIf('skip' in built)('TCP transport', () => {
  let d: DaemonServer;
  let z: ZoneDir;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    z = exampleZoneDir(bigZone);
    d = await startDaemon([{ name: 'example.com', file: z.zoneFile }], { extra: { tcp: { 'idle-timeout-ms': 300 } } });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await d?.stop();
    z?.remove();
  });

  it('answers several pipelined queries sent in one write on one connection', async () => {
    const qs = [
      { id: 11, name: 'example.com', type: 'SOA' },
      { id: 12, name: 'www.example.com', type: 'A' },
      { id: 13, name: 'nope.example.com', type: 'A' },
      { id: 14, name: 'example.com', type: 'MX' },
      { id: 15, name: 'x.apps.example.com', type: 'AAAA' },
      { id: 16, name: 'big.example.com', type: 'TXT' },
    ] as const;
    const s = await open(d.port);
    sockets.push(s);
    const got = new Map<number, ParsedMessage>();
    await new Promise<void>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const t = setTimeout(() => reject(new Error(`only ${got.size} answers`)), 5000);
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const m = parseMessage(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
          got.set(m.id, m);
        }
        if (got.size === qs.length) {
          clearTimeout(t);
          resolve();
        }
      });
      s.write(Buffer.concat(qs.map((q) => frame(buildQuery(q)))));
    });
    s.destroy();
    expect([...got.keys()].sort()).toEqual([11, 12, 13, 14, 15, 16]);
    expect(lines(got.get(11)!.answer)).toEqual(['example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024060101 7200 3600 1209600 300']);
    expect(lines(got.get(12)!.answer)).toEqual(['www.example.com. 300 IN A 192.0.2.10']);
    expect(got.get(13)!.rcode).toBe(3);
    expect(lines(got.get(14)!.answer)).toEqual(['example.com. 3600 IN MX 10 mail1.example.com.', 'example.com. 3600 IN MX 20 mail2.example.com.']);
    expect(lines(got.get(15)!.answer)).toEqual(['x.apps.example.com. 60 IN AAAA 2001:db8:0:0:0:0:0:80'] /* dnsmsg.ts prints AAAA uncompressed */);
    expect(got.get(16)!.answer.length).toBe(40);
    expect(got.get(16)!.tc).toBe(false);
  });

  it('closes an idle connection after tcp.idle-timeout-ms (300 ms)', async () => {
    const s = await open(d.port);
    sockets.push(s);
    let answeredAt = 0;
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('idle connection not closed within 3 s')), 3000);
      s.on('data', () => {
        answeredAt = Date.now();
      });
      s.on('end', () => {
        clearTimeout(t);
        resolve(Date.now() - answeredAt);
      });
      s.write(frame(buildQuery({ name: 'example.com', type: 'SOA' })));
    });
    s.destroy();
    expect(answeredAt).toBeGreaterThan(0);
    expect(closedAfter).toBeGreaterThanOrEqual(250);
    expect(closedAfter).toBeLessThan(1500);
  });

  it('hostile slow TCP clients do not block UDP answers or new TCP connections', async () => {
    // 20 half-sent frames, 5 one-byte-at-a-time writers, 3 readers that never read 200 big answers each.
    for (let i = 0; i < 20; i++) {
      const s = await open(d.port);
      sockets.push(s);
      s.on('error', () => undefined);
      s.write(Buffer.from([0x00, 0x40, 0x12]));
    }
    const dribblers: NodeJS.Timeout[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await open(d.port);
      sockets.push(s);
      s.on('error', () => undefined);
      const bytes = frame(buildQuery({ name: 'example.com', type: 'SOA' }));
      let p = 0;
      dribblers.push(setInterval(() => {
        if (p < bytes.length && !s.destroyed) s.write(bytes.subarray(p, ++p));
      }, 40));
    }
    for (let i = 0; i < 3; i++) {
      const s = await open(d.port);
      sockets.push(s);
      s.on('error', () => undefined);
      s.pause();
      const q = frame(buildQuery({ name: 'big.example.com', type: 'TXT' }));
      s.write(Buffer.concat(Array.from({ length: 200 }, () => q)));
    }
    await sleep(50);
    const started = Date.now();
    let answered = 0;
    for (let i = 0; i < 200; i++) {
      const m = await udp(d.port, { name: 'www.example.com', type: 'A', id: i }, '127.0.0.1', 500);
      if (m.rcode === 0 && m.id === i && lines(m.answer)[0] === 'www.example.com. 300 IN A 192.0.2.10') answered++;
    }
    const udpMs = Date.now() - started;
    const viaTcp = await tcp(d.port, { name: 'example.com', type: 'SOA' }, '127.0.0.1', 2000);
    for (const t of dribblers) clearInterval(t);
    expect(answered).toBe(200);
    expect(udpMs).toBeLessThan(5000);
    expect(viaTcp.rcode).toBe(0);
    expect(viaTcp.answer.length).toBe(1);
  });
});
