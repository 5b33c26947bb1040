// apexdns primary → apexdns secondary with zone caps (`limits:`): a transfer over max-records or max-file-size is
// aborted mid-stream, an IXFR whose result is over max-rrset is not applied; each logs transfer.limit-exceeded, the
// old zone keeps serving, the secondary retries after SOA RETRY, and takes the zone once it is within the caps.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { freePorts } from '../helpers/ports.js';
import { udp } from '../e2e/env.js';
import { events, KEY, teardown, tmp, until, zone } from './util.js';

const built = daemonBuilt();
afterAll(teardown, 30_000);

/** SOA RETRY 1 s, so the failed refresh is retried quickly. */
const TIMERS = '3600 1 86400 300';

async function serialOf(port: number, name: string): Promise<number | undefined> {
  const m = await udp(port, { name, type: 'SOA' });
  const t = m.rcode === 0 ? m.answer[0]?.rdataText.split(' ')[2] : undefined;
  return t === undefined ? undefined : Number(t);
}

describe.skipIf('skip' in built)('transfers over a zone cap', () => {
  it('are refused with transfer.limit-exceeded; the old data stays, the secondary retries, then takes a zone within the caps', async () => {
    const dir = tmp();
    const [pp, ps] = await freePorts(2);
    const file = (z: string): string => join(dir, `${z}.zone`);
    const write = (z: string, serial: number, body: readonly string[]): void => writeFileSync(file(z), zone(z, serial, body, TIMERS));
    const small = ['www IN A 192.0.2.10', 'txt IN TXT "one"'];
    for (const z of ['rec.test', 'bytes.test', 'rrset.test']) write(z, 1, small);
    const names = ['rec.test', 'bytes.test', 'rrset.test'];
    const p = await startDaemon([{ name: 'rec.test', file: file('rec.test') }], {
      port: pp,
      extra: {
        'state-dir': join(dir, 'p'),
        'tsig-keys': KEY,
        peers: [{ name: 's', address: '127.0.0.1', port: ps, tsig: 'xfr-key' }],
        zones: names.map((name) => ({ name, file: file(name), notify: ['s'], 'allow-transfer': ['s'] })),
      },
    });
    const s = await startDaemon([{ name: 'rec.test', file: file('rec.test') }], {
      port: ps,
      extra: {
        'state-dir': join(dir, 's'),
        'tsig-keys': KEY,
        peers: [
          { name: 'p', address: '127.0.0.1', port: pp, tsig: 'xfr-key' },
          { name: 'p-ixfr', address: '127.0.0.1', port: pp, tsig: 'xfr-key', ixfr: true },
        ],
        zones: [
          { name: 'rec.test', type: 'secondary', primaries: ['p'], limits: { 'max-records': 20 } },
          { name: 'bytes.test', type: 'secondary', primaries: ['p'], limits: { 'max-file-size': 2000 } },
          { name: 'rrset.test', type: 'secondary', primaries: ['p-ixfr'], limits: { 'max-rrset': 4 } },
        ],
      },
    });
    for (const z of names) await until(async () => (await serialOf(s.port, z)) === 1, 10_000, `${z} at serial 1 on the secondary`);

    // Serial 2 of each zone breaks its cap on the secondary.
    write('rec.test', 2, [...small, ...Array.from({ length: 30 }, (_, i) => `h${i} IN A 192.0.2.${i + 20}`)]);
    write('bytes.test', 2, [...small, ...Array.from({ length: 10 }, (_, i) => `big${i} IN TXT "${String(i).repeat(250)}"`)]);
    write('rrset.test', 2, [...small, 'txt IN TXT "two"', 'txt IN TXT "three"', 'txt IN TXT "four"', 'txt IN TXT "five"']);
    p.reload();
    for (const z of names) await until(async () => (await serialOf(p.port, z)) === 2, 10_000, `${z} at serial 2 on the primary`);

    const refusals = (z: string): string[] => events(s.output(), 'transfer.limit-exceeded').filter((e) => e.zone === `${z}.`).map((e) => String(e.error));
    // Refused once on NOTIFY and again on the retry SOA RETRY (1 s) later.
    for (const z of names) await until(async () => refusals(z).length >= 2, 20_000, `${z} refused twice`);
    expect(refusals('rec.test')[0]).toBe(`AXFR of rec.test. from 127.0.0.1:${pp} passed 20 records (limits.max-records); aborted`);
    expect(refusals('bytes.test')[0]).toBe(`AXFR of bytes.test. from 127.0.0.1:${pp} passed 2000 bytes (limits.max-file-size); aborted`);
    expect(refusals('rrset.test')[0]).toBe('IXFR from p-ixfr: TXT RRset at txt.rrset.test. has more than 4 records (limits.max-rrset); not applied');
    for (const e of events(s.output(), 'transfer.limit-exceeded')) expect(e.serial).toBe(1);
    // The old data keeps serving, and nothing else failed.
    for (const z of names) {
      expect(await serialOf(s.port, z)).toBe(1);
      const txt = await udp(s.port, { name: `txt.${z}`, type: 'TXT' });
      expect(txt.answer.map((r) => r.rdataText)).toEqual(['"one"']);
    }
    expect((await udp(s.port, { name: 'h0.rec.test', type: 'A' })).rcode).toBe(3);
    expect(events(s.output(), 'transfer.succeeded').map((e) => `${String(e.zone)} ${String(e.serial)}`).sort()).toEqual(['bytes.test. 1', 'rec.test. 1', 'rrset.test. 1']);

    // Serial 3 within the caps: taken (on NOTIFY or the next retry).
    write('rec.test', 3, [...small, ...Array.from({ length: 10 }, (_, i) => `h${i} IN A 192.0.2.${i + 20}`)]);
    write('bytes.test', 3, [...small, 'big0 IN TXT "short"']);
    write('rrset.test', 3, [...small, 'txt IN TXT "two"', 'txt IN TXT "three"', 'txt IN TXT "four"']);
    p.reload();
    for (const z of names) await until(async () => (await serialOf(s.port, z)) === 3, 20_000, `${z} at serial 3 on the secondary`);
    expect((await udp(s.port, { name: 'h9.rec.test', type: 'A' })).answer.map((r) => r.rdataText)).toEqual(['192.0.2.29']);
    expect((await udp(s.port, { name: 'txt.rrset.test', type: 'TXT' })).answer.map((r) => r.rdataText).sort()).toEqual(['"four"', '"one"', '"three"', '"two"']);
    expect((await udp(s.port, { name: 'big0.bytes.test', type: 'TXT' })).answer.map((r) => r.rdataText)).toEqual(['"short"']);

    // A cap lowered on SIGHUP below what is served: logged, the served version stays, the reload goes on.
    const cfg = parse(readFileSync(s.configFile, 'utf8')) as { zones: { name: string; limits?: Record<string, number> }[] };
    cfg.zones.find((z) => z.name === 'rrset.test')!.limits = { 'max-rrset': 3 };
    writeFileSync(s.configFile, stringify(cfg));
    s.reload();
    await until(async () => events(s.output(), 'zone.reshape-failed').length > 0, 10_000, 'zone.reshape-failed on the secondary');
    expect(events(s.output(), 'zone.reshape-failed').map((e) => [e.zone, e.serial, e.error])).toEqual([
      ['rrset.test.', 3, 'reload: TXT RRset at txt.rrset.test. has more than 3 records (limits.max-rrset); not applied'],
    ]);
    expect(s.output()).toContain('"reloaded"');
    expect(await serialOf(s.port, 'rrset.test')).toBe(3);
    expect((await udp(s.port, { name: 'txt.rrset.test', type: 'TXT' })).answer.length).toBe(4);
  }, 90_000);
});
