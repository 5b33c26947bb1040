// apexdns → apexdns → apexdns chained (built daemons, TSIG): AXFR at startup, NOTIFY propagated hop by hop with
// IXFR at each hop, a serial wrap past 2^32 (RFC 1982) followed end to end, and the AXFR fallback when the
// primary's journal no longer reaches the secondary's serial (IXFR answered with the full zone, RFC 1995 §4).

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DAEMON_MAIN, daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { freePorts } from '../helpers/ports.js';
import { tool } from '../helpers/tools.js';
import { axfrLines, digShort, events, KEY, READER, soaSerial, teardown, tmp, until, zone } from './util.js';

const digTool = tool('dig');
const built = daemonBuilt();
const skip = 'skip' in digTool || 'skip' in built;

afterAll(teardown, 30_000);

/** `transfer.succeeded` events of a daemon as "TYPE serial". */
function succeeded(d: DaemonServer): string[] {
  return events(d.output(), 'transfer.succeeded').map((e) => `${String(e.type)} ${String(e.serial)}`);
}

/** `transfer.out` events of a daemon as "TYPE from→serial". */
function served(d: DaemonServer): string[] {
  return events(d.output(), 'transfer.out').map((e) => `${String(e.type)} ${e.from === undefined ? '' : `${String(e.from)}→`}${String(e.serial)}`);
}

describe.skipIf(skip)('apexdns primary → apexdns secondary → apexdns secondary', () => {
  const dir = skip ? '' : tmp();
  const f = join(dir, 'example.com.zone');
  let a: DaemonServer;
  let b: DaemonServer;
  let c: DaemonServer;
  const body = ['www IN A 192.0.2.10', 'old IN A 192.0.2.20', 'txt IN TXT "hello"', 'mx IN MX 10 mail'];

  /** All three copies equal (normalised dig AXFR); returns them. */
  async function sameEverywhere(): Promise<string[]> {
    const la = await axfrLines(a.port, 'example.com');
    expect(await axfrLines(b.port, 'example.com')).toEqual(la);
    expect(await axfrLines(c.port, 'example.com')).toEqual(la);
    return la;
  }

  /** Write the zone, SIGHUP the head of the chain, and wait until the tail serves `serial`; returns ms taken. */
  async function editAndFollow(serial: number, lines: readonly string[]): Promise<number> {
    writeFileSync(f, zone('example.com', serial, lines));
    const t0 = Date.now();
    a.reload();
    await until(async () => (await soaSerial(c.port, 'example.com')) === serial, 5000, `the tail at serial ${serial}`);
    return Date.now() - t0;
  }

  it('transfers A → B → C by AXFR at startup', async () => {
    const [pa, pb, pc] = await freePorts(3);
    writeFileSync(f, zone('example.com', 1, body));
    const peer = (name: string, port: number, ixfr = false): Record<string, unknown> => ({ name, address: '127.0.0.1', port, tsig: 'xfr-key', ...(ixfr ? { ixfr: true } : {}) });
    a = await startDaemon([{ name: 'example.com', file: f }], {
      port: pa,
      extra: { 'state-dir': join(dir, 'a'), 'tsig-keys': KEY, acl: READER, peers: [peer('b', pb!)], zones: [{ name: 'example.com', file: f, notify: ['b'], 'allow-transfer': ['b', 'reader'] }] },
    });
    b = await startDaemon([{ name: 'example.com', file: f }], {
      port: pb,
      extra: {
        'state-dir': join(dir, 'b'),
        'tsig-keys': KEY,
        acl: READER,
        peers: [peer('a', pa!, true), peer('c', pc!)],
        // A secondary that is itself a primary for the next hop: journal + NOTIFY downstream.
        zones: [{ name: 'example.com', type: 'secondary', primaries: ['a'], notify: ['c'], 'allow-transfer': ['c', 'reader'] }],
      },
    });
    c = await startDaemon([{ name: 'example.com', file: f }], {
      port: pc,
      extra: { 'state-dir': join(dir, 'c'), 'tsig-keys': KEY, acl: READER, peers: [peer('b', pb!, true)], zones: [{ name: 'example.com', type: 'secondary', primaries: ['b'], 'allow-transfer': ['reader'] }] },
    });
    expect(await soaSerial(c.port, 'example.com')).toBe(1);
    const lines = await sameEverywhere();
    expect(lines).toContain('old.example.com. 300 IN A 192.0.2.20');
    expect(lines.length).toBe(7);
    expect(succeeded(b)).toEqual(['AXFR 1']);
    expect(succeeded(c)).toEqual(['AXFR 1']);
  }, 40_000);

  it('propagates an edit by NOTIFY and IXFR at each hop', async () => {
    const ms = await editAndFollow(2, ['www IN A 192.0.2.11', 'txt IN TXT "hello"', 'mx IN MX 10 mail', 'new IN AAAA 2001:db8::2']);
    expect(ms).toBeLessThan(3000);
    const lines = await sameEverywhere();
    expect(lines).toContain('www.example.com. 300 IN A 192.0.2.11');
    expect(lines).toContain('new.example.com. 300 IN AAAA 2001:db8::2');
    expect(lines.some((l) => l.startsWith('old.'))).toBe(false);
    expect(await digShort(c.port, 'new.example.com', 'AAAA')).toBe('2001:db8::2');
    // Each hop served and received an IXFR (1→2), not a full zone.
    expect(served(a)).toContain('IXFR 1→2');
    expect(served(b)).toContain('IXFR 1→2');
    expect(succeeded(b)).toEqual(['AXFR 1', 'IXFR 2']);
    expect(succeeded(c)).toEqual(['AXFR 1', 'IXFR 2']);
    expect(events(b.output(), 'notify.received').map((e) => e.serial)).toContain(2);
    expect(events(c.output(), 'notify.received').map((e) => e.serial)).toContain(2);
  }, 30_000);

  it('follows a serial wrap past 2^32 (RFC 1982): 2 → 2147483649 → 4294967295 → 1', async () => {
    // RFC 1982 §3.1: at most 2^31 - 1 can be added in one step; 1 is "greater" than 4294967295.
    let lines = ['www IN A 192.0.2.11', 'txt IN TXT "hello"', 'mx IN MX 10 mail', 'new IN AAAA 2001:db8::2'];
    for (const [serial, extra] of [[2147483649, 'w1 IN TXT "one"'], [4294967295, 'w2 IN TXT "two"'], [1, 'w3 IN TXT "three"']] as const) {
      lines = [...lines, extra];
      await editAndFollow(serial, lines);
      expect(await soaSerial(b.port, 'example.com')).toBe(serial);
    }
    const all = await sameEverywhere();
    expect(all.find((l) => / SOA /.test(l))).toBe('example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 300');
    expect(await digShort(c.port, 'w3.example.com', 'TXT')).toBe('"three"');
    expect(succeeded(c)).toEqual(['AXFR 1', 'IXFR 2', 'IXFR 2147483649', 'IXFR 4294967295', 'IXFR 1']);
    expect(served(b)).toContain('IXFR 4294967295→1');
  }, 40_000);
});

