// End-to-end proof of live signing: apexdns serves signed zones (compact, nsec3 and nsec denial, multi-signer) and an
// independent validator (unbound, and delv on a sample) must set AD / report "fully validated", never SERVFAIL.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tool } from '../helpers/tools.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { stopAll } from '../helpers/procs.js';
import { generateKey, parseKeyFile } from '../../src/dnssec/keys.js';
import { Name } from '../../src/wire/name.js';
import {
  b64, childZoneText, delv, dsLine, foreignZskLine, query, signedZoneText, startUnbound, zoneKeys, type Unbound,
} from './setup.js';

const unboundBin = tool('unbound');
const delvBin = tool('delv');
const built = daemonBuilt();
const skip = 'skip' in unboundBin || 'skip' in built || 'skip' in tool('dig');

interface Case {
  readonly name: string;
  readonly type: string;
  readonly status: 'NOERROR' | 'NXDOMAIN';
  readonly ad: boolean;
  /** A string that must appear in the validated answer section. */
  readonly contains?: RegExp;
}

/** The same checks for every denial mode; `nx` is the status an unsigned NXDOMAIN gets after validation. */
function cases(z: string, nx: 'NOERROR' | 'NXDOMAIN'): Case[] {
  return [
    { name: `www.${z}`, type: 'A', status: 'NOERROR', ad: true, contains: /\sA\s+192\.0\.2\.1\n/ },
    { name: `www.${z}`, type: 'AAAA', status: 'NOERROR', ad: true, contains: /\sAAAA\s+2001:db8::1\n/ },
    { name: `mx.${z}`, type: 'MX', status: 'NOERROR', ad: true, contains: new RegExp(`\\sMX\\s+10 www\\.${z.replace(/\./g, '\\.')}\\n`) },
    { name: `nope.${z}`, type: 'A', status: nx, ad: true },
    { name: `x.y.nope.${z}`, type: 'AAAA', status: nx, ad: true },
    { name: `www.${z}`, type: 'TXT', status: 'NOERROR', ad: true },
    { name: `b.c.${z}`, type: 'A', status: 'NOERROR', ad: true },
    { name: `c.${z}`, type: 'A', status: 'NOERROR', ad: true },
    { name: `foo.wild.${z}`, type: 'A', status: 'NOERROR', ad: true, contains: /\sA\s+192\.0\.2\.4\n/ },
    { name: `deep.er.wild.${z}`, type: 'TXT', status: 'NOERROR', ad: true, contains: /\sTXT\s+"wild"\n/ },
    { name: `foo.wild.${z}`, type: 'MX', status: 'NOERROR', ad: true },
    { name: `alias2.${z}`, type: 'A', status: 'NOERROR', ad: true, contains: /\sA\s+192\.0\.2\.1\n/ },
    // RFC 6672 §5.3.1: the DNAME is signed, the synthesized CNAME is not; the validator synthesizes it.
    { name: `a.b.dn.${z}`, type: 'A', status: 'NOERROR', ad: true, contains: /\sA\s+192\.0\.2\.3\n/ },
    { name: `wcname.${z}`, type: 'A', status: 'NOERROR', ad: true, contains: /\sA\s+192\.0\.2\.4\n/ },
    { name: `www.secure.${z}`, type: 'A', status: 'NOERROR', ad: true, contains: /\sA\s+192\.0\.2\.9\n/ },
    { name: `secure.${z}`, type: 'DS', status: 'NOERROR', ad: true, contains: /\sDS\s+\d+ 13 2 [0-9A-F]+/ },
    { name: `insecure.${z}`, type: 'DS', status: 'NOERROR', ad: true },
    // Insecure delegation: validated as provably unsigned, so NOERROR without AD (and never SERVFAIL).
    { name: `www.insecure.${z}`, type: 'A', status: 'NOERROR', ad: false, contains: /\sA\s+192\.0\.2\.9\n/ },
    { name: z, type: 'DNSKEY', status: 'NOERROR', ad: true, contains: /\sDNSKEY\s+257 3 13 /  },
    { name: z, type: 'CDS', status: 'NOERROR', ad: true, contains: /\sCDS\s+\d+ 13 2 [0-9A-F]+/ },
    { name: z, type: 'CDNSKEY', status: 'NOERROR', ad: true, contains: /\sCDNSKEY\s+257 3 13 / },
    { name: z, type: 'SOA', status: 'NOERROR', ad: true },
    // Meta types: NSEC at an existing name and at an ENT, NSEC3 (a NODATA), and at a nonexistent name.
    { name: `www.${z}`, type: 'NSEC', status: 'NOERROR', ad: true },
    { name: `c.${z}`, type: 'NSEC', status: 'NOERROR', ad: true },
    { name: `foo.wild.${z}`, type: 'NSEC', status: 'NOERROR', ad: true },
    { name: `nope.${z}`, type: 'NSEC', status: nx, ad: true },
    { name: `alias2.${z}`, type: 'NSEC', status: 'NOERROR', ad: true },
    { name: `www.${z}`, type: 'NSEC3', status: 'NOERROR', ad: true },
  ];
}

