// End-to-end zone caps (`limits:`): a SIGHUP reload of a zone file over max-rrset, max-records or max-file-size is
// refused with file:line:col and the key's name while the previous version keeps serving; max-cname-chain cuts an
// in-zone chain over UDP and TCP the way a CNAME loop is answered.

import { mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { lines, logLines, tcp, udp, waitFor } from './env.js';

const built = daemonBuilt();

function zoneText(serial: number, body: readonly string[]): string {
  return ['$ORIGIN example.com.', '$TTL 300', `@ SOA ns1 hostmaster ${serial} 3600 600 86400 300`, '@ NS ns1', 'ns1 A 192.0.2.1', ...body, ''].join('\n');
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

async function serial(port: number): Promise<number | undefined> {
  const m = await udp(port, { name: 'example.com', type: 'SOA' });
  const t = m.answer[0]?.rdataText.split(' ')[2];
  return t === undefined ? undefined : Number(t);
}

/** Error-level log lines naming the zone file, and the count of "previous version keeps serving" lines. */
function failures(d: DaemonServer, file: string): { errors: string[]; kept: number } {
  const all = logLines(d.output());
  return {
    errors: all.filter((l) => l.level === 50 && typeof l.msg === 'string' && l.msg.startsWith(file)).map((l) => String(l.msg)),
    kept: all.filter((l) => l.msg === 'zone failed to load; the previous version keeps serving').length,
  };
}

describe.skipIf('skip' in built)('zone caps on reload and in answers', () => {
  let d: DaemonServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('a reload over max-rrset, max-records or max-file-size is refused with file:line:col; the old zone keeps serving', async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-limits-'));
    const f = join(dir, 'example.com.zone');
    const good = zoneText(1, ['v TXT "a"', 'v TXT "b"', 'v TXT "c"']);
    writeAtomic(f, good);
    d = await startDaemon([{ name: 'example.com', file: f }], {
      extra: { zones: [{ name: 'example.com', file: f, limits: { 'max-rrset': 3, 'max-records': 20, 'max-file-size': 400 } }] },
    });
    const served = async (): Promise<void> => {
      expect(await serial(d!.port)).toBe(1);
      expect(lines((await udp(d!.port, { name: 'v.example.com', type: 'TXT' })).answer)).toEqual([
        'v.example.com. 300 IN TXT "a"', 'v.example.com. 300 IN TXT "b"', 'v.example.com. 300 IN TXT "c"',
      ]);
    };
    await served();

    // A fourth TXT record on line 9: over max-rrset 3.
    writeAtomic(f, zoneText(2, ['v TXT "a"', 'v TXT "b"', 'v TXT "c"', 'v TXT "d"']));
    d.reload();
    await waitFor('the max-rrset refusal', () => failures(d!, f).kept === 1, 10_000);
    expect(failures(d, f).errors).toEqual([`${f}:9:1: error: TXT RRset at v.example.com. has more than 3 records (limits.max-rrset)`]);
    await served();

    // $GENERATE on line 6 makes 30 records: over max-records 20.
    writeAtomic(f, zoneText(3, ['$GENERATE 1-30 h$ A 192.0.2.$']));
    d.reload();
    await waitFor('the max-records refusal', () => failures(d!, f).kept === 2, 10_000);
    expect(failures(d, f).errors.slice(1)).toEqual([`${f}:6:1: error: zone has more than 20 records (limits.max-records)`]);
    await served();

    // 401+ bytes: over max-file-size 400, refused from the file size before it is read.
    const big = zoneText(4, ['v TXT "a"', `pad TXT "${'x'.repeat(300)}"`]);
    writeAtomic(f, big);
    d.reload();
    await waitFor('the max-file-size refusal', () => failures(d!, f).kept === 3, 10_000);
    expect(failures(d, f).errors.slice(2)).toEqual([`${f}:1:1: error: zone file is ${statSync(f).size} bytes, more than 400 bytes (limits.max-file-size)`]);
    await served();

    // Within every cap again: served.
    writeAtomic(f, zoneText(5, ['v TXT "z"']));
    d.reload();
    await waitFor('serial 5', async () => (await serial(d!.port)) === 5, 10_000);
    expect(lines((await udp(d.port, { name: 'v.example.com', type: 'TXT' })).answer)).toEqual(['v.example.com. 300 IN TXT "z"']);
  }, 60_000);

  it('max-cname-chain: a longer in-zone chain is answered with the links followed so far, over UDP and TCP', async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-limits-'));
    const f = join(dir, 'example.com.zone');
    writeAtomic(f, zoneText(1, ['c0 CNAME c1', 'c1 CNAME c2', 'c2 CNAME c3', 'c3 A 192.0.2.33']));
    d = await startDaemon([{ name: 'example.com', file: f }], { extra: { limits: { 'max-cname-chain': 2 } } });
    for (const ask of [udp, tcp]) {
      const cut = await ask(d.port, { name: 'c0.example.com', type: 'A' });
      expect({ rcode: cut.rcode, aa: cut.aa, answer: cut.answer.map((r) => `${r.owner} ${r.rdataText}`) }).toEqual({
        rcode: 0,
        aa: true,
        answer: ['c0.example.com. c1.example.com.', 'c1.example.com. c2.example.com.'],
      });
      // Two redirections are within the cap: the chain ends in the address.
      const whole = await ask(d.port, { name: 'c1.example.com', type: 'A' });
      expect(whole.answer.map((r) => `${r.owner} ${r.rdataText}`)).toEqual(['c1.example.com. c2.example.com.', 'c2.example.com. c3.example.com.', 'c3.example.com. 192.0.2.33']);
    }
  }, 30_000);
});