describe.skipIf(skip)('AXFR fallback: the primary journal no longer reaches the secondary serial', () => {
  it('IXFR from a dropped serial is answered with the full zone, and the secondary ends up with the right data', async () => {
    const dir = tmp();
    const f = join(dir, 'example.org.zone');
    const [pp, ps] = await freePorts(2);
    writeFileSync(f, zone('example.org', 10, ['www IN A 192.0.2.10', 'a IN A 192.0.2.1']));
    const p = await startDaemon([{ name: 'example.org', file: f }], {
      port: pp,
      extra: {
        'state-dir': join(dir, 'p'),
        // One changeset kept: 10→11 is dropped when 11→12 is written.
        journal: { 'max-changesets': 1 },
        'tsig-keys': KEY,
        acl: READER,
        peers: [{ name: 's', address: '127.0.0.1', port: ps, tsig: 'xfr-key' }],
        // No NOTIFY: the secondary stays at serial 10 until asked to refresh.
        zones: [{ name: 'example.org', file: f, 'allow-transfer': ['s'] }],
      },
    });
    const s = await startDaemon([{ name: 'example.org', file: f }], {
      port: ps,
      extra: {
        'state-dir': join(dir, 's'),
        'tsig-keys': KEY,
        acl: READER,
        peers: [{ name: 'p', address: '127.0.0.1', port: pp, tsig: 'xfr-key', ixfr: true }],
        zones: [{ name: 'example.org', type: 'secondary', primaries: ['p'], refresh: 3600, 'allow-transfer': ['reader'] }],
      },
    });
    expect(await soaSerial(s.port, 'example.org')).toBe(10);
    writeFileSync(f, zone('example.org', 11, ['www IN A 192.0.2.11', 'a IN A 192.0.2.1']));
    p.reload();
    await until(async () => (await soaSerial(p.port, 'example.org')) === 11, 5000, 'primary at 11');
    writeFileSync(f, zone('example.org', 12, ['www IN A 192.0.2.12', 'b IN A 192.0.2.2']));
    p.reload();
    await until(async () => (await soaSerial(p.port, 'example.org')) === 12 && events(p.output(), 'journal.appended').length === 2, 5000, 'primary at 12, journaled');
    expect(await soaSerial(s.port, 'example.org')).toBe(10);
    // `apexdns zone refresh`: SOA check now → IXFR from 10 → the full zone.
    const r = spawnSync(process.execPath, [DAEMON_MAIN, 'zone', 'refresh', 'example.org', '--config', s.configFile], { encoding: 'utf8', timeout: 15_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/serial 12/);
    expect(r.status).toBe(0);
    expect(await soaSerial(s.port, 'example.org')).toBe(12);
    expect(await axfrLines(s.port, 'example.org')).toEqual(await axfrLines(p.port, 'example.org'));
    expect(await digShort(s.port, 'b.example.org', 'A')).toBe('192.0.2.2');
    expect(await digShort(s.port, 'a.example.org', 'A')).toBe('');
    expect(served(p)).toContain('IXFR-AXFR 10→12');
    // The secondary took the full zone it was sent (logged as AXFR), not a changeset.
    expect(succeeded(s)).toEqual(['AXFR 10', 'AXFR 12']);
  }, 40_000);
});
