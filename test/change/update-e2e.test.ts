// RFC 2136 UPDATE end to end with the real clients (nsupdate from bind9-dnsutils, knsupdate from knot-dnsutils)
// against the built daemon with workers: 2: changes seen from both workers, failing prerequisites, unsigned
// UPDATE refused, a secondary zone refusing UPDATE, and the zone file afterwards equal to the original but for the
// SOA serial.

import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildQuery } from '../helpers/dig.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { freePorts } from '../helpers/ports.js';
import { tool, toolPath } from '../helpers/tools.js';
import { events, soaSerial, teardown, tmp, until } from '../transfer-e2e/util.js';

const nsupdate = tool('nsupdate');
const knsupdate = tool('knsupdate');
const digTool = tool('dig');
const built = daemonBuilt();
const skip = 'skip' in nsupdate || 'skip' in knsupdate || 'skip' in digTool || 'skip' in built;

afterAll(teardown, 30_000);

const SECRET = 'YWNtZS1zZWNyZXQtYWNtZS1zZWNyZXQtYWNtZS1zZWNyZXQ=';
const KEY_ARG = `hmac-sha256:acme-key:${SECRET}`;
const SECRET2 = 'Y2VydGJvdC1zZWNyZXQtY2VydGJvdC1zZWNyZXQtY2VydA==';
const CERTBOT_ARG = `hmac-sha256:certbot:${SECRET2}`;

const ZONE = `; example.com: maintained by hand and by RFC 2136 UPDATE
$ORIGIN example.com.
$TTL 3600
@\tIN SOA ns1 hostmaster (
\t\t2024060101 ; serial
\t\t7200 3600 1209600 300 )
\tIN NS ns1

; hosts
ns1\tIN A 192.0.2.1
www\tIN A 192.0.2.10 ; the web server
`;

/** Run a client with a script on stdin: exit code and output. */
function run(cmd: string, args: readonly string[], input: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
    c.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
    c.stdin.end(input);
  });
}

const script = (port: number, lines: readonly string[]): string => [`server 127.0.0.1 ${port}`, 'zone example.com', ...lines, 'send', ''].join('\n');

/** One UDP query from a fresh socket (a fresh source port: the kernel may pick either worker): rcode and answer count. */
function udp(port: number, name: string, type: string): Promise<string> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve('timeout');
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(`rcode=${m[3]! & 0xf} answers=${m.readUInt16BE(6)}`);
    });
    s.send(buildQuery({ name, type }), port, '127.0.0.1');
  });
}

async function fromEveryWorker(d: DaemonServer, name: string, type: string, want: string): Promise<void> {
  const since = Date.now();
  const got = await Promise.all(Array.from({ length: 60 }, () => udp(d.port, name, type)));
  expect(got.filter((g) => g !== want)).toEqual([]);
  // Both workers answered some of them (query log lines carry the worker slot).
  await until(async () => workers(d, name, since).size === 2, 3000, 'query log lines from both workers').catch(() => undefined);
  expect([...workers(d, name, since)].sort()).toEqual([0, 1]);
}

function workers(d: DaemonServer, qname: string, since: number): Set<number> {
  const out = new Set<number>();
  for (const line of d.output().split('\n')) {
    if (!line.includes('"msg":"query"') || !line.includes(`"qname":"${qname}."`)) continue;
    try {
      const j = JSON.parse(line) as { worker?: number; time?: number };
      if (typeof j.worker === 'number' && (j.time ?? 0) >= since) out.add(j.worker);
    } catch {
      // a partial line
    }
  }
  return out;
}

