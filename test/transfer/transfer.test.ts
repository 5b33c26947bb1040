// In-process transfer tests: an apexdns primary App feeding an apexdns secondary App over loopback (AXFR with TSIG,
// serial policy + journal + NOTIFY → IXFR, ACL refusals, TSIG errors, persistence, expiry), plus the serial policy.

import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { pullZone, querySoa, TransferError } from '../../src/transfer/client.js';
import { effectiveSerial } from '../../src/transfer/primary.js';
import { tsigKeyFromConfig } from '../../src/transfer/tsig.js';
import { sendControl, controlSocketPath } from '../../src/transfer/control.js';
import { freePort } from '../helpers/ports.js';
import { Capture, cleanup, release, SECRET, startApp, tmp, track, until, yamlHead } from './helpers.js';
import { soaRdata } from './rr.js';

const WRONG = 'd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc=';
const ZONE = Name.parse('example.com.');

afterAll(cleanup);

function zoneText(serial: number, extra: string[] = [], timers = '3600 600 86400 300'): string {
  const txt: string[] = [];
  // 300 TXT records of ~250 octets: more than one 64 KiB message.
  for (let i = 0; i < 300; i++) txt.push(`t${i} 300 IN TXT "${'x'.repeat(240)}"`);
  return [
    '$ORIGIN example.com.',
    '$TTL 300',
    `@ 3600 IN SOA ns1 hostmaster ${serial} ${timers}`,
    '@ IN NS ns1',
    'ns1 IN A 192.0.2.1',
    'www IN A 192.0.2.10',
    ...txt,
    ...extra,
    '',
  ].join('\n');
}

function servedSerial(app: App): number | undefined {
  return app.store.current.get(ZONE.key)?.snapshot.soaInfo.serial;
}