describe.skipIf(skip)('unbound validates apexdns live signing', () => {
  let dir = '';
  let daemon: DaemonServer | undefined;
  let unbound: Unbound | undefined;
  let wrong: Unbound | undefined;
  const anchors: string[] = [];
  const stubs: string[] = [];
  let anchorFile = '';
  let multiForeign = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-dnssec-e2e-'));
    const keys = join(dir, 'keys');
    const zones: Record<string, unknown>[] = [];
    const specs: { name: string; file: string }[] = [];
    const trustLines: string[] = [];
    const addZone = (name: string, text: string, dnssec: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): void => {
      const file = join(dir, `${name}zone`);
      writeFileSync(file, text);
      zones.push({ name: name.slice(0, -1), file, ...(dnssec ? { dnssec } : {}), ...extra });
      specs.push({ name, file });
      stubs.push(name);
    };
    for (const denial of ['compact', 'nsec3', 'nsec'] as const) {
      const z = `${denial}.test.`;
      const child = `secure.${z}`;
      const childKeys = await zoneKeys(keys, child);
      const parentKeys = await zoneKeys(keys, z);
      addZone(z, signedZoneText(z, dsLine(child, childKeys.ksk)), { state: 'active', denial, keys });
      addZone(child, childZoneText(child), { state: 'active', denial, keys });
      addZone(`insecure.${z}`, childZoneText(`insecure.${z}`), undefined);
      anchors.push(`${z} 3600 IN DNSKEY 257 3 13 ${b64(parentKeys.ksk.publicKey)}`);
      trustLines.push(`  ${z} static-key 257 3 13 "${b64(parentKeys.ksk.publicKey)}";`);
    }
    // Multi-signer (RFC 8901 model 2): a foreign ZSK and a foreign NS at the apex, multi-provider on.
    const mz = 'multi.test.';
    const mk = await zoneKeys(keys, mz);
    multiForeign = foreignZskLine(mz);
    addZone(mz, `${childZoneText(mz)}${multiForeign}\n@ NS ns.other-provider.example.\n`, { state: 'active', denial: 'compact', keys }, { 'multi-provider': true });
    anchors.push(`${mz} 3600 IN DNSKEY 257 3 13 ${b64(mk.ksk.publicKey)}`);
    anchorFile = join(dir, 'anchors.conf');
    writeFileSync(anchorFile, `trust-anchors {\n${trustLines.join('\n')}\n};\n`);

    daemon = await startDaemon(specs, { extra: { zones } });
    unbound = await startUnbound((unboundBin as { path: string }).path, daemon.port, stubs, anchors);
    // Negative control: an unrelated key as the anchor for compact.test.
    const bogus = generateKey(Name.parse('compact.test.'), 'ksk');
    wrong = await startUnbound((unboundBin as { path: string }).path, daemon.port, ['compact.test.'], [`compact.test. 3600 IN DNSKEY 257 3 13 ${b64(bogus.publicKey)}`]);
  });

  afterAll(async () => {
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [denial, nx] of [['compact', 'NOERROR'], ['nsec3', 'NXDOMAIN'], ['nsec', 'NXDOMAIN']] as const) {
    for (const c of cases(`${denial}.test.`, nx)) {
      it(`${denial}: ${c.name} ${c.type} → ${c.status}${c.ad ? ' +AD' : ''}`, async () => {
        const r = await query(unbound!.port, c.name, c.type);
        const detail = `${r.stdout}\n${unbound!.output().slice(-3000)}`;
        expect(r.status, detail).toBe(c.status);
        expect(r.ad, detail).toBe(c.ad);
        if (c.contains !== undefined) expect(r.stdout, detail).toMatch(c.contains);
      });
    }
  }

  it('RRSIG queries to a live-signed zone are REFUSED with EDE 21, with or without DO (as Knot onlinesign and PowerDNS)', async () => {
    for (const extra of [['+dnssec'], []]) {
      const r = await query(daemon!.port, 'www.compact.test.', 'RRSIG', ['+norec', ...extra]);
      expect(r.status, r.stdout).toBe('REFUSED');
      expect(r.stdout).toMatch(/EDE: 21/);
    }
    // An unsigned zone answers NODATA as before.
    const plain = await query(daemon!.port, 'www.insecure.compact.test.', 'RRSIG', ['+norec']);
    expect(plain.status).toBe('NOERROR');
  });

  it('compact: the authoritative answer for a nonexistent name is NOERROR with an NXNAME NSEC; nsec3 gives NXDOMAIN with 3 NSEC3', async () => {
    const plain = await query(daemon!.port, 'nope.compact.test.', 'A', ['+norec']);
    expect(plain.status).toBe('NOERROR');
    expect(plain.stdout).toMatch(/nope\.compact\.test\.\s+300\s+IN\s+NSEC\s+\\000\.nope\.compact\.test\. RRSIG NSEC TYPE128/);
    const nsec3 = await query(daemon!.port, 'nope.nsec3.test.', 'A', ['+norec']);
    expect(nsec3.status).toBe('NXDOMAIN');
    expect(nsec3.stdout.match(/\sNSEC3\s+1 0 0 -/g)?.length).toBe(3);
  });

  it('multi-signer: the DNSKEY RRset carries our KSK+ZSK and the foreign ZSK, validated', async () => {
    const r = await query(unbound!.port, 'multi.test.', 'DNSKEY');
    expect(r.status).toBe('NOERROR');
    expect(r.ad).toBe(true);
    const foreignKey = multiForeign.split(' ').slice(-1)[0]!;
    expect(r.stdout.replace(/\s+/g, '')).toContain(foreignKey);
    expect(r.stdout.match(/\sDNSKEY\s+256 3 13/g)?.length).toBe(2);
    expect(r.stdout.match(/\sDNSKEY\s+257 3 13/g)?.length).toBe(1);
    const www = await query(unbound!.port, 'www.multi.test.', 'A');
    expect([www.status, www.ad]).toEqual(['NOERROR', true]);
    const ns = await query(unbound!.port, 'multi.test.', 'NS');
    expect(ns.ad).toBe(true);
    expect(ns.stdout).toContain('ns.other-provider.example.');
  });

  it('negative control: a wrong trust anchor makes unbound answer SERVFAIL', async () => {
    const r = await query(wrong!.port, 'www.compact.test.', 'A');
    expect(r.status).toBe('SERVFAIL');
    expect(r.ad).toBe(false);
  });

  it.skipIf('skip' in delvBin)('delv with the same anchors agrees on a sample', async () => {
    const bin = (delvBin as { path: string }).path;
    for (const [name, type, want] of [
      ['www.compact.test.', 'A', '; fully validated'],
      ['foo.wild.nsec3.test.', 'A', '; fully validated'],
      ['nope.nsec3.test.', 'A', '; negative response, fully validated'],
      ['www.nsec3.test.', 'TXT', '; negative response, fully validated'],
      ['nope.nsec.test.', 'A', '; negative response, fully validated'],
      ['foo.wild.nsec.test.', 'A', '; fully validated'],
    ] as const) {
      const root = /\.(nsec3|nsec|compact)\.test\.$/.exec(name)![1] + '.test';
      const out = await delv(bin, daemon!.port, anchorFile, root, name, type);
      expect(out, out).toContain(want);
    }
  });
});