describe.skipIf(skip)('RFC 2136 UPDATE with nsupdate and knsupdate, workers: 2', () => {
  it('adds and deletes records, refuses what it must, and writes the file back', async () => {
    const dir = tmp();
    const f = join(dir, 'example.com.zone');
    writeFileSync(f, ZONE);
    const [port, dead] = await freePorts(2);
    const d = await startDaemon([{ name: 'example.com', file: f }], {
      port,
      workers: 2,
      timeoutMs: 20_000,
      extra: {
        'state-dir': join(dir, 'state'),
        log: { queries: true },
        'tsig-keys': [{ name: 'acme-key', algorithm: 'hmac-sha256', secret: SECRET }, { name: 'certbot', algorithm: 'hmac-sha256', secret: SECRET2 }],
        acl: [{ name: 'acme', key: 'acme-key' }, { name: 'certbot', key: 'certbot' }],
        peers: [{ name: 'gone', address: '127.0.0.1', port: dead }],
        // The config of issue 13 as written, plus a secondary zone (UPDATE is refused there).
        zones: [
          { name: 'example.com', file: f, 'allow-update': ['acme', 'certbot'], 'update-policy': [{ acl: 'certbot', owners: ['_acme-challenge.*'], types: ['TXT'] }], limits: { 'max-rrset': 2 } },
          { name: 'sec.example', type: 'secondary', primaries: ['gone'], 'allow-update': ['acme'] },
        ],
      },
    });
    const ns = (lines: readonly string[]) => run(toolPath(nsupdate), ['-y', KEY_ARG], script(port!, lines));
    const kns = (lines: readonly string[]) => run(toolPath(nsupdate), ['-y', KEY_ARG], script(port!, lines));

    // nsupdate add: every worker answers with the new TXT as soon as nsupdate returns.
    let r = await ns(['update add _acme-challenge.example.com. 60 TXT "token-1"']);
    expect(r).toEqual({ code: 0, out: '' });
    await fromEveryWorker(d, '_acme-challenge.example.com', 'TXT', 'rcode=0 answers=1');
    expect(await soaSerial(port!, 'example.com')).toBe(2024060102);

    // Failing prerequisites: YXDOMAIN, NXRRSET, NXDOMAIN, YXRRSET; nothing changes.
    r = await ns(['prereq nxdomain www.example.com', 'update add x.example.com. 60 A 192.0.2.5']);
    expect([r.code, r.out.trim()]).toEqual([2, 'update failed: YXDOMAIN']);
    r = await ns(['prereq yxrrset www.example.com MX', 'update add x.example.com. 60 A 192.0.2.5']);
    expect([r.code, r.out.trim()]).toEqual([2, 'update failed: NXRRSET']);
    r = await ns(['prereq yxdomain nope.example.com', 'update add x.example.com. 60 A 192.0.2.5']);
    expect([r.code, r.out.trim()]).toEqual([2, 'update failed: NXDOMAIN']);
    r = await kns(['prereq nxrrset _acme-challenge.example.com TXT', 'update add x.example.com. 60 A 192.0.2.5']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/update failed.*YXRRSET/);
    expect(await udp(port!, 'x.example.com', 'A')).toBe('rcode=3 answers=0');
    // A change the zone cannot load (limits.max-rrset: 2) is undone: REFUSED, the file as before.
    r = await ns(['update add www.example.com. 3600 A 192.0.2.11', 'update add www.example.com. 3600 A 192.0.2.12']);
    expect([r.code, r.out.trim()]).toEqual([2, 'update failed: REFUSED']);
    expect(readFileSync(f, 'utf8')).toBe(ZONE.replace('2024060101 ; serial', '2024060102 ; serial') + '_acme-challenge\t60\tIN\tTXT\t"token-1"\n');
    expect(await udp(port!, 'www.example.com', 'A')).toBe('rcode=0 answers=1');

    // Unsigned: REFUSED. A secondary zone: REFUSED. Not our zone: NOTAUTH.
    r = await run(toolPath(nsupdate), [], script(port!, ['update add y.example.com. 60 A 192.0.2.6']));
    expect([r.code, r.out.trim()]).toEqual([2, 'update failed: REFUSED']);
    r = await run(toolPath(nsupdate), ['-y', KEY_ARG], [`server 127.0.0.1 ${port}`, 'zone sec.example', 'update add a.sec.example. 60 A 192.0.2.7', 'send', ''].join('\n'));
    expect([r.code, r.out.trim()]).toEqual([2, 'update failed: REFUSED']);
    r = await run(toolPath(nsupdate), ['-y', KEY_ARG], [`server 127.0.0.1 ${port}`, 'zone other.example', 'update add a.other.example. 60 A 192.0.2.7', 'send', ''].join('\n'));
    expect([r.code, r.out.trim()]).toEqual([2, 'update failed: NOTAUTH']);

    // knsupdate adds and deletes; nsupdate deletes its TXT over TCP (-v).
    r = await kns(['update add k.example.com. 300 A 192.0.2.77']);
    expect(r.code).toBe(0);
    await fromEveryWorker(d, 'k.example.com', 'A', 'rcode=0 answers=1');
    r = await kns(['update delete k.example.com. A']);
    expect(r.code).toBe(0);
    r = await run(toolPath(nsupdate), ['-v', '-y', KEY_ARG], script(port!, ['update delete _acme-challenge.example.com. TXT']));
    expect(r).toEqual({ code: 0, out: '' });
    await fromEveryWorker(d, '_acme-challenge.example.com', 'TXT', 'rcode=3 answers=0');
    await fromEveryWorker(d, 'k.example.com', 'A', 'rcode=3 answers=0');

    // The file: the original but for the SOA serial (four changes: 2024060101 + 4).
    expect(readFileSync(f, 'utf8')).toBe(ZONE.replace('2024060101 ; serial', '2024060105 ; serial'));
    // One audit line per change: who, zone, operations, old and new serial.
    const audit = d.output().split('\n').filter((l) => l.includes('"event":"zone.change"') && l.includes('"msg":"zone changed"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.map((a) => [a.who, a.zone, a.ops, a.oldSerial, a.newSerial])).toEqual([
      ['key:acme-key. from 127.0.0.1', 'example.com.', ['add _acme-challenge.example.com. 60 TXT "token-1"'], 2024060101, 2024060102],
      ['key:acme-key. from 127.0.0.1', 'example.com.', ['add k.example.com. 300 A 192.0.2.77'], 2024060102, 2024060103],
      ['key:acme-key. from 127.0.0.1', 'example.com.', ['delete k.example.com. A'], 2024060103, 2024060104],
      ['key:acme-key. from 127.0.0.1', 'example.com.', ['delete _acme-challenge.example.com. TXT'], 2024060104, 2024060105],
    ]);

    // update-policy: the certbot key may touch TXT at _acme-challenge names only.
    const cb = (lines: readonly string[]) => run(toolPath(nsupdate), ['-y', CERTBOT_ARG], script(port!, lines));
    r = await cb(['update add www.example.com. 60 TXT "nope"']);
    expect([r.code, r.out.trim()]).toEqual([2, 'update failed: REFUSED']);
    r = await cb(['update add _acme-challenge.www.example.com. 60 CNAME www.example.com.']);
    expect([r.code, r.out.trim()]).toEqual([2, 'update failed: REFUSED']);
    r = await cb(['update add _acme-challenge.www.example.com. 60 TXT "ok"']);
    expect(r).toEqual({ code: 0, out: '' });
    await fromEveryWorker(d, '_acme-challenge.www.example.com', 'TXT', 'rcode=0 answers=1');
    r = await cb(['update delete _acme-challenge.www.example.com. TXT "ok"']);
    expect(r).toEqual({ code: 0, out: '' });
    expect(readFileSync(f, 'utf8')).toBe(ZONE.replace('2024060101 ; serial', '2024060107 ; serial'));

    // A SIGHUP after dynamic changes keeps them (they are in the file); an operator edit is kept by the next change.
    writeFileSync(f, readFileSync(f, 'utf8').replace('; hosts\n', '; hosts\nmail\tIN A 192.0.2.25\n'));
    r = await ns(['update add mail.example.com. 300 MX 10 mail.example.com.']);
    expect(r.code).toBe(0);
    await fromEveryWorker(d, 'mail.example.com', 'A', 'rcode=0 answers=1');
    await fromEveryWorker(d, 'mail.example.com', 'MX', 'rcode=0 answers=1');
    d.reload();
    await new Promise((res) => setTimeout(res, 1500));
    await fromEveryWorker(d, 'mail.example.com', 'MX', 'rcode=0 answers=1');
  }, 120_000);
});