describe('apexdns primary → apexdns secondary (in process)', () => {
  const key = tsigKeyFromConfig({ name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET });
  let pPort = 0;
  let sPort = 0;
  let pDir = '';
  let sDir = '';
  let primary: App;
  let secondary: App;
  const pLog = new Capture();
  const sLog = new Capture();

  function secondaryYaml(timers = ''): string {
    return [
      ...yamlHead(sPort),
      'peers:',
      `  - { name: prim, address: 127.0.0.1, port: ${pPort}, tsig: xfr-key, ixfr: true }`,
      'zones:',
      '  - name: example.com',
      '    type: secondary',
      '    primaries: [prim]',
      timers,
      '',
    ].join('\n');
  }

  it('transfers the zone by AXFR with TSIG at startup and persists it', async () => {
    pPort = await freePort();
    sPort = await freePort();
    pDir = tmp('apexdns-xfr-');
    sDir = tmp('apexdns-xfr-');
    writeFileSync(join(pDir, 'example.com.zone'), zoneText(7));
    primary = track(await startApp(pDir, [
      ...yamlHead(pPort),
      'peers:',
      `  - { name: sec, address: 127.0.0.1, port: ${sPort}, tsig: xfr-key }`,
      'zones:',
      '  - name: example.com',
      '    file: example.com.zone',
      '    notify: [sec]',
      '    allow-transfer: [sec]',
      '    serial: increment',
      '',
    ].join('\n'), pLog.logger));
    secondary = track(await startApp(sDir, secondaryYaml(), sLog.logger));
    await until(() => servedSerial(secondary) === 7, 5000);
    const ok = sLog.events('transfer.succeeded');
    expect(ok[0]).toMatchObject({ zone: 'example.com.', type: 'AXFR', serial: 7, records: 304, primary: 'prim' });
    expect(ok[0]!.messages).toBeGreaterThan(1);
    expect(secondary.store.current.get(ZONE.key)!.snapshot.recordCount).toBe(304);
    const fileText = readFileSync(join(sDir, 'state', 'example.com.zone'), 'utf8');
    expect(fileText).toContain('example.com.\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. 7 3600 600 86400 300');
    expect(fileText).toContain('www.example.com.\t300\tIN\tA\t192.0.2.10');
    await until(() => existsSync(join(sDir, 'state', 'example.com.state.json')), 2000);
  });

  it('refuses unsigned AXFR and answers a wrong key with NOTAUTH/BADSIG', async () => {
    const unsigned = pullZone({ address: '127.0.0.1', port: pPort }, ZONE, undefined, 5000);
    await expect(unsigned).rejects.toThrow(/answered REFUSED/);
    const wrong = tsigKeyFromConfig({ name: 'xfr-key', algorithm: 'hmac-sha256', secret: WRONG });
    const bad = pullZone({ address: '127.0.0.1', port: pPort, key: wrong }, ZONE, undefined, 5000);
    await expect(bad).rejects.toThrow(/TSIG BADSIG/);
    const unknown = tsigKeyFromConfig({ name: 'other-key', algorithm: 'hmac-sha256', secret: SECRET });
    await expect(pullZone({ address: '127.0.0.1', port: pPort, key: unknown }, ZONE, undefined, 5000)).rejects.toThrow(/TSIG BADKEY/);
    expect(pLog.events('transfer.tsig-failed').map((e) => e.error)).toEqual(['BADSIG', 'BADKEY']);
    expect(pLog.events('transfer.refused').length).toBe(1);
  });

  it('bumps the serial on reload (serial: increment), journals the change, NOTIFYs, and the secondary follows by IXFR', async () => {
    // Same serial 7 in the file, changed content: the policy serves 8.
    writeFileSync(join(pDir, 'example.com.zone'), zoneText(7, ['new IN A 192.0.2.99']).replace('www IN A 192.0.2.10\n', 'www IN A 192.0.2.11\n'));
    const t0 = Date.now();
    const rep = await primary.reload();
    expect(rep.zones[0]).toMatchObject({ status: 'loaded', serial: 8 });
    expect(servedSerial(primary)).toBe(8);
    await until(() => sLog.events('transfer.succeeded').length === 2, 2000);
    expect(Date.now() - t0).toBeLessThan(2000);
    const ev = sLog.events('transfer.succeeded').at(-1)!;
    expect(ev).toMatchObject({ type: 'IXFR', serial: 8, records: 305 });
    const snap = secondary.store.current.get(ZONE.key)!.snapshot;
    expect(Array.from(snap.nodes.get(Name.parse('new.example.com.').key)!.rrsets.get(RRType.A)!.rdata[0]!)).toEqual([192, 0, 2, 99]);
    expect(Array.from(snap.nodes.get(Name.parse('www.example.com.').key)!.rrsets.get(RRType.A)!.rdata[0]!)).toEqual([192, 0, 2, 11]);
    // IXFR from 7 straight from the primary: one difference sequence.
    const r = await pullZone({ address: '127.0.0.1', port: pPort, key }, ZONE, { ...(await querySoa({ address: '127.0.0.1', port: pPort, key }, ZONE)), rdata: soaRdata(7) }, 5000);
    expect(r.kind).toBe('ixfr');
    if (r.result.kind !== 'ixfr') throw new Error('not ixfr');
    expect(r.result.changesets.map((c) => [c.fromSerial, c.toSerial, c.removed.length, c.added.length])).toEqual([[7, 8, 2, 3]]);
  });

  it('answers a current client with a single SOA', async () => {
    const soa = await querySoa({ address: '127.0.0.1', port: pPort, key }, ZONE);
    const r = await pullZone({ address: '127.0.0.1', port: pPort, key }, ZONE, soa, 5000);
    expect(r.kind).toBe('uptodate');
    expect(r.messages).toBe(1);
  });

  it('refuses a reload whose serial did not increase under serial: keep, keeping the old version', () => {
    expect(effectiveSerial({ fingerprint: 'a', fileSerial: 5, servedSerial: 5 }, 'b', 5, 'keep', new Date())).toEqual({
      error: 'zone changed but its SOA serial 5 is not greater than the served serial 5 (serial: keep); increase the serial or use serial: increment',
    });
    expect(effectiveSerial({ fingerprint: 'a', fileSerial: 5, servedSerial: 9 }, 'a', 5, 'keep', new Date())).toBe(9);
    expect(effectiveSerial({ fingerprint: 'a', fileSerial: 5, servedSerial: 9 }, 'b', 5, 'increment', new Date())).toBe(10);
    expect(effectiveSerial({ fingerprint: 'a', fileSerial: 0xffffffff, servedSerial: 0xffffffff }, 'b', 0xffffffff, 'increment', new Date())).toBe(0);
    expect(effectiveSerial(undefined, 'b', 3, 'keep', new Date())).toBe(3);
  });

  it('retransfer and refresh through the control socket', async () => {
    const sock = controlSocketPath(join(sDir, 'state'));
    expect(await sendControl(sock, { cmd: 'retransfer', zone: 'example.com' })).toEqual({ ok: true, message: 'zone example.com. serial 8' });
    expect(sLog.events('transfer.succeeded').at(-1), JSON.stringify(sLog.events('transfer.succeeded'))).toMatchObject({ type: 'AXFR', serial: 8 });
    expect(await sendControl(sock, { cmd: 'refresh', zone: 'example.com' })).toEqual({ ok: true, message: 'zone example.com. serial 8' });
    expect(await sendControl(sock, { cmd: 'notify', zone: 'nope.example' })).toEqual({ ok: false, message: 'zone nope.example. is not configured' });
  });

  it('serves the persisted copy after a restart while the primary is down, then expires to SERVFAIL', async () => {
    await release(primary);
    await release(secondary);
    // Tiny timers: EXPIRE 2 s after the last successful contact, which is now in the past by the state file.
    const state = join(sDir, 'state', 'example.com.state.json');
    writeFileSync(state, JSON.stringify({ serial: 8, lastSuccess: Date.now() - 1000 }));
    const log = new Capture();
    const again = track(await startApp(sDir, secondaryYaml('    refresh: 1'), log.logger));
    expect(servedSerial(again)).toBe(8);
    expect(again.store.current.get(ZONE.key)!.expired).toBe(false);
    await until(() => log.events('transfer.all-primaries-failed').length > 0, 5000);
    expect(log.events('transfer.primary-failed')[0]).toMatchObject({ zone: 'example.com.', primary: 'prim' });
    await release(again);
    // Now pretend the last contact was longer ago than EXPIRE (86400 s).
    writeFileSync(state, JSON.stringify({ serial: 8, lastSuccess: Date.now() - 86_401_000 }));
    const expired = track(await startApp(sDir, secondaryYaml(), new Capture().logger));
    expect(expired.store.current.get(ZONE.key)!.expired).toBe(true);
  });
});

describe('TransferError', () => {
  it('names its reason', () => {
    expect(new TransferError('rcode', 'x').reason).toBe('rcode');
  });
});
