// End-to-end SIGHUP reload: a zone edit with a syntax error keeps the old version serving and logs
// file:line:col; a good edit is served after SIGHUP; a zone added to the config appears; with `workers: 2` the
// reload reaches every worker (many UDP and TCP queries all see the new data); and a continuous UDP query load
// during 20 reloads loses no query, never gets SERVFAIL/REFUSED, and never sees a mix of versions in one answer.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildQuery } from '../helpers/dig.js';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { parseMessage, type ParsedMessage } from '../helpers/dnsmsg.js';
import { EXAMPLE_ZONE, exampleZoneDir, lines, logLines, perTest, sleep, tcp, udp, waitFor } from './env.js';

const built = daemonBuilt();
const BASE = readFileSync(EXAMPLE_ZONE, 'utf8');
const BASE_SERIAL = 2024060101;

/** The example zone at generation `gen`: serial BASE+gen, a 3-record TXT RRset and an MX whose target changes. */
function zoneText(gen: number): string {
  if (!BASE.includes(`${BASE_SERIAL} ; serial`)) throw new Error('example zone serial line changed');
  return (
    BASE.replace(`${BASE_SERIAL} ; serial`, `${BASE_SERIAL + gen} ; serial`) +
    `\n; e2e reload generation ${gen}\n` +
    `v 300 IN TXT "gen=${gen} a"\nv 300 IN TXT "gen=${gen} b"\nv 300 IN TXT "gen=${gen} c"\n` +
    `m 300 IN MX ${gen} mx-g${gen}.example.com.\nmx-g${gen} 300 IN A 192.0.2.${100 + gen}\n`
  );
}

/** Replace a file atomically (write + rename), so the daemon never reads a half-written zone. */
function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** Generation seen in an answer for `v TXT`, or throws when the three records disagree. */
function txtGen(m: ParsedMessage): number {
  const gens = new Set(m.answer.map((r) => /gen=(\d+) [abc]/.exec(r.rdataText)?.[1]));
  if (m.answer.length !== 3 || gens.size !== 1) throw new Error(`mixed or partial TXT answer: ${lines(m.answer).join(' | ')}`);
  return Number([...gens][0]);
}

/** Generation seen in an answer for `m MX`, or throws when answer and additional disagree. */
function mxGen(m: ParsedMessage): number {
  const ans = m.answer.map((r) => /^(\d+) mx-g(\d+)\.example\.com\.$/.exec(r.rdataText));
  const add = m.additional.map((r) => /^mx-g(\d+)\.example\.com\.$/.exec(r.owner)?.[1] + '|' + r.rdataText);
  const g = ans[0]?.[1];
  if (ans.length !== 1 || g === undefined || ans[0]?.[2] !== g || add.length !== 1 || add[0] !== `${g}|192.0.2.${100 + Number(g)}`) {
    throw new Error(`mixed MX answer: ${lines(m.answer).join(' | ')} // ${lines(m.additional).join(' | ')}`);
  }
  return Number(g);
}

async function soaSerial(port: number, zone = 'example.com'): Promise<number | undefined> {
  const m = await udp(port, { name: zone, type: 'SOA' });
  const t = m.answer[0]?.rdataText.split(' ')[2];
  return m.rcode === 0 && t !== undefined ? Number(t) : undefined;
}

/** Count reload-report lines mentioning `zone ... status` in the log. */
function reloadedLines(out: string, zone: string, status: string): number {
  return logLines(out).filter((l) => l.event === 'reload' && l.zone === zone && l.status === status).length;
}

