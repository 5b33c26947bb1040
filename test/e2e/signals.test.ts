// End-to-end process control: SIGTERM and SIGINT make the daemon stop accepting, finish the TCP answers already
// in flight (every pipelined query received before the signal is answered, frames never cut), and exit 0;
// with `workers: 2` the primary and both workers (pids taken from the log) are gone afterwards, no orphans.

import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildQuery } from '../helpers/dig.js';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { alive } from '../helpers/procs.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { nativeUdp } from '../../src/server/native-udp.js';
import { startListeners } from '../../src/server/listen.js';
import { exampleZoneDir, logLines, perTest, udp, waitFor } from './env.js';

const built = daemonBuilt();
const BIG = 20;
let bigZone = '\n';
for (let i = 0; i < BIG; i++) bigZone += `big 300 IN TXT "r${i} ${'y'.repeat(200)}"\n`;

interface StreamResult {
  readonly answers: number;
  readonly ids: ReadonlySet<number>;
  /** Octets left over after the last complete frame when the server closed. */
  readonly leftover: number;
  readonly malformed: number;
}

/**
 * Pipeline `n` queries for big.example.com TXT on one connection in a single write, call `onFirst` when the first
 * answer arrives, and collect answers until the server closes the connection.
 */
function pipelineUntilClose(port: number, n: number, onFirst: () => void): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const frames: Buffer[] = [];
    for (let id = 1; id <= n; id++) {
      const q = buildQuery({ id, name: 'big.example.com', type: 'TXT' });
      const f = Buffer.alloc(2 + q.length);
      f.writeUInt16BE(q.length, 0);
      f.set(q, 2);
      frames.push(f);
    }
    const ids = new Set<number>();
    let answers = 0;
    let malformed = 0;
    let pending = Buffer.alloc(0);
    const sock = connect({ port, host: '127.0.0.1' }, () => sock.write(Buffer.concat(frames)));
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connection not closed by the server; ${answers} answers`));
    }, 10_000);
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const len = pending.readUInt16BE(0);
        try {
          const m = parseMessage(pending.subarray(2, 2 + len));
          if (m.rcode === 0 && m.answer.length === BIG) ids.add(m.id);
          else malformed++;
        } catch {
          malformed++;
        }
        pending = pending.subarray(2 + len);
        if (answers++ === 0) onFirst();
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ answers, ids, leftover: pending.length, malformed });
    });
  });
}

describe.skipIf('skip' in built)('signals', () => {
  const t = perTest();

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig}: in-flight pipelined TCP answers all arrive, then exit 0`, async () => {
      t.z = exampleZoneDir(bigZone);
      t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }]);
      const pid = t.d.pid;
      const N = 200;
      const res = await pipelineUntilClose(t.d.port, N, () => process.kill(pid, sig));
      expect(await t.d.exited).toBe(0);
      expect(res.malformed).toBe(0);
      expect(res.leftover).toBe(0);
      expect(res.answers).toBe(N);
      expect(res.ids.size).toBe(N);
      expect(alive(pid)).toBe(false);
      // stdout may still be draining after the exit event.
      await waitFor(`"stopping gracefully" for ${sig} in the log`, () => logLines(t.d!.output()).some((l) => l.msg === 'stopping gracefully' && l.signal === sig), 2000);
    });
  }

  it('workers: 2 — SIGTERM stops the primary and both workers with exit 0, no orphans', async () => {
    t.z = exampleZoneDir(bigZone);
    t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }], { workers: 2 });
    await waitFor('two workers in the log', () => logLines(t.d!.output()).filter((l) => l.msg === 'worker ready' && typeof l.workerPid === 'number').length === 2);
    const workerPids = logLines(t.d.output())
      .filter((l) => l.msg === 'worker ready' && typeof l.workerPid === 'number')
      .map((l) => l.workerPid as number);
    expect(new Set(workerPids).size).toBe(2);
    expect(workerPids.every(alive)).toBe(true);
    expect(workerPids.includes(t.d.pid)).toBe(false);
    // Each worker serves the UDP socket the primary bound for its slot (batched UDP; node:dgram's shared one
    // without the addon), and nothing else can bind the port meanwhile.
    const udpIo = logLines(t.d.output()).filter((l) => l.msg === 'listening' && l.transport === 'udp').map((l) => l.io);
    expect(udpIo).toEqual(nativeUdp() !== undefined ? ['batched', 'batched'] : ['dgram', 'dgram']);
    for (let i = 0; i < 20; i++) expect((await udp(t.d.port, { name: 'example.com', type: 'SOA' })).rcode).toBe(0);
    await expect(startListeners([`127.0.0.1:${t.d.port}`], () => null, { tcp: false })).rejects.toThrow('EADDRINUSE');
    const res = await pipelineUntilClose(t.d.port, 100, () => process.kill(t.d!.pid, 'SIGTERM'));
    expect(await t.d.exited).toBe(0);
    expect(res.leftover).toBe(0);
    expect(res.malformed).toBe(0);
    expect(res.answers).toBe(100);
    await waitFor('workers gone', () => workerPids.every((p) => !alive(p)), 3000);
    expect(workerPids.filter(alive)).toEqual([]);
    await waitFor('two "worker exited" lines', () => logLines(t.d!.output()).filter((l) => l.msg === 'worker exited').length === 2, 2000);
  });
});
