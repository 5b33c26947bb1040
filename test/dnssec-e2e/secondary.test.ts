// DNSSEC for secondary zones end to end (issue 5, seed "DNSSEC for Secondary DNS"): BIND as hidden primary feeds
// apexdns by AXFR/IXFR with TSIG; unbound, anchored on the right keys, must validate (AD, never SERVFAIL):
//  - hidden.test.: unsigned on BIND, live-signed by apexdns (compact denial), including a record added by IXFR;
//  - resigned.test.: signed by dnssec-signzone (NSEC3) on BIND, its RRSIG/NSEC3 stripped and live-signed by apexdns;
//  - presigned.test.: signed by dnssec-signzone (NSEC) on BIND, served by apexdns exactly as transferred.

import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/procs.js';
import { tool } from '../helpers/tools.js';
import { startNamed, type Named } from '../transfer-e2e/named.js';
import { cleanupDirs, events, SECRET, soaSerial, tmp, until } from '../transfer-e2e/util.js';
import { b64, query, startUnbound, zoneKeys, type Unbound } from './setup.js';

const unboundBin = tool('unbound');
const namedBin = tool('named');
const keygen = tool('dnssec-keygen');
const signzone = tool('dnssec-signzone');
const built = daemonBuilt();
const skip = [unboundBin, namedBin, keygen, signzone, tool('dig'), built].some((t) => 'skip' in t);
const path = (t: ReturnType<typeof tool>): string => ('path' in t ? t.path : '');

function zoneText(origin: string, serial: number, extra: readonly string[] = []): string {
  return [
    `$ORIGIN ${origin}`,
    '$TTL 300',
    `@ IN SOA ns1 hostmaster ${serial} 3600 600 86400 300`,
    '@ IN NS ns1',
    'ns1 IN A 127.0.0.1',
    'www IN A 192.0.2.1',
    'www IN AAAA 2001:db8::1',
    'mx IN MX 10 www',
    'a.b IN TXT "deep"',
    '*.wild IN A 192.0.2.4',
    ...extra,
    '',
  ].join('\n');
}

