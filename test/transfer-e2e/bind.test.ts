// Interop with BIND 9 (named): BIND primary → apexdns secondary (AXFR+TSIG, IXFR on NOTIFY, wrong key, restart
// with the primary down, IXFR answered with a full zone) and apexdns primary → BIND secondary (AXFR/IXFR with TSIG,
// NOTIFY on SIGHUP, equal copies).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';
import { tool } from '../helpers/tools.js';
import { startNamed, type Named } from './named.js';
import { axfrLines, digShort, events, SECRET, soaSerial, startNotifyingPrimary, teardown, tmp, TSIG_ARG, until, zone } from './util.js';

const named = tool('named');
const digTool = tool('dig');
const built = daemonBuilt();
const WRONG = 'd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc=';

afterAll(teardown, 30_000);

function namedPath(): string {
  if ('path' in named) return named.path;
  throw new Error(named.skip);
}

async function status(port: number, name: string, type: string): Promise<string> {
  const r = await dig(port, [name, type, '+time=1', '+tries=1']);
  return /status: (\w+)/.exec(r.stdout)?.[1] ?? 'none';
}

const skip = 'skip' in named || 'skip' in digTool || 'skip' in built;

describe.skipIf(skip)('BIND primary → apexdns secondary', () => {
  const bindDir = skip ? '' : tmp();
  const stateDir = skip ? '' : tmp();
  let bind: Named;
  let apex: DaemonServer;
  const zoneFile = join(bindDir, 'example.net.zone');

  function apexConfig(bindPort: number, secret = SECRET): Record<string, unknown> {
    return {
      'state-dir': stateDir,
      'tsig-keys': [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret }],
      peers: [{ name: 'bind', address: '127.0.0.1', port: bindPort, tsig: 'xfr-key', ixfr: true }],
      zones: [{ name: 'example.net', type: 'secondary', primaries: ['bind'], 'allow-notify': ['bind'] }],
    };
  }

  it('transfers by AXFR with TSIG', async () => {
    const apexPort = await freePort();
    writeFileSync(zoneFile, zone('example.net', 100, ['www IN A 192.0.2.10', 'old IN A 192.0.2.20', 'txt IN TXT "hello"'], '3600 2 5 300'));
    bind = await startNamed(namedPath(), bindDir, {
      zones: `zone "example.net" { type primary; file "${zoneFile}"; ixfr-from-differences yes; };`,
      notifyPort: apexPort,
    });
    apex = await startDaemon([{ name: 'example.net', file: zoneFile }], { port: apexPort, extra: apexConfig(bind.port), timeoutMs: 15_000 });
    expect(await soaSerial(apex.port, 'example.net')).toBe(100);
    expect(await digShort(apex.port, 'www.example.net', 'A')).toBe('192.0.2.10');
    expect(apex.output()).toMatch(/"event":"transfer.succeeded".*"type":"AXFR"/);
  }, 30_000);

  it('follows add/change/delete + serial bump + NOTIFY by IXFR within 2 s', async () => {
    writeFileSync(zoneFile, zone('example.net', 101, ['www IN A 192.0.2.11', 'new IN A 192.0.2.30', 'txt IN TXT "hello"'], '3600 2 5 300'));
    const t0 = Date.now();
    bind.hup();
    await until(async () => (await soaSerial(apex.port, 'example.net')) === 101, 2000 + 1000, 'apexdns at serial 101');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await digShort(apex.port, 'www.example.net', 'A')).toBe('192.0.2.11');
    expect(await digShort(apex.port, 'new.example.net', 'A')).toBe('192.0.2.30');
    expect(await status(apex.port, 'old.example.net', 'A')).toBe('NXDOMAIN');
    expect(apex.output().split('\n').filter((l) => l.includes('transfer')).join('\n')).toMatch(/"type":"IXFR","serial":101/);
  }, 30_000);

  it('restart serves the persisted copy while the primary is down, then expires to SERVFAIL', async () => {
    await bind.stop();
    await apex.stop();
    const port = await freePort();
    // Same state dir: the copy persisted at serial 101 is served at once. EXPIRE is 5 s.
    apex = await startDaemon([{ name: 'example.net', file: zoneFile }], { port, extra: apexConfig(bind.port), timeoutMs: 10_000 });
    expect(await digShort(port, 'www.example.net', 'A')).toBe('192.0.2.11');
    await until(async () => (await status(port, 'www.example.net', 'A')) === 'SERVFAIL', 10_000, 'SERVFAIL after EXPIRE');
    expect(apex.output()).toMatch(/"event":"zone.expired"/);
    await apex.stop();
  }, 30_000);

  it('refuses to take a zone signed with the wrong key', async () => {
    const dir = tmp();
    const f = join(dir, 'example.org.zone');
    writeFileSync(f, zone('example.org', 5, ['www IN A 192.0.2.5']));
    const b = await startNamed(namedPath(), dir, { zones: `zone "example.org" { type primary; file "${f}"; };` });
    const st = tmp();
    const port = await freePort();
    const d = startDaemon([{ name: 'example.org', file: f }], {
      port,
      timeoutMs: 3000,
      extra: {
        'state-dir': st,
        'tsig-keys': [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret: WRONG }],
        peers: [{ name: 'bind', address: '127.0.0.1', port: b.port, tsig: 'xfr-key' }],
        zones: [{ name: 'example.org', type: 'secondary', primaries: ['bind'] }],
      },
    });
    // Never becomes ready: the zone is never transferred.
    await expect(d).rejects.toThrow(/transfer.primary-failed.*(BADSIG|NOTAUTH)/s);
  }, 30_000);
});

