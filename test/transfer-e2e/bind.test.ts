// Interop with BIND 9 (named): BIND primary → apexdns secondary (AXFR+TSIG, IXFR on NOTIFY, wrong key, restart
// with the primary down) and apexdns primary → BIND secondary (AXFR/IXFR with TSIG, NOTIFY on SIGHUP, equal copies).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';
import { capture, stopAll, terminate, trackChild } from '../helpers/procs.js';
import { tool } from '../helpers/tools.js';

const named = tool('named');
const digTool = tool('dig');
const built = daemonBuilt();
const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==';
const WRONG = 'd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc=';
const dirs: string[] = [];
const procs: ChildProcess[] = [];

afterAll(async () => {
  for (const p of procs) await terminate(p, 3000);
  await stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 30_000);

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'apexdns-e2e-'));
  dirs.push(d);
  return d;
}

function zone(origin: string, serial: number, body: readonly string[], timers = '3600 600 86400 300'): string {
  return [`$ORIGIN ${origin}.`, '$TTL 300', `@ IN SOA ns1 hostmaster ${serial} ${timers}`, '@ IN NS ns1', 'ns1 IN A 192.0.2.1', ...body, ''].join('\n');
}

interface Named {
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
  hup(): void;
}

async function startNamed(dir: string, zonesConf: string, alsoNotifyPort?: number): Promise<Named> {
  const port = await freePort();
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify explicit;',
    '  notify-delay 0;',
    // Tiny test zones: BIND would otherwise answer IXFR with a full zone when the diff is large relative to it.
    '  max-ixfr-ratio unlimited;',
    ...(alsoNotifyPort ? [`  also-notify { 127.0.0.1 port ${alsoNotifyPort} key "xfr-key"; };`] : []),
    '  allow-transfer { key "xfr-key"; };',
    '  allow-notify { 127.0.0.1; };',
    '};',
    'controls { };',
    `key "xfr-key" { algorithm hmac-sha256; secret "${SECRET}"; };`,
    zonesConf,
    '',
  ].join('\n'));
  const child = spawn(toolPathOf(named), ['-g', '-c', conf, '-n', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  procs.push(child);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  const output = (): string => out() + err();
  const deadline = Date.now() + 10_000;
  while (!/running/.test(output())) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`named did not start:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, child, output, hup: () => child.kill('SIGHUP') };
}

function toolPathOf(r: ReturnType<typeof tool>): string {
  if ('path' in r) return r.path;
  throw new Error(r.skip);
}

async function soaSerial(port: number, name: string): Promise<number | undefined> {
  const r = await dig(port, [name, 'SOA', '+short', '+tcp', '+time=1', '+tries=1']);
  const f = r.stdout.trim().split(/\s+/);
  return f.length >= 7 ? Number(f[2]) : undefined;
}

async function digShort(port: number, name: string, type: string): Promise<string> {
  return (await dig(port, [name, type, '+short', '+time=1', '+tries=1'])).stdout.trim();
}

async function status(port: number, name: string, type: string): Promise<string> {
  const r = await dig(port, [name, type, '+time=1', '+tries=1']);
  return /status: (\w+)/.exec(r.stdout)?.[1] ?? 'none';
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `dig AXFR` records (TSIG lines and comments removed), sorted, for comparing two servers' copies. */
async function axfrLines(port: number, name: string): Promise<string[]> {
  const r = await dig(port, [name, 'AXFR', '-y', `hmac-sha256:xfr-key:${SECRET}`, '+nocomments', '+nostats', '+nocmd']);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';') && !/\tTSIG\t/.test(l));
  // The SOA opens and closes the transfer: keep one.
  return [...new Set(lines.map((l) => l.replace(/\s+/g, ' ')))].sort();
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
    bind = await startNamed(bindDir, `zone "example.net" { type primary; file "${zoneFile}"; ixfr-from-differences yes; };`, apexPort);
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
    await terminate(bind.child, 3000);
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
    const b = await startNamed(dir, `zone "example.org" { type primary; file "${f}"; };`);
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

describe.skipIf(skip)('apexdns primary → BIND secondary', () => {
  it('AXFR then IXFR with TSIG, NOTIFY on SIGHUP, equal copies; unsigned AXFR refused', async () => {
    const dir = tmp();
    const bdir = tmp();
    const f = join(dir, 'example.com.zone');
    writeFileSync(f, zone('example.com', 1, ['www IN A 192.0.2.10', 'mx IN MX 10 mail', 'mail IN AAAA 2001:db8::1', 'txt IN TXT "a b" "c"']));
    const bindPort = await freePort();
    const apexPort = await freePort();
    const apex = await startDaemon([{ name: 'example.com', file: f }], {
      port: apexPort,
      extra: {
        'state-dir': join(dir, 'state'),
        'tsig-keys': [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET }],
        peers: [{ name: 'bind', address: '127.0.0.1', port: bindPort, tsig: 'xfr-key' }],
        zones: [{ name: 'example.com', file: f, notify: ['bind'], 'allow-transfer': ['bind'], serial: 'increment' }],
      },
    });
    const conf = `server 127.0.0.1 { keys { "xfr-key"; }; };\nzone "example.com" { type secondary; file "${join(bdir, 'example.com.bk')}"; primaries { 127.0.0.1 port ${apexPort} key "xfr-key"; }; };`;
    // startNamed picks its own port; BIND's port must be the one apexdns notifies, so write it ourselves.
    const b = await startNamedOn(bdir, bindPort, conf);
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

async function startNamedOn(dir: string, port: number, zonesConf: string): Promise<number> {
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  allow-notify { 127.0.0.1; };',
    '  allow-transfer { key "xfr-key"; };',
    '};',
    'controls { };',
    `key "xfr-key" { algorithm hmac-sha256; secret "${SECRET}"; };`,
    zonesConf,
    '',
  ].join('\n'));
  const child = spawn(toolPathOf(named), ['-g', '-c', conf, '-n', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  procs.push(child);
  const err = capture(child.stderr);
  const deadline = Date.now() + 10_000;
  while (!/running/.test(err())) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`named did not start:\n${err()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return port;
}
