// Seed "Secondary DNS override" end to end: BIND primary → apexdns secondary with a local overlay file. A proxied
// mark serves the proxy pool instead of the transferred origin addresses (also after an IXFR); an overlay apex
// CNAME is answered flattened and hides the transferred apex A/AAAA; removing it + SIGHUP brings them back.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';
import { tool } from '../helpers/tools.js';
import { startNamed, type Named } from './named.js';
import { digShort, events, KEY, soaSerial, teardown, tmp, until, zone } from './util.js';

const named = tool('named');
const built = daemonBuilt();
const skip = 'skip' in named || 'skip' in tool('dig') || 'skip' in built;

const sorted = (s: string): string => s.split('\n').filter((l) => l !== '').sort().join('\n');

const BODY_1 = ['@ IN A 192.0.2.1', '@ IN AAAA 2001:db8::1', 'www IN A 192.0.2.10', 'www IN AAAA 2001:db8::10', 'web IN A 192.0.2.50', 'txt IN TXT "kept"'];
const WWW_PROXIED = 'www IN A 192.0.2.10 ; cf_tags=cf-proxied:true';
const APEX_CNAME = '@ IN CNAME web.example.net.';

describe.skipIf(skip)('secondary overlay (BIND primary → apexdns secondary)', () => {
  let bind: Named;
  let apex: DaemonServer;
  const bindDir = skip ? '' : tmp();
  const zoneFile = join(bindDir, 'example.net.zone');
  const overlay = join(bindDir, 'example.net.overlay');

  afterAll(teardown, 30_000);

  it('serves the proxy pool for a name the overlay marks proxied, never its origin addresses', async () => {
    const apexPort = await freePort();
    writeFileSync(zoneFile, zone('example.net', 10, BODY_1));
    writeFileSync(overlay, `$ORIGIN example.net.\n$TTL 300\n${WWW_PROXIED}\n${APEX_CNAME}\n`);
    bind = await startNamed((named as { path: string }).path, bindDir, {
      zones: `zone "example.net" { type primary; file "${zoneFile}"; ixfr-from-differences yes; };`,
      notifyPort: apexPort,
    });
    apex = await startDaemon([{ name: 'example.net', file: zoneFile }], {
      port: apexPort,
      timeoutMs: 15_000,
      extra: {
        'state-dir': join(tmp(), 'state'),
        'tsig-keys': KEY,
        peers: [{ name: 'bind', address: '127.0.0.1', port: bind.port, tsig: 'xfr-key', ixfr: true }],
        proxy: { ipv4: ['203.0.113.1', '203.0.113.2'], ipv6: ['2001:db8:ffff::1'] },
        zones: [{ name: 'example.net', type: 'secondary', primaries: ['bind'], 'allow-notify': ['bind'], overlay }],
      },
    });
    expect(await soaSerial(apex.port, 'example.net')).toBe(10);
    // BIND itself still has the origin addresses.
    expect(sorted(await digShort(bind.port, 'www.example.net', 'A'))).toBe('192.0.2.10');
    expect(sorted(await digShort(apex.port, 'www.example.net', 'A'))).toBe('203.0.113.1\n203.0.113.2');
    expect(await digShort(apex.port, 'www.example.net', 'AAAA')).toBe('2001:db8:ffff::1');
    expect(await digShort(apex.port, 'txt.example.net', 'TXT')).toBe('"kept"');
  }, 40_000);

  it('answers an overlay apex CNAME flattened, without the transferred apex A/AAAA', async () => {
    expect(await digShort(apex.port, 'example.net', 'A')).toBe('192.0.2.50');
    // The CNAME target has no AAAA: the flattened apex has none either (the transferred 2001:db8::1 is deactivated).
    expect(await digShort(apex.port, 'example.net', 'AAAA')).toBe('');
    expect(await digShort(apex.port, 'example.net', 'NS')).toBe('ns1.example.net.');
  });

  it('keeps the proxied mark across an IXFR from the primary', async () => {
    writeFileSync(zoneFile, zone('example.net', 11, [...BODY_1.filter((l) => !l.startsWith('www IN A ')), 'www IN A 192.0.2.12', 'new IN A 192.0.2.60']));
    bind.hup();
    await until(async () => (await soaSerial(apex.port, 'example.net')) === 11, 5000, 'apexdns at serial 11');
    expect(events(apex.output(), 'transfer.succeeded').map((e) => [e.type, e.serial])).toEqual([['AXFR', 10], ['IXFR', 11]]);
    expect(await digShort(apex.port, 'new.example.net', 'A')).toBe('192.0.2.60');
    // The overlay names www: it stays proxied although its transferred address changed.
    expect(sorted(await digShort(apex.port, 'www.example.net', 'A'))).toBe('203.0.113.1\n203.0.113.2');
    expect(await digShort(apex.port, 'example.net', 'A')).toBe('192.0.2.50');
  }, 20_000);

  it('brings the transferred apex A/AAAA back when the apex CNAME is removed from the overlay and SIGHUP is sent', async () => {
    writeFileSync(overlay, `$ORIGIN example.net.\n$TTL 300\n${WWW_PROXIED}\n`);
    apex.reload();
    await until(async () => (await digShort(apex.port, 'example.net', 'A')) === '192.0.2.1', 5000, 'apex A back');
    expect(await digShort(apex.port, 'example.net', 'AAAA')).toBe('2001:db8::1');
    expect(await digShort(apex.port, 'example.net', 'CNAME')).toBe('');
    expect(sorted(await digShort(apex.port, 'www.example.net', 'A'))).toBe('203.0.113.1\n203.0.113.2');
    // Serial unchanged: the overlay is local, nothing was transferred.
    expect(await soaSerial(apex.port, 'example.net')).toBe(11);
  }, 20_000);
});