describe.skipIf(skip)('BIND primary → apexdns secondary: IXFR answered with a full zone', () => {
  it('takes the AXFR-style IXFR answer of a primary without a journal and serves exactly the new data', async () => {
    const dir = tmp();
    const st = tmp();
    const f = join(dir, 'example.info.zone');
    const apexPort = await freePort();
    writeFileSync(f, zone('example.info', 200, ['www IN A 192.0.2.10', 'old IN A 192.0.2.20', 'txt IN TXT "hello"']));
    // No ixfr-from-differences: a reload keeps no journal, so BIND cannot build a delta from serial 200 and
    // answers an IXFR with the whole zone (RFC 1995 §4: an AXFR-style IXFR response).
    const b = await startNamed(namedPath(), dir, {
      zones: `zone "example.info" { type primary; file "${f}"; ixfr-from-differences no; };`,
      notifyPort: apexPort,
    });
    const a = await startDaemon([{ name: 'example.info', file: f }], {
      port: apexPort,
      timeoutMs: 15_000,
      extra: {
        'state-dir': st,
        'tsig-keys': [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET }],
        peers: [{ name: 'bind', address: '127.0.0.1', port: b.port, tsig: 'xfr-key', ixfr: true }],
        zones: [{ name: 'example.info', type: 'secondary', primaries: ['bind'], 'allow-notify': ['bind'] }],
      },
    });
    expect(await soaSerial(a.port, 'example.info')).toBe(200);

    // Add new, change www, change txt, delete old; serial bump; SIGHUP → NOTIFY → IXFR from 200.
    writeFileSync(f, zone('example.info', 201, ['www IN A 192.0.2.11', 'new IN A 192.0.2.30', 'txt IN TXT "bye"']));
    b.hup();
    await until(async () => (await soaSerial(a.port, 'example.info')) === 201, 5000, 'apexdns at serial 201');

    // BIND did get an IXFR and sent the full zone in its answer; no separate AXFR was asked for serial 201.
    expect(b.output()).toMatch(/transfer of 'example\.info\/IN': IXFR version not in journal, falling back to AXFR/);
    expect(b.output()).toMatch(/transfer of 'example\.info\/IN': AXFR-style IXFR started: TSIG xfr-key \(serial 201\)/);
    expect(b.output()).not.toMatch(/transfer of 'example\.info\/IN': AXFR started: TSIG xfr-key \(serial 201\)/);
    // The same request by hand: the reply is the whole zone at 201 (not the SOA 201, SOA 200, … difference form).
    const ixfr = await dig(b.port, ['example.info', 'IXFR=200', '-y', TSIG_ARG, '+nocomments', '+nostats', '+nocmd']);
    const got = ixfr.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';') && !/\tTSIG\t/.test(l));
    expect(got.map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'example.info. 300 IN SOA ns1.example.info. hostmaster.example.info. 201 3600 600 86400 300',
      'example.info. 300 IN NS ns1.example.info.',
      'new.example.info. 300 IN A 192.0.2.30',
      'ns1.example.info. 300 IN A 192.0.2.1',
      'txt.example.info. 300 IN TXT "bye"',
      'www.example.info. 300 IN A 192.0.2.11',
      'example.info. 300 IN SOA ns1.example.info. hostmaster.example.info. 201 3600 600 86400 300',
    ]);

    // apexdns took the full-zone answer as a whole zone (logged as AXFR), without an IXFR→AXFR fallback.
    const done = events(a.output(), 'transfer.succeeded').map((e) => [e['type'], e['serial']]);
    expect(done).toEqual([['AXFR', 200], ['AXFR', 201]]);
    expect(events(a.output(), 'transfer.ixfr-fallback')).toEqual([]);
    expect(await digShort(a.port, 'www.example.info', 'A')).toBe('192.0.2.11');
    expect(await digShort(a.port, 'new.example.info', 'A')).toBe('192.0.2.30');
    expect(await digShort(a.port, 'txt.example.info', 'TXT')).toBe('"bye"');
    expect(await status(a.port, 'old.example.info', 'A')).toBe('NXDOMAIN');
    expect(await digShort(a.port, 'example.info', 'SOA')).toBe('ns1.example.info. hostmaster.example.info. 201 3600 600 86400 300');
    await a.stop();
    await b.stop();
  }, 30_000);
});

