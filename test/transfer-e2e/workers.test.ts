// Multi-worker transfers (built daemons, workers: 2 on both sides): the primary serves AXFR/IXFR from any worker and
// sends NOTIFY after SIGHUP; on the secondary, both workers serve the transferred data after the NOTIFY (a wait with a
// generous bound: speed is the benchmark's business, not this test's).

import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildQuery, dig } from '../helpers/dig.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { freePorts } from '../helpers/ports.js';
import { tool } from '../helpers/tools.js';
import { axfrLines, events, KEY, READER, teardown, tmp, TSIG_ARG, until, zone } from './util.js';

const digTool = tool('dig');
const built = daemonBuilt();
const skip = 'skip' in digTool || 'skip' in built;

afterAll(teardown, 30_000);

/** One UDP query from a fresh socket (fresh source port, so the kernel may pick any worker): the first A address. */
function udpA(port: number, name: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, 1000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      // Header 12, question (name + 4), answer RR: name pointer (2) + fixed 10, RDATA 4 octets.
      const an = m.readUInt16BE(6);
      if (an === 0) return resolve('');
      let p = 12;
      while (m[p] !== 0) p += m[p]! + 1;
      p += 5;
      resolve(Array.from(m.subarray(p + 12, p + 16)).join('.'));
    });
    s.send(buildQuery({ name, type: 'A' }), port, '127.0.0.1');
  });
}

/** Worker slots that logged a query for `qname` (log.queries: true; the logger carries `worker`). */
function workersAnswering(d: DaemonServer, qname: string, since: number): Set<number> {
  const out = new Set<number>();
  for (const line of d.output().split('\n')) {
    if (!line.includes('"msg":"query"') || !line.includes(`"qname":"${qname}"`)) continue;
    try {
      const j = JSON.parse(line) as { worker?: number; time?: number };
      if (typeof j.worker === 'number' && (j.time ?? 0) >= since) out.add(j.worker);
    } catch {
      // partial line
    }
  }
  return out;
}

describe.skipIf(skip)('workers: 2 on a primary and a secondary', () => {
  it('serves AXFR/IXFR from any primary worker; NOTIFY after SIGHUP; both secondary workers serve the new data', async () => {
    const dir = tmp();
    const f = join(dir, 'example.net.zone');
    const [pp, ps] = await freePorts(2);
    writeFileSync(f, zone('example.net', 1, ['www IN A 192.0.2.10', 'txt IN TXT "v1"']));
    const p = await startDaemon([{ name: 'example.net', file: f }], {
      port: pp,
      workers: 2,
      timeoutMs: 20_000,
      extra: {
        'state-dir': join(dir, 'p'),
        'tsig-keys': KEY,
        acl: READER,
        peers: [{ name: 's', address: '127.0.0.1', port: ps, tsig: 'xfr-key' }],
        zones: [{ name: 'example.net', file: f, notify: ['s'], 'allow-transfer': ['s', 'reader'], serial: 'increment' }],
      },
    });
    const s = await startDaemon([{ name: 'example.net', file: f }], {
      port: ps,
      workers: 2,
      timeoutMs: 20_000,
      extra: {
        'state-dir': join(dir, 's'),
        log: { queries: true },
        'tsig-keys': KEY,
        acl: READER,
        peers: [{ name: 'p', address: '127.0.0.1', port: pp, tsig: 'xfr-key', ixfr: true }],
        zones: [{ name: 'example.net', type: 'secondary', primaries: ['p'], refresh: 3600, 'allow-transfer': ['reader'] }],
      },
    });
    // Both secondary workers serve the copy transferred at startup (the follower loads what the leader persisted).
    let last: (string | undefined)[] = [];
    await until(async () => {
      const got = await Promise.all(Array.from({ length: 20 }, () => udpA(ps!, 'www.example.net')));
      last = got;
      return got.every((g) => g === '192.0.2.10');
    }, 30_000, 'every secondary worker at v1').catch((e: unknown) => {
      throw new Error(`${(e as Error).message}: last answers ${JSON.stringify(last)}\n${s.output().split('\n').filter((l) => !l.includes('"msg":"query"')).join('\n')}`);
    });

    // AXFR from the primary several times (TCP connections are spread over the workers): always the same zone.
    const full = await axfrLines(pp!, 'example.net');
    expect(full.length).toBe(5);
    for (let i = 0; i < 5; i++) expect(await axfrLines(pp!, 'example.net')).toEqual(full);

    // Edit + SIGHUP: the cluster reloads every worker; the leader journals and NOTIFYs the secondary.
    writeFileSync(f, zone('example.net', 1, ['www IN A 192.0.2.11', 'txt IN TXT "v2"']));
    const t0 = Date.now();
    p.reload();
    const deadline = t0 + 20_000;
    for (;;) {
      const got = await Promise.all(Array.from({ length: 20 }, () => udpA(ps!, 'www.example.net')));
      if (got.every((g) => g === '192.0.2.11')) break;
      if (Date.now() > deadline) throw new Error(`secondary answers not all new 20 s after the SIGHUP: ${got.join(' ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    // From now on, every answer is the new data, and both workers are answering.
    const since = Date.now();
    const later = await Promise.all(Array.from({ length: 100 }, () => udpA(ps!, 'www.example.net')));
    expect(later.filter((g) => g !== '192.0.2.11')).toEqual([]);
    await until(async () => workersAnswering(s, 'www.example.net.', since).size === 2, 3000, 'query log lines from both workers').catch(() => undefined);
    expect([...workersAnswering(s, 'www.example.net.', since)].sort()).toEqual([0, 1]);

    // The secondary took it by IXFR; the primary served IXFR 1→2 and NOTIFYed once per change.
    expect(events(s.output(), 'transfer.succeeded').map((e) => `${String(e.type)} ${String(e.serial)}`)).toEqual(['AXFR 1', 'IXFR 2']);
    expect(events(p.output(), 'transfer.out').filter((e) => e.type === 'IXFR').map((e) => `${String(e.from)}→${String(e.serial)}`)).toEqual(['1→2']);
    expect(events(p.output(), 'notify.sent').map((e) => e.serial)).toContain(2);

    // IXFR from serial 1 asked repeatedly (any primary worker reads the leader's journal): always incremental.
    for (let i = 0; i < 6; i++) {
      const r = await dig(pp!, ['example.net', 'IXFR=1', '-y', TSIG_ARG, '+nocomments', '+nostats', '+nocmd', '+tcp']);
      const recs = r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';') && !/\tTSIG\t/.test(l));
      // SOA 2, SOA 1, old www + old txt, SOA 2, new www + new txt, SOA 2.
      expect(recs.length).toBe(8);
      expect(recs.filter((l) => /\tSOA\t/.test(l)).length).toBe(4);
    }
    expect(await axfrLines(ps!, 'example.net')).toEqual(await axfrLines(pp!, 'example.net'));
  }, 60_000);
});