describe.skipIf('skip' in built)('SIGHUP reload', () => {
  const t = perTest();

  it('a syntax error keeps the old zone serving and logs file:line:col; a good edit is then served', async () => {
    t.z = exampleZoneDir();
    writeAtomic(t.z.zoneFile, zoneText(0));
    t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }]);
    expect(txtGen(await udp(t.d.port, { name: 'v.example.com', type: 'TXT' }))).toBe(0);

    // Generation 1 plus an unbalanced ")" on a known line (the last line of the file).
    const bad = zoneText(1) + 'oops IN A 192.0.2.1 )\n';
    const badLine = bad.split('\n').length - 1;
    writeAtomic(t.z.zoneFile, bad);
    t.d.reload();
    const where = `${t.z.zoneFile}:${badLine}:21`;
    await waitFor('the reload failure in the log', () => t.d!.output().includes('the previous version keeps serving'));
    const errs = logLines(t.d.output()).filter((l) => l.level === 50 && typeof l.msg === 'string' && l.msg.includes(t.z!.zoneFile));
    expect(errs.map((l) => l.msg)).toEqual([`${where}: error: unbalanced ")"`]);
    expect(await soaSerial(t.d.port)).toBe(BASE_SERIAL);
    expect(txtGen(await udp(t.d.port, { name: 'v.example.com', type: 'TXT' }))).toBe(0);
    expect((await udp(t.d.port, { name: 'oops.example.com', type: 'A' })).rcode).toBe(3);

    writeAtomic(t.z.zoneFile, zoneText(2));
    t.d.reload();
    await waitFor('serial 2 served', async () => (await soaSerial(t.d!.port)) === BASE_SERIAL + 2);
    expect(txtGen(await udp(t.d.port, { name: 'v.example.com', type: 'TXT' }))).toBe(2);
    expect(mxGen(await udp(t.d.port, { name: 'm.example.com', type: 'MX' }))).toBe(2);
    // The log line is written after the swap: wait for it rather than race it.
    await waitFor('the reload report', () => reloadedLines(t.d!.output(), 'example.com.', 'loaded') === 1);
  });

  it('a zone added to the config is served after SIGHUP; an unchanged zone is reported unchanged', async () => {
    t.z = exampleZoneDir();
    t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }]);
    expect((await udp(t.d.port, { name: 'example.net', type: 'SOA' })).rcode).toBe(5);
    const netFile = join(t.z.dir, 'example.net.zone');
    writeFileSync(
      netFile,
      '$ORIGIN example.net.\n$TTL 600\n@ IN SOA ns1 hostmaster 7 3600 900 604800 60\n@ IN NS ns1\nns1 IN A 192.0.2.7\nwww IN A 192.0.2.8\n',
    );
    const cfg = parse(readFileSync(t.d.configFile, 'utf8')) as { zones: { name: string; file: string }[] };
    cfg.zones.push({ name: 'example.net', file: netFile });
    writeAtomic(t.d.configFile, stringify(cfg));
    t.d.reload();
    await waitFor('example.net served', async () => (await soaSerial(t.d!.port, 'example.net')) === 7);
    const www = await udp(t.d.port, { name: 'www.example.net', type: 'A' });
    expect(www.aa).toBe(true);
    expect(lines(www.answer)).toEqual(['www.example.net. 600 IN A 192.0.2.8']);
    expect(await soaSerial(t.d.port)).toBe(BASE_SERIAL);
    await waitFor('the reload report', () => reloadedLines(t.d!.output(), 'example.net.', 'loaded') === 1);
    expect(reloadedLines(t.d.output(), 'example.com.', 'unchanged')).toBe(1);
  });

  it('workers: 2 — the reload reaches every worker', async () => {
    t.z = exampleZoneDir();
    writeAtomic(t.z.zoneFile, zoneText(0));
    t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }], { workers: 2 });
    await waitFor('both workers ready', () => logLines(t.d!.output()).filter((l) => l.msg === 'worker ready' && l.workerPid !== undefined).length === 2);
    writeAtomic(t.z.zoneFile, zoneText(5));
    t.d.reload();
    await waitFor('both workers reloaded', () => logLines(t.d!.output()).filter((l) => l.msg === 'worker reloaded').length === 2);
    // Fresh sockets each time (UDP is read by whichever worker is free; TCP is handed out round-robin).
    const gens: number[] = [];
    for (let i = 0; i < 100; i++) gens.push(txtGen(await udp(t.d.port, { name: 'v.example.com', type: 'TXT' })));
    for (let i = 0; i < 20; i++) gens.push(mxGen(await tcp(t.d.port, { name: 'm.example.com', type: 'MX' })));
    expect(gens.filter((g) => g !== 5)).toEqual([]);
    expect(await soaSerial(t.d.port)).toBe(BASE_SERIAL + 5);
  });

  for (const workers of [1, 2]) {
    it(`no query is lost during 20 reloads under continuous UDP load (workers: ${workers})`, async () => {
      t.z = exampleZoneDir();
      writeAtomic(t.z.zoneFile, zoneText(0));
      t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }], { workers });
      const port = t.d.port;
      const sock = createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      const pending = new Map<number, { kind: 'txt' | 'mx'; timer: NodeJS.Timeout; done: () => void }>();
      const seen = new Set<number>();
      let sent = 0;
      let answered = 0;
      let lost = 0;
      const bad: string[] = [];
      sock.on('message', (buf) => {
        let m: ParsedMessage;
        try {
          m = parseMessage(buf);
        } catch (e) {
          bad.push(`malformed: ${(e as Error).message}`);
          return;
        }
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        clearTimeout(p.timer);
        answered++;
        try {
          if (m.rcode !== 0 || !m.aa) throw new Error(`rcode ${m.rcode} aa ${m.aa}`);
          seen.add(p.kind === 'txt' ? txtGen(m) : mxGen(m));
        } catch (e) {
          bad.push((e as Error).message);
        }
        p.done();
      });
      let stop = false;
      let nextId = 1;
      // 8 clients in lock step: each sends one query, waits for its answer (3 s timeout, no retry), repeats. A late
      // answer is not a lost one; the timeout only has to outlast scheduling delays on a loaded 2-core CI machine.
      const client = async (): Promise<void> => {
        while (!stop) {
          const id = nextId++ & 0xffff;
          const kind = id % 2 === 0 ? 'txt' : 'mx';
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              pending.delete(id);
              lost++;
              resolve();
            }, 3000);
            pending.set(id, { kind, timer, done: resolve });
            sent++;
            sock.send(buildQuery({ id, name: kind === 'txt' ? 'v.example.com' : 'm.example.com', type: kind === 'txt' ? 'TXT' : 'MX' }), port, '127.0.0.1');
          });
        }
      };
      const clients = Array.from({ length: 8 }, () => client());
      for (let gen = 1; gen <= 20; gen++) {
        writeAtomic(t.z.zoneFile, zoneText(gen));
        t.d.reload();
        await sleep(100);
      }
      await waitFor('the last generation served', async () => (await soaSerial(port)) === BASE_SERIAL + 20, 20_000);
      // The SOA check may reach another worker than the clients' socket does (SO_REUSEPORT): keep the load on until
      // the clients have seen the last generation too (the workers reload one after another).
      await waitFor('the clients see the last generation', async () => seen.has(20), 20_000);
      stop = true;
      await Promise.all(clients);
      sock.close();
      expect(bad.slice(0, 5)).toEqual([]);
      expect(lost).toBe(0);
      expect(answered).toBe(sent);
      expect(sent).toBeGreaterThan(1000);
      // Several generations were observed under load, all of them real ones.
      expect(seen.size).toBeGreaterThan(5);
      expect([...seen].filter((g) => g < 0 || g > 20)).toEqual([]);
      expect(seen.has(20)).toBe(true);
    }, 60_000);
  }
});