describe.skipIf(skip)('apexdns primary → BIND secondary', () => {
  it('AXFR then IXFR with TSIG, NOTIFY on SIGHUP, equal copies; unsigned AXFR refused', async () => {
    const dir = tmp();
    const bdir = tmp();
    const f = join(dir, 'example.com.zone');
    writeFileSync(f, zone('example.com', 1, ['www IN A 192.0.2.10', 'mx IN MX 10 mail', 'mail IN AAAA 2001:db8::1', 'txt IN TXT "a b" "c"']));
    const bindPort = await freePort();
    const apexPort = await freePort();
    const apex = await startNotifyingPrimary({ dir, file: f, name: 'example.com', port: apexPort, peer: 'bind', peerPort: bindPort });
    const conf = `server 127.0.0.1 { keys { "xfr-key"; }; };\nzone "example.com" { type secondary; file "${join(bdir, 'example.com.bk')}"; primaries { 127.0.0.1 port ${apexPort} key "xfr-key"; }; };`;
    // BIND's port must be the one apexdns notifies, so it is chosen beforehand.
    const b = (await startNamed(namedPath(), bdir, { zones: conf, port: bindPort })).port;
    await until(async () => (await soaSerial(b, 'example.com')) === 1, 10_000, 'BIND has serial 1');
    expect(await axfrLines(b, 'example.com')).toEqual(await axfrLines(apexPort, 'example.com'));
    // Edit without a serial bump: serial: increment serves 2; SIGHUP → journal → NOTIFY → BIND IXFR.
    writeFileSync(f, zone('example.com', 1, ['www IN A 192.0.2.11', 'mx IN MX 10 mail', 'mail IN AAAA 2001:db8::1', 'new IN TXT "x"']));
    apex.reload();
    await until(async () => (await soaSerial(b, 'example.com')) === 2, 10_000, 'BIND has serial 2');
    expect(await axfrLines(b, 'example.com')).toEqual(await axfrLines(apexPort, 'example.com'));
    expect(apex.output()).toMatch(/"event":"transfer.out".*"type":"IXFR".*"from":1,"serial":2/);
    const unsigned = await dig(apexPort, ['example.com', 'AXFR', '+nocmd']);
    expect(unsigned.stdout).toMatch(/Transfer failed/);
  }, 40_000);
});
