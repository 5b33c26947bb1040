// Interop with Knot DNS: apexdns primary (built daemon) → knotd secondary: AXFR then IXFR with TSIG, NOTIFY on
// SIGHUP after an edit, Knot's copy equal to ours (normalised `dig AXFR`), unauthenticated AXFR refused.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.js';
import { daemonBuilt } from '../helpers/daemon.js';
import { knotd, startKnot } from '../helpers/knot.js';
import { freePort } from '../helpers/ports.js';
import { tool } from '../helpers/tools.js';
import { axfrLines, events, SECRET, soaSerial, startNotifyingPrimary, teardown, tmp, until, zone } from './util.js';

const knot = knotd();
const digTool = tool('dig');
const built = daemonBuilt();
const skip = 'skip' in knot || 'skip' in digTool || 'skip' in built;

afterAll(teardown, 30_000);

describe.skipIf(skip)('apexdns primary → Knot secondary', () => {
  it('AXFR then IXFR with TSIG, NOTIFY on SIGHUP, equal copies; unsigned AXFR refused', async () => {
    const dir = tmp();
    const f = join(dir, 'example.com.zone');
    const body = ['www IN A 192.0.2.10', 'mx IN MX 10 mail', 'mail IN AAAA 2001:db8::1', 'txt IN TXT "a b" "c"', 'srv._tcp IN SRV 0 5 443 www', 'gone IN A 192.0.2.99'];
    writeFileSync(f, zone('example.com', 1, body));
    const knotPort = await freePort();
    const apexPort = await freePort();
    const apex = await startNotifyingPrimary({ dir, file: f, name: 'example.com', port: apexPort, peer: 'knot', peerPort: knotPort });
    const k = await startKnot([], {
      port: knotPort,
      keys: [{ id: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET }],
      remotes: [{ id: 'apexdns', address: '127.0.0.1', port: apexPort, key: 'xfr-key' }],
      acls: [
        { id: 'notify-from-apexdns', address: '127.0.0.1', key: 'xfr-key', action: ['notify'] },
        // Lets the test read Knot's copy with `dig AXFR -y`.
        { id: 'transfer-with-key', key: 'xfr-key', action: ['transfer'] },
      ],
      secondaries: [{ name: 'example.com', master: 'apexdns', acl: ['notify-from-apexdns', 'transfer-with-key'] }],
    });
    await until(async () => (await soaSerial(k.port, 'example.com')) === 1, 10_000, 'Knot has serial 1');
    const first = await axfrLines(apexPort, 'example.com');
    expect(first).toContain('www.example.com. 300 IN A 192.0.2.10');
    expect(first.length).toBe(9);
    expect(await axfrLines(k.port, 'example.com')).toEqual(first);
    expect(events(apex.output(), 'transfer.out').map((e) => e.type)).toContain('AXFR');

    // Edit without a serial bump (serial: increment serves 2): change, add, delete; SIGHUP → journal → NOTIFY → IXFR.
    const edited = body.filter((l) => !l.startsWith('gone')).map((l) => (l.startsWith('www') ? 'www IN A 192.0.2.11' : l));
    writeFileSync(f, zone('example.com', 1, [...edited, 'new IN TXT "x"']));
    apex.reload();
    await until(async () => (await soaSerial(k.port, 'example.com')) === 2, 10_000, 'Knot has serial 2');
    const second = await axfrLines(apexPort, 'example.com');
    expect(second).toContain('www.example.com. 300 IN A 192.0.2.11');
    expect(second).toContain('new.example.com. 300 IN TXT "x"');
    expect(second.some((l) => l.startsWith('gone.'))).toBe(false);
    expect(await axfrLines(k.port, 'example.com')).toEqual(second);
    const ixfr = events(apex.output(), 'transfer.out').filter((e) => e.type === 'IXFR');
    expect(ixfr.map((e) => [e.from, e.serial])).toEqual([[1, 2]]);
    expect(events(apex.output(), 'notify.sent').map((e) => e.serial)).toContain(2);

    // Without the key: REFUSED (dig reports the failed transfer).
    const unsigned = await dig(apexPort, ['example.com', 'AXFR', '+nocmd']);
    expect(unsigned.stdout).toMatch(/Transfer failed/);
    expect(events(apex.output(), 'transfer.refused').length).toBeGreaterThanOrEqual(1);
  }, 40_000);
});
