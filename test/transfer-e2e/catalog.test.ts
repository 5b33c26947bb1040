// RFC 9432 catalog zones, producer side: apexdns publishes catalog.example listing its primary zones, and a Knot and
// a BIND secondary consuming it pick member zones up, and drop them, after a config change plus SIGHUP, with no
// change to their own configuration.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildQuery, queryUdpOrTimeout } from '../helpers/dig.js';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { freePorts } from '../helpers/ports.js';
import { readyOrStop, spawnServer } from '../helpers/procs.js';
import { tool } from '../helpers/tools.js';
import { catalogMemberId } from '../../src/zone/catalog.js';
import { Name } from '../../src/wire/name.js';
import { digShort, teardown, tmp, until } from './util.js';

const built = daemonBuilt();
const knotd = tool('knotd');
const named = tool('named');
const dig = tool('dig');
afterAll(teardown, 30_000);

const zoneText = (z: string, serial: number): string => `$ORIGIN ${z}.\n$TTL 300\n@ SOA ns1 h ${serial} 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.1\nwww A 192.0.2.${serial}\n`;

/** True when the server at `port` answers SOA for `zone` authoritatively. */
async function serves(port: number, zone: string): Promise<boolean> {
  const r = await queryUdpOrTimeout(port, buildQuery({ name: zone, type: 'SOA' }), 500);
  if (r === null) return false;
  const m = parseMessage(r);
  return m.rcode === 0 && m.aa && m.answer.length === 1;
}

describe.skipIf('skip' in built || 'skip' in knotd || 'skip' in named || 'skip' in dig)('catalog zone producer (RFC 9432)', () => {
  it('Knot and BIND consume our catalog: members appear and disappear with a config change and SIGHUP', async () => {
    const dir = tmp('apexdns-catalog-');
    const [ap, kp, bp] = await freePorts(3);
    for (const z of ['a.test', 'b.test', 'c.test']) writeFileSync(join(dir, `${z}.zone`), zoneText(z, 1));
    const zone = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, file: join(dir, `${name}.zone`), 'allow-transfer': ['local'], notify: ['knot', 'bind'], ...extra });
    const d = await startDaemon([{ name: 'a.test', file: join(dir, 'a.test.zone') }], {
      port: ap,
      extra: {
        'state-dir': join(dir, 'var'),
        acl: [{ name: 'local', address: '127.0.0.1/32' }],
        peers: [{ name: 'knot', address: '127.0.0.1', port: kp }, { name: 'bind', address: '127.0.0.1', port: bp }],
        zones: [{ name: 'catalog.example', type: 'catalog', 'allow-transfer': ['local'], notify: ['knot', 'bind'] }, zone('a.test', { 'catalog-group': 'blue' }), zone('b.test')],
      },
    });
    // The catalog as RFC 9432 §4 lays it out, with stable ids.
    const ptr = (await digShort(ap!, `${catalogMemberId(Name.parse('a.test.'))}.zones.catalog.example`, 'PTR')).trim();
    expect(ptr).toBe('a.test.');
    expect((await digShort(ap!, 'version.catalog.example', 'TXT')).trim()).toBe('"2"');
    expect((await digShort(ap!, `group.${catalogMemberId(Name.parse('a.test.'))}.zones.catalog.example`, 'TXT')).trim()).toBe('"blue"');

    // Knot: the catalog zone is interpreted, members get the template (primary = apexdns, NOTIFY accepted).
    const kdir = join(dir, 'knot');
    for (const s of ['run', 'db', 'zones']) mkdirSync(join(kdir, s), { recursive: true });
    writeFileSync(join(kdir, 'knot.conf'), [
      'server:', `    rundir: "${join(kdir, 'run')}"`, `    listen: 127.0.0.1@${kp}`,
      'log:', '  - target: stderr', '    any: info',
      'database:', `    storage: "${join(kdir, 'db')}"`,
      'remote:', '  - id: apex', `    address: 127.0.0.1@${ap}`,
      'acl:', '  - id: from-apex', '    address: 127.0.0.1', '    action: notify',
      'template:',
      '  - id: default', `    storage: "${join(kdir, 'zones')}"`, '    zonefile-sync: -1', '    journal-content: all', '    master: apex', '    acl: from-apex',
      '  - id: member', `    storage: "${join(kdir, 'zones')}"`, '    zonefile-sync: -1', '    journal-content: all', '    master: apex', '    acl: from-apex',
      'zone:', '  - domain: catalog.example.', '    catalog-role: interpret', '    catalog-template: member', '',
    ].join('\n'));
    const k = spawnServer((knotd as { path: string }).path, ['-c', join(kdir, 'knot.conf')], { label: `knotd:${kp}`, dir: kdir });
    await readyOrStop(k, 'knotd consuming the catalog', async () => (await serves(kp!, 'a.test')) && (await serves(kp!, 'b.test')), 30_000);

    // BIND: catalog-zones with the default primary.
    const bdir = join(dir, 'bind');
    mkdirSync(bdir, { recursive: true });
    writeFileSync(join(bdir, 'named.conf'), [
      'options {', `  directory "${bdir}";`, `  pid-file "${join(bdir, 'named.pid')}";`, `  listen-on port ${bp} { 127.0.0.1; };`, '  listen-on-v6 { none; };',
      '  recursion no;', '  dnssec-validation no;', '  notify no;', '  allow-notify { 127.0.0.1; };',
      `  catalog-zones { zone "catalog.example." default-primaries { 127.0.0.1 port ${ap}; } in-memory yes; };`,
      '};', 'controls { };',
      `zone "catalog.example." { type secondary; primaries { 127.0.0.1 port ${ap}; }; file "catalog.example.db"; };`, '',
    ].join('\n'));
    const b = spawnServer((named as { path: string }).path, ['-g', '-c', join(bdir, 'named.conf'), '-n', '1'], { label: `named:${bp}`, dir: bdir });
    await readyOrStop(b, 'named consuming the catalog', async () => (await serves(bp!, 'a.test')) && (await serves(bp!, 'b.test')), 30_000);
    expect(await serves(kp!, 'c.test')).toBe(false);
    expect(await serves(bp!, 'c.test')).toBe(false);

    // A new zone in apexdns's config, one removed, SIGHUP: the catalog changes (IXFR after NOTIFY) and so do both.
    const cfg = parse(readFileSync(d.configFile, 'utf8')) as { zones: Record<string, unknown>[] };
    cfg.zones = [...cfg.zones.filter((z) => z.name !== 'b.test'), zone('c.test')];
    writeFileSync(d.configFile, stringify(cfg));
    d.reload();
    await until(async () => (await serves(kp!, 'c.test')) && (await serves(bp!, 'c.test')), 30_000, 'Knot and BIND serving the new member c.test');
    await until(async () => !(await serves(kp!, 'b.test')) && !(await serves(bp!, 'b.test')), 30_000, 'Knot and BIND dropping the removed member b.test');
    expect((await digShort(kp!, 'www.c.test', 'A')).trim()).toBe('192.0.2.1');
    expect((await digShort(bp!, 'www.c.test', 'A')).trim()).toBe('192.0.2.1');
    await k.stop();
    await b.stop();
    await d.stop();
  }, 120_000);
});