/** Make a KSK and a ZSK with dnssec-keygen and sign `file` with dnssec-signzone; returns the KSK DNSKEY line. */
function bindSign(dir: string, origin: string, file: string, nsec3: boolean): string {
  const zone = origin.slice(0, -1);
  const ksk = execFileSync(path(keygen), ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', '-f', 'KSK', zone], { encoding: 'utf8' }).trim();
  execFileSync(path(keygen), ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', zone], { encoding: 'utf8' });
  execFileSync(path(signzone), ['-S', '-K', dir, '-o', origin, '-f', `${file}.signed`, ...(nsec3 ? ['-3', '-'] : []), file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const line = readFileSync(join(dir, `${ksk}.key`), 'utf8').split('\n').find((l) => /\sDNSKEY\s+257\s/.test(l) && !l.startsWith(';'));
  if (!line) throw new Error(`no KSK line in ${ksk}.key`);
  return line.trim();
}

interface Case {
  readonly name: string;
  readonly type: string;
  readonly status: 'NOERROR' | 'NXDOMAIN';
  readonly contains?: RegExp;
}

/** `nx`: the status a nonexistent name gets (compact denial answers NOERROR, RFC 9824). */
function cases(z: string, nx: 'NOERROR' | 'NXDOMAIN'): Case[] {
  return [
    { name: `www.${z}`, type: 'A', status: 'NOERROR', contains: /\sA\s+192\.0\.2\.1\n/ },
    { name: `www.${z}`, type: 'AAAA', status: 'NOERROR', contains: /\sAAAA\s+2001:db8::1\n/ },
    { name: `mx.${z}`, type: 'MX', status: 'NOERROR', contains: /\sMX\s+10 www\./ },
    { name: `nope.${z}`, type: 'A', status: nx },
    { name: `www.${z}`, type: 'TXT', status: 'NOERROR' },
    { name: `b.${z}`, type: 'A', status: 'NOERROR' },
    { name: `x.wild.${z}`, type: 'A', status: 'NOERROR', contains: /\sA\s+192\.0\.2\.4\n/ },
    { name: z, type: 'DNSKEY', status: 'NOERROR', contains: /\sDNSKEY\s+257 3 13 / },
    { name: z, type: 'SOA', status: 'NOERROR' },
  ];
}

describe.skipIf(skip)('secondary zones validated by unbound: live-signed (hidden primary) and pre-signed', () => {
  let bind: Named;
  let apex: DaemonServer;
  let unbound: Unbound;
  const bindDir = skip ? '' : tmp('apexdns-sec-dnssec-');
  const keys = skip ? '' : join(tmp('apexdns-sec-keys-'), 'keys');
  const hiddenFile = join(bindDir, 'hidden.test.zone');
  let bindKsk = '';
  let resignedBindKsk = '';

  beforeAll(async () => {
    const apexPort = await freePort();
    writeFileSync(hiddenFile, zoneText('hidden.test.', 1));
    const resigned = join(bindDir, 'resigned.test.zone');
    writeFileSync(resigned, zoneText('resigned.test.', 1));
    resignedBindKsk = bindSign(bindDir, 'resigned.test.', resigned, true);
    const presigned = join(bindDir, 'presigned.test.zone');
    writeFileSync(presigned, zoneText('presigned.test.', 1));
    bindKsk = bindSign(bindDir, 'presigned.test.', presigned, false);
    bind = await startNamed(path(namedBin), bindDir, {
      zones: [
        `zone "hidden.test" { type primary; file "${hiddenFile}"; ixfr-from-differences yes; };`,
        `zone "resigned.test" { type primary; file "${resigned}.signed"; };`,
        `zone "presigned.test" { type primary; file "${presigned}.signed"; };`,
      ].join('\n'),
      notifyPort: apexPort,
    });
    // Our keys exist before the daemon starts so the trust anchors are known (the daemon loads them unchanged).
    const hiddenKeys = await zoneKeys(keys, 'hidden.test.');
    const resignedKeys = await zoneKeys(keys, 'resigned.test.');
    const secondary = (name: string, dnssec: Record<string, unknown>): Record<string, unknown> => ({ name, type: 'secondary', primaries: ['bind'], 'allow-notify': ['bind'], dnssec });
    apex = await startDaemon([{ name: 'hidden.test', file: hiddenFile }], {
      port: apexPort,
      timeoutMs: 15_000,
      extra: {
        'state-dir': join(tmp('apexdns-sec-state-'), 'state'),
        'tsig-keys': [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET }],
        peers: [{ name: 'bind', address: '127.0.0.1', port: bind.port, tsig: 'xfr-key', ixfr: true }],
        zones: [
          secondary('hidden.test', { state: 'active', denial: 'compact', keys }),
          secondary('resigned.test', { state: 'active', denial: 'nsec3', keys }),
          secondary('presigned.test', { mode: 'presigned' }),
        ],
      },
    });
    await until(async () => (await soaSerial(apex.port, 'presigned.test')) === 1 && (await soaSerial(apex.port, 'resigned.test')) === 1, 10_000, 'all zones transferred');
    unbound = await startUnbound(path(unboundBin), apex.port, ['hidden.test.', 'resigned.test.', 'presigned.test.'], [
      `hidden.test. 3600 IN DNSKEY 257 3 13 ${b64(hiddenKeys.ksk.publicKey)}`,
      `resigned.test. 3600 IN DNSKEY 257 3 13 ${b64(resignedKeys.ksk.publicKey)}`,
      bindKsk,
    ]);
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    cleanupDirs();
  }, 30_000);

  const zones = [
    ['hidden.test.', 'NOERROR'],
    ['resigned.test.', 'NXDOMAIN'],
    ['presigned.test.', 'NXDOMAIN'],
  ] as const;
  for (const [z, nx] of zones) {
    for (const c of cases(z, nx)) {
      it(`${c.name} ${c.type} → ${c.status} +AD`, async () => {
        const r = await query(unbound.port, c.name, c.type);
        const detail = `${r.stdout}\n${unbound.output().slice(-3000)}`;
        expect(r.status, detail).toBe(c.status);
        expect(r.ad, detail).toBe(true);
        if (c.contains !== undefined) expect(r.stdout, detail).toMatch(c.contains);
      });
    }
  }

  it('live re-signing replaced the primary\'s signatures: no BIND key tag in RRSIGs, our NSEC3 parameters', async () => {
    const bindTags = readdirSync(bindDir).filter((f) => f.startsWith('Kresigned.test.+013+') && f.endsWith('.key')).map((f) => Number(f.slice(-9, -4)));
    expect(bindTags.length).toBe(2);
    const r = await query(apex.port, 'www.resigned.test.', 'A', ['+norec']);
    const tags = [...r.stdout.matchAll(/\sRRSIG\s+A 13 3 300 \d+ \d+ (\d+) resigned\.test\./g)].map((m) => Number(m[1]));
    expect(tags.length).toBe(1);
    expect(bindTags).not.toContain(tags[0]);
    // RFC 9276 parameters of our NSEC3PARAM, not the signer's.
    const p = await query(apex.port, 'resigned.test.', 'NSEC3PARAM', ['+norec', '+short']);
    expect(p.stdout.trim().split('\n')[0]).toBe('1 0 0 -');
    // The primary's KSK stays in the DNSKEY RRset (merged, RFC 8901 model 2), and the RRset is signed by our KSK only.
    const keysAnswer = await query(unbound.port, 'resigned.test.', 'DNSKEY');
    expect(keysAnswer.stdout.replace(/\s+/g, '')).toContain(resignedBindKsk.split(/\s+/).slice(-1)[0]!.replace(/\s+/g, ''));
  });

  it('presigned: served as transferred, with the primary\'s RRSIGs and NSEC chain', async () => {
    const bindTags = readdirSync(bindDir).filter((f) => f.startsWith('Kpresigned.test.+013+') && f.endsWith('.key')).map((f) => Number(f.slice(-9, -4)));
    expect(bindTags.length).toBe(2);
    const r = await query(apex.port, 'nope.presigned.test.', 'A', ['+norec']);
    expect(r.status).toBe('NXDOMAIN');
    // RFC 4035 §3.1.3.2 from BIND's chain (apex → a.b → mx → ns1 → *.wild → www): mx covers QNAME, the apex NSEC
    // covers the wildcard *.presigned.test.
    expect(r.stdout).toMatch(/\nmx\.presigned\.test\.\s+300\s+IN\s+NSEC\s+ns1\.presigned\.test\. MX RRSIG NSEC\n/);
    expect(r.stdout).toMatch(/\npresigned\.test\.\s+300\s+IN\s+NSEC\s+a\.b\.presigned\.test\. NS SOA RRSIG NSEC DNSKEY\n/);
    const sigTags = [...r.stdout.matchAll(/\sRRSIG\s+(?:NSEC|SOA) 13 \d \d+ \d+ \d+ (\d+) presigned\.test\./g)].map((m) => Number(m[1]));
    expect(sigTags.length).toBe(3);
    for (const t of sigTags) expect(bindTags).toContain(t);
  });

  it('negative control: an anchor that is not our KSK makes the live-signed zone SERVFAIL', async () => {
    const other = await zoneKeys(join(keys, '..', 'other-keys'), 'hidden.test.');
    const wrong = await startUnbound(path(unboundBin), apex.port, ['hidden.test.'], [`hidden.test. 3600 IN DNSKEY 257 3 13 ${b64(other.ksk.publicKey)}`]);
    const r = await query(wrong.port, 'www.hidden.test.', 'A');
    expect([r.status, r.ad]).toEqual(['SERVFAIL', false]);
    await wrong.stop();
  });

  it('live: a record added on the hidden primary arrives by IXFR and validates', async () => {
    writeFileSync(hiddenFile, zoneText('hidden.test.', 2, ['fresh IN A 192.0.2.77', 'fresh IN TXT "new"']));
    bind.hup();
    await until(async () => (await soaSerial(apex.port, 'hidden.test')) === 2, 5000, 'apexdns at serial 2');
    const xfrs = events(apex.output(), 'transfer.succeeded').filter((e) => e.zone === 'hidden.test.').map((e) => [e.type, e.serial]);
    expect(xfrs).toEqual([['AXFR', 1], ['IXFR', 2]]);
    const a = await query(unbound.port, 'fresh.hidden.test.', 'A');
    expect([a.status, a.ad]).toEqual(['NOERROR', true]);
    expect(a.stdout).toMatch(/fresh\.hidden\.test\.\s+\d+\s+IN\s+A\s+192\.0\.2\.77\n/);
    const t = await query(unbound.port, 'fresh.hidden.test.', 'TXT');
    expect([t.status, t.ad]).toEqual(['NOERROR', true]);
    expect(t.stdout).toContain('"new"');
    const soa = await query(unbound.port, 'hidden.test.', 'SOA');
    expect(soa.ad).toBe(true);
  }, 20_000);
});