const keygen = tool('dnssec-keygen');
const signzone = tool('dnssec-signzone');

describe.skipIf(skip || 'skip' in keygen || 'skip' in signzone)('pre-signed zones (dnssec-signzone) served as they are', () => {
  let dir = '';
  let unbound: Unbound | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-presigned-e2e-'));
    const zones: Record<string, unknown>[] = [];
    const specs: { name: string; file: string }[] = [];
    const anchors: string[] = [];
    for (const [z, extraArgs] of [['psnsec.test.', []], ['psnsec3.test.', ['-3', '-', '-H', '0']]] as const) {
      const src = join(dir, `${z}src`);
      writeFileSync(src, `${childZoneText(z)}a.b.c A 192.0.2.3\n*.wild A 192.0.2.4\nalias CNAME www\n`);
      const ksk = execOk((keygen as { path: string }).path, ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', '-f', 'KSK', z]);
      execOk((keygen as { path: string }).path, ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', z]);
      const signed = join(dir, `${z}signed`);
      execOk((signzone as { path: string }).path, ['-q', '-K', dir, '-S', '-o', z, '-f', signed, ...extraArgs, src]);
      const key = parseKeyFile(readFileSync(join(dir, `${ksk.trim()}.key`), 'utf8'));
      anchors.push(`${z} 3600 IN DNSKEY 257 3 13 ${b64(key.publicKey)}`);
      zones.push({ name: z.slice(0, -1), file: signed, dnssec: { mode: 'presigned' } });
      specs.push({ name: z, file: signed });
    }
    const daemon = await startDaemon(specs, { extra: { zones } });
    unbound = await startUnbound((unboundBin as { path: string }).path, daemon.port, specs.map((s) => s.name), anchors);
  });

  afterAll(async () => {
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const z of ['psnsec.test.', 'psnsec3.test.']) {
    for (const [name, type, status] of [
      [`www.${z}`, 'A', 'NOERROR'], [`nope.${z}`, 'A', 'NXDOMAIN'], [`www.${z}`, 'TXT', 'NOERROR'],
      [`b.c.${z}`, 'A', 'NOERROR'], [`x.y.wild.${z}`, 'A', 'NOERROR'], [`x.wild.${z}`, 'MX', 'NOERROR'],
      [`alias.${z}`, 'A', 'NOERROR'], [z, 'DNSKEY', 'NOERROR'],
    ] as const) {
      it(`${name} ${type} → ${status} +AD`, async () => {
        const r = await query(unbound!.port, name, type);
        const detail = `${r.stdout}\n${unbound!.output().slice(-3000)}`;
        expect(r.status, detail).toBe(status);
        expect(r.ad, detail).toBe(true);
      });
    }
  }
});

function execOk(bin: string, args: readonly string[]): string {
  return execFileSync(bin, [...args], { encoding: 'utf8' });
}

describe.skipIf('skip' in built || 'skip' in tool('dig'))('DNSSEC state changes on reload', () => {
  afterAll(async () => {
    await stopAll();
  });

  it('refuses active -> deleted with a clear log line and keeps serving signed; disabled switches CDS to delete', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apexdns-dnssec-reload-'));
    try {
      const file = join(dir, 'r.test.zone');
      writeFileSync(file, childZoneText('r.test.'));
      const zone = (state: string): Record<string, unknown> => ({ name: 'r.test', file, dnssec: { state, denial: 'compact', keys: join(dir, 'keys') } });
      const d = await startDaemon([{ name: 'r.test.', file }], { extra: { zones: [zone('active')] } });
      writeFileSync(d.configFile, stringify({ listen: [`127.0.0.1:${d.port}`], workers: 1, zones: [zone('deleted')] }));
      d.reload();
      await waitFor(() => /active -> deleted is not allowed/.test(d.output()));
      const still = await query(d.port, 'r.test.', 'DNSKEY', ['+norec']);
      expect(still.status).toBe('NOERROR');
      expect(still.stdout).toMatch(/\sRRSIG\s+DNSKEY 13 2 3600 /);
      writeFileSync(d.configFile, stringify({ listen: [`127.0.0.1:${d.port}`], workers: 1, zones: [zone('disabled')] }));
      d.reload();
      await waitFor(async () => /\sCDS\s+0 0 0 00\n/.test((await query(d.port, 'r.test.', 'CDS', ['+norec'])).stdout));
      const cdnskey = await query(d.port, 'r.test.', 'CDNSKEY', ['+norec']);
      expect(cdnskey.stdout).toMatch(/\sCDNSKEY\s+0 3 0 AA==\n/);
      await d.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