describe.skipIf(skip)('an UPDATE reaches an IXFR-following secondary', () => {
  it('the primary journals the change and NOTIFYs; the apexdns secondary takes it by IXFR', async () => {
    const dir = tmp();
    const f = join(dir, 'example.com.zone');
    writeFileSync(f, ZONE);
    const [pp, ps] = await freePorts(2);
    const keys = [
      { name: 'acme-key', algorithm: 'hmac-sha256', secret: SECRET },
      { name: 'xfr-key', algorithm: 'hmac-sha256', secret: 'eGZyLXNlY3JldC14ZnItc2VjcmV0LXhmci1zZWNyZXQ=' },
    ];
    const p = await startDaemon([{ name: 'example.com', file: f }], {
      port: pp,
      workers: 2,
      timeoutMs: 20_000,
      extra: {
        'state-dir': join(dir, 'p'),
        'tsig-keys': keys,
        acl: [{ name: 'acme', key: 'acme-key' }],
        peers: [{ name: 's', address: '127.0.0.1', port: ps, tsig: 'xfr-key' }],
        zones: [{ name: 'example.com', file: f, 'allow-update': ['acme'], notify: ['s'], 'allow-transfer': ['s'] }],
      },
    });
    const s = await startDaemon([{ name: 'example.com', file: f }], {
      port: ps,
      timeoutMs: 20_000,
      extra: {
        'state-dir': join(dir, 's'),
        'tsig-keys': keys,
        peers: [{ name: 'p', address: '127.0.0.1', port: pp, tsig: 'xfr-key', ixfr: true }],
        zones: [{ name: 'example.com', type: 'secondary', primaries: ['p'], refresh: 3600 }],
      },
    });
    await until(async () => (await soaSerial(ps!, 'example.com')) === 2024060101, 20_000, 'secondary at the first serial');
    const r = await run(toolPath(nsupdate), ['-y', KEY_ARG], script(pp!, ['update add _acme-challenge.example.com. 60 TXT "token-2"']));
    expect(r).toEqual({ code: 0, out: '' });
    await until(async () => (await soaSerial(ps!, 'example.com')) === 2024060102, 20_000, 'secondary at the new serial after NOTIFY');
    expect(await udp(ps!, '_acme-challenge.example.com', 'TXT')).toBe('rcode=0 answers=1');
    const xfrs = events(s.output(), 'transfer.succeeded').map((e) => `${String(e.type)} ${String(e.serial)}`);
    // The change came incrementally (the start-up copy by AXFR; an extra SOA check may add nothing).
    expect(xfrs[0]).toBe('AXFR 2024060101');
    expect(xfrs.filter((x) => x.endsWith('2024060102'))).toEqual(['IXFR 2024060102']);
    expect(events(p.output(), 'notify.sent').map((e) => e.serial)).toContain(2024060102);
  }, 60_000);
});

describe.skipIf(skip)('UPDATE on a live-signed zone', () => {
  it('a new RRset is signed at once; RRSIG/NSEC records cannot be added', async () => {
    const dir = tmp();
    const f = join(dir, 'example.com.zone');
    writeFileSync(f, ZONE);
    const d = await startDaemon([{ name: 'example.com', file: f }], {
      timeoutMs: 20_000,
      extra: {
        'state-dir': join(dir, 'state'),
        'tsig-keys': [{ name: 'acme-key', algorithm: 'hmac-sha256', secret: SECRET }],
        acl: [{ name: 'acme', key: 'acme-key' }],
        zones: [{ name: 'example.com', file: f, 'allow-update': ['acme'], dnssec: { keys: join(dir, 'keys') } }],
      },
    });
    let r = await run(toolPath(nsupdate), ['-y', KEY_ARG], script(d.port, ['update add signed.example.com. 60 TXT "s"']));
    expect(r).toEqual({ code: 0, out: '' });
    const a = await run(toolPath(digTool), ['@127.0.0.1', '-p', String(d.port), 'signed.example.com', 'TXT', '+dnssec', '+noall', '+answer'], '');
    expect(a.out.split('\n').filter((l) => l.trim() !== '').map((l) => l.split(/\s+/)[3])).toEqual(['TXT', 'RRSIG']);
    r = await run(toolPath(nsupdate), ['-y', KEY_ARG], script(d.port, ['update add signed.example.com. 60 NSEC signed.example.com. TXT']));
    expect([r.code, r.out.trim()]).toEqual([2, 'update failed: REFUSED']);
  }, 60_000);
});

describe.skipIf(skip)('queries during a stream of changes', () => {
  it('never see a half-applied change (workers: 2)', async () => {
    const dir = tmp();
    const f = join(dir, 'example.com.zone');
    writeFileSync(f, ZONE + 'swap\tIN A 192.0.2.100\n');
    const d = await startDaemon([{ name: 'example.com', file: f }], {
      workers: 2,
      timeoutMs: 20_000,
      extra: {
        'state-dir': join(dir, 'state'),
        'tsig-keys': [{ name: 'acme-key', algorithm: 'hmac-sha256', secret: SECRET }],
        acl: [{ name: 'acme', key: 'acme-key' }],
        zones: [{ name: 'example.com', file: f, 'allow-update': ['acme'] }],
      },
    });
    // Each UPDATE replaces the single A record of swap.example.com (delete the RRset, add a new value): a query
    // that saw half of one would get no record or two.
    const lines: string[] = [`server 127.0.0.1 ${d.port}`, 'zone example.com'];
    for (let i = 1; i <= 30; i++) lines.push('update delete swap.example.com. A', `update add swap.example.com. 60 A 192.0.2.${100 + i}`, 'send');
    let done = false;
    const updating = run(toolPath(nsupdate), ['-y', KEY_ARG], lines.join('\n') + '\n').finally(() => (done = true));
    const seen: string[] = [];
    while (!done) seen.push(...(await Promise.all(Array.from({ length: 10 }, () => udp(d.port, 'swap.example.com', 'A')))));
    expect(await updating).toEqual({ code: 0, out: '' });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((s) => s !== 'rcode=0 answers=1')).toEqual([]);
    expect(readFileSync(f, 'utf8')).toBe(ZONE.replace('2024060101 ; serial', '2024060131 ; serial') + 'swap\t60\tIN\tA\t192.0.2.130\n');
  }, 120_000);
});

describe.skipIf(skip)('a crash during a stream of changes', () => {
  it('leaves a whole zone file, old or new, never a mix; a restart serves it', async () => {
    const dir = tmp();
    const f = join(dir, 'example.com.zone');
    writeFileSync(f, ZONE + 'swap\tIN A 192.0.2.100\n');
    const extra = {
      'state-dir': join(dir, 'state'),
      'tsig-keys': [{ name: 'acme-key', algorithm: 'hmac-sha256', secret: SECRET }],
      acl: [{ name: 'acme', key: 'acme-key' }],
      zones: [{ name: 'example.com', file: f, 'allow-update': ['acme'] }],
    };
    const d = await startDaemon([{ name: 'example.com', file: f }], { timeoutMs: 20_000, extra });
    const lines: string[] = [`server 127.0.0.1 ${d.port}`, 'zone example.com'];
    for (let i = 1; i <= 200; i++) lines.push('update delete swap.example.com. A', `update add swap.example.com. 60 A 192.0.2.${(100 + i) % 256}`, 'send');
    const updating = run(toolPath(nsupdate), ['-t', '2', '-y', KEY_ARG], lines.join('\n') + '\n');
    // Kill -9 somewhere in the middle of the stream (after a few changes went through).
    const fileSerial = (): number => Number(/(\d+) ; serial/.exec(readFileSync(f, 'utf8'))?.[1] ?? 0);
    await until(() => Promise.resolve(fileSerial() >= 2024060105), 60_000, 'a few changes written');
    process.kill(d.pid, 'SIGKILL');
    await d.exited;
    await updating;
    // The file is one whole version: its serial and its single swap record belong together.
    const text = readFileSync(f, 'utf8');
    const serial = Number(/(\d+) ; serial/.exec(text)![1]);
    const k = serial - 2024060101;
    expect(k).toBeGreaterThan(0);
    const swap = `swap\t60\tIN\tA\t192.0.2.${(100 + k) % 256}\n`;
    expect(text).toBe(ZONE.replace('2024060101 ; serial', `${serial} ; serial`) + swap);
    // A restart serves exactly that version.
    const again = await startDaemon([{ name: 'example.com', file: f }], { timeoutMs: 20_000, extra });
    expect(await soaSerial(again.port, 'example.com')).toBe(serial);
  }, 120_000);
});
