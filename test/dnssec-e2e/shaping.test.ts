// End-to-end proof that shaped answers are signed correctly: apexdns serves signed zones (compact, nsec3 and nsec denial)
// with a flattened apex CNAME (in-zone and external targets, Knot as the external provider), proxied A/AAAA/CNAME
// records and a proxied wildcard with HTTPS synthesis; unbound (trust anchor = our KSK) must validate every answer.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tool } from '../helpers/tools.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { startKnot, type KnotServer } from '../helpers/knot.js';
import { dig, parseRecords } from '../helpers/dig.js';
import { stopAll } from '../helpers/procs.js';
import { b64, query, startUnbound, zoneKeys, type Unbound } from './setup.js';

const unboundBin = tool('unbound');
const knotBin = tool('knotd');
const built = daemonBuilt();
const skip = 'skip' in unboundBin || 'skip' in knotBin || 'skip' in built || 'skip' in tool('dig');

const EXTERNAL = `$TTL 7200
@ SOA ns hostmaster 1 7200 3600 1209600 300
@ NS ns
ns A 192.0.2.200
@ A 198.51.100.7
@ AAAA 2001:db8:e::7
shops A 198.51.100.9
shops AAAA 2001:db8:e::9
`;

/** Shaping zone: apex CNAME to an in-zone target, a tagged CNAME to the external provider, proxied names. */
function shapeZone(z: string): string {
  return `$ORIGIN ${z}
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ CNAME target
@ MX 10 mail
@ TXT "apex-txt"
ns1 A 127.0.0.1
mail A 192.0.2.25
target A 192.0.2.1
target AAAA 2001:db8::1
ext CNAME external-origin.test. ; cf_tags=cf-flatten-cname
www A 192.0.2.10 ; cf_tags=cf-proxied:true
www AAAA 2001:db8::10
www TXT "site"
six AAAA 2001:db8::11 ; cf_tags=cf-proxied:true
shop CNAME shops.external-origin.test. ; cf_tags=cf-proxied:true
*.wild A 192.0.2.12 ; cf_tags=cf-proxied:true
api A 192.0.2.13 ; cf_tags=cf-proxied:true
api HTTPS 1 . alpn=h2
mx2 MX 10 www
sub NS ns.sub
ns.sub A 192.0.2.53
`;
}

/** Apex CNAME to the external provider. */
function flatZone(z: string): string {
  return `$ORIGIN ${z}
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ 600 CNAME external-origin.test.
@ MX 10 mail
ns1 A 127.0.0.1
mail A 192.0.2.25
`;
}

/** Origin addresses of proxied records (and of the proxied CNAME's target): none may appear anywhere. */
const ORIGINS = [/192\.0\.2\.10(?!\d)/, /192\.0\.2\.12(?!\d)/, /192\.0\.2\.13(?!\d)/, /2001:db8::10(?![\da-f])/, /2001:db8::11(?![\da-f])/, /198\.51\.100\.9(?!\d)/, /2001:db8:e::9(?![\da-f])/];

const POOL_A = ['203.0.113.1', '203.0.113.2'];
const POOL_AAAA = ['2001:db8:cf::1', '2001:db8:cf::2'];
const HTTPS_SYNTH = '1 . alpn="h3,h2" ipv4hint=203.0.113.1,203.0.113.2 ipv6hint=2001:db8:cf::1,2001:db8:cf::2';

interface Case {
  readonly name: string;
  readonly type: string;
  /** Exact answer records (owner type rdata, sorted), RRSIGs excluded; [] = NODATA. */
  readonly answer: readonly string[];
}

function cases(s: string, f: string): Case[] {
  const rr = (owner: string, type: string, rdatas: readonly string[]): string[] => rdatas.map((r) => `${owner} ${type} ${r}`).sort();
  return [
    // Apex CNAME flattened to an in-zone target; other apex types answered from the zone.
    { name: s, type: 'A', answer: rr(s, 'A', ['192.0.2.1']) },
    { name: s, type: 'AAAA', answer: rr(s, 'AAAA', ['2001:db8::1']) },
    { name: s, type: 'HTTPS', answer: [] },
    { name: s, type: 'MX', answer: rr(s, 'MX', [`10 mail.${s}`]) },
    { name: s, type: 'TXT', answer: rr(s, 'TXT', ['"apex-txt"']) },
    { name: s, type: 'NS', answer: rr(s, 'NS', [`ns1.${s}`]) },
    { name: s, type: 'SRV', answer: [] },
    // Tagged CNAME flattened to the external provider (Knot).
    { name: `ext.${s}`, type: 'A', answer: rr(`ext.${s}`, 'A', ['198.51.100.7']) },
    { name: `ext.${s}`, type: 'AAAA', answer: rr(`ext.${s}`, 'AAAA', ['2001:db8:e::7']) },
    { name: `ext.${s}`, type: 'HTTPS', answer: [] },
    { name: `ext.${s}`, type: 'TXT', answer: [] },
    // Proxied A (+ AAAA by the mixing rule), other types unchanged.
    { name: `www.${s}`, type: 'A', answer: rr(`www.${s}`, 'A', POOL_A) },
    { name: `www.${s}`, type: 'AAAA', answer: rr(`www.${s}`, 'AAAA', POOL_AAAA) },
    { name: `www.${s}`, type: 'HTTPS', answer: rr(`www.${s}`, 'HTTPS', [HTTPS_SYNTH]) },
    { name: `www.${s}`, type: 'TXT', answer: rr(`www.${s}`, 'TXT', ['"site"']) },
    { name: `www.${s}`, type: 'MX', answer: [] },
    { name: `six.${s}`, type: 'A', answer: rr(`six.${s}`, 'A', POOL_A) },
    { name: `six.${s}`, type: 'AAAA', answer: rr(`six.${s}`, 'AAAA', POOL_AAAA) },
    // Proxied CNAME: always flattened to the pool.
    { name: `shop.${s}`, type: 'A', answer: rr(`shop.${s}`, 'A', POOL_A) },
    { name: `shop.${s}`, type: 'AAAA', answer: rr(`shop.${s}`, 'AAAA', POOL_AAAA) },
    { name: `shop.${s}`, type: 'HTTPS', answer: rr(`shop.${s}`, 'HTTPS', [HTTPS_SYNTH]) },
    { name: `shop.${s}`, type: 'TXT', answer: [] },
    // Proxied wildcard: expansions are proxied, with the wildcard proofs.
    { name: `foo.wild.${s}`, type: 'A', answer: rr(`foo.wild.${s}`, 'A', POOL_A) },
    { name: `foo.wild.${s}`, type: 'AAAA', answer: rr(`foo.wild.${s}`, 'AAAA', POOL_AAAA) },
    { name: `foo.wild.${s}`, type: 'HTTPS', answer: rr(`foo.wild.${s}`, 'HTTPS', [HTTPS_SYNTH]) },
    { name: `a.b.wild.${s}`, type: 'A', answer: rr(`a.b.wild.${s}`, 'A', POOL_A) },
    { name: `foo.wild.${s}`, type: 'MX', answer: [] },
    // The zone's own HTTPS record wins over synthesis.
    { name: `api.${s}`, type: 'HTTPS', answer: rr(`api.${s}`, 'HTTPS', ['1 . alpn="h2"']) },
    { name: `api.${s}`, type: 'A', answer: rr(`api.${s}`, 'A', POOL_A) },
    { name: `mx2.${s}`, type: 'MX', answer: rr(`mx2.${s}`, 'MX', [`10 www.${s}`]) },
    // Apex CNAME flattened to the external provider.
    { name: f, type: 'A', answer: rr(f, 'A', ['198.51.100.7']) },
    { name: f, type: 'AAAA', answer: rr(f, 'AAAA', ['2001:db8:e::7']) },
    { name: f, type: 'HTTPS', answer: [] },
    { name: f, type: 'MX', answer: rr(f, 'MX', [`10 mail.${f}`]) },
    { name: f, type: 'TXT', answer: [] },
  ];
}

/** Answer-section records except RRSIGs, as sorted `owner type rdata` lines. */
function answerLines(stdout: string): string[] {
  const m = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(stdout);
  if (!m) return [];
  return parseRecords(m[1]!).filter((r) => r.type !== 'RRSIG').map((r) => `${r.owner} ${r.type} ${r.rdata}`).sort();
}

/** Types covered by the RRSIGs of the answer section. */
function signedTypes(stdout: string): string[] {
  const m = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(stdout);
  if (!m) return [];
  return parseRecords(m[1]!).filter((r) => r.type === 'RRSIG').map((r) => r.rdata.split(' ')[0]!).sort();
}

/** The records of one section of a full dig output. */
function section(stdout: string, name: 'ANSWER' | 'AUTHORITY' | 'ADDITIONAL'): string[] {
  const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(stdout);
  if (!m) return [];
  return parseRecords(m[1]!).map((r) => `${r.owner} ${r.ttl} ${r.type} ${r.type === 'RRSIG' ? r.rdata.split(' ').slice(0, 3).join(' ') : r.rdata}`);
}

describe.skipIf(skip)('unbound validates flattened, proxied and HTTPS-synthesized answers', () => {
  let dir = '';
  let knot: KnotServer | undefined;
  let daemon: DaemonServer | undefined;
  let unbound: Unbound | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-dnssec-shaping-'));
    const keys = join(dir, 'keys');
    writeFileSync(join(dir, 'external-origin.test.zone'), EXTERNAL);
    knot = await startKnot([{ name: 'external-origin.test', file: join(dir, 'external-origin.test.zone') }]);
    const zones: Record<string, unknown>[] = [];
    const specs: { name: string; file: string }[] = [];
    const anchors: string[] = [];
    for (const denial of ['compact', 'nsec3', 'nsec'] as const) {
      for (const [z, text] of [[`shape-${denial}.test.`, shapeZone], [`flat-${denial}.test.`, flatZone]] as const) {
        const file = join(dir, `${z}zone`);
        writeFileSync(file, text(z));
        zones.push({ name: z.slice(0, -1), file, dnssec: { state: 'active', denial, keys } });
        specs.push({ name: z, file });
        const k = await zoneKeys(keys, z);
        anchors.push(`${z} 3600 IN DNSKEY 257 3 13 ${b64(k.ksk.publicKey)}`);
      }
    }
    daemon = await startDaemon(specs, {
      extra: {
        zones,
        proxy: { ipv4: POOL_A, ipv6: POOL_AAAA, https: { alpn: ['h3', 'h2'] } },
        flattening: { resolvers: [`127.0.0.1:${knot.port}`], 'timeout-ms': 1000 },
      },
    });
    unbound = await startUnbound((unboundBin as { path: string }).path, daemon.port, specs.map((s) => s.name), anchors);
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const denial of ['compact', 'nsec3', 'nsec'] as const) {
    const s = `shape-${denial}.test.`;
    const f = `flat-${denial}.test.`;
    for (const c of cases(s, f)) {
      it(`${denial}: ${c.name} ${c.type} → AD, ${c.answer.length === 0 ? 'NODATA' : c.answer.join(' | ')}`, async () => {
        const r = await query(unbound!.port, c.name, c.type);
        const detail = `${r.stdout}\n${unbound!.output().slice(-3000)}`;
        expect(r.status, detail).toBe('NOERROR');
        expect(r.ad, detail).toBe(true);
        expect(answerLines(r.stdout), detail).toEqual(c.answer);
        // Every answer RRset came with its signature.
        if (c.answer.length > 0) expect(signedTypes(r.stdout), detail).toEqual([c.type]);
      });
    }

    it(`${denial}: a CNAME query at a flattened apex is a validated NODATA`, async () => {
      // The flattened CNAME is never shown: NODATA, consistent with the denial bitmap at the name (no CNAME bit).
      const r = await query(unbound!.port, s, 'CNAME');
      const detail = `${r.stdout}\n${unbound!.output().slice(-3000)}`;
      expect(r.status, detail).toBe('NOERROR');
      expect(r.ad, detail).toBe(true);
      expect(answerLines(r.stdout), detail).toEqual([]);
      const direct = await dig(daemon!.port, ['+norec', '+dnssec', s, 'CNAME']);
      expect(section(direct.stdout, 'ANSWER')).toEqual([]);
    });

    it(`${denial}: nonexistent names validate (${denial === 'compact' ? 'NOERROR' : 'NXDOMAIN'})`, async () => {
      for (const name of [`nope.${s}`, `x.nope.${f}`]) {
        const r = await query(unbound!.port, name, 'A');
        const detail = `${r.stdout}\n${unbound!.output().slice(-3000)}`;
        expect(r.status, detail).toBe(denial === 'compact' ? 'NOERROR' : 'NXDOMAIN');
        expect(r.ad, detail).toBe(true);
      }
    });
  }

  it('compact: denial NSECs at flattened names list the flattened address types, never CNAME or the queried type', async () => {
    const s = 'shape-compact.test.';
    const auth = async (name: string, type: string): Promise<string[]> =>
      section((await dig(daemon!.port, ['+norec', '+dnssec', name, type])).stdout, 'AUTHORITY').filter((l) => /^\S+ \d+ NSEC /.test(l));
    // Zone NODATA at the apex: the apex types without CNAME, plus A/AAAA/HTTPS answered by flattening.
    expect(await auth(s, 'SRV')).toEqual([`${s} 300 NSEC \\000.${s} A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY CDS CDNSKEY HTTPS`]);
    // Flattening NODATA (the target has no HTTPS): that type is left out, the other address types stay.
    expect(await auth(s, 'HTTPS')).toEqual([`${s} 300 NSEC \\000.${s} A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY CDS CDNSKEY`]);
    expect(await auth(`ext.${s}`, 'HTTPS')).toEqual([`ext.${s} 300 NSEC \\000.ext.${s} A AAAA RRSIG NSEC`]);
    expect(await auth(`ext.${s}`, 'TXT')).toEqual([`ext.${s} 300 NSEC \\000.ext.${s} A AAAA RRSIG NSEC HTTPS`]);
    // Proxied names: the pool's types (A, AAAA, synthesized HTTPS) and whatever else the zone has there.
    expect(await auth(`www.${s}`, 'MX')).toEqual([`www.${s} 300 NSEC \\000.www.${s} A TXT AAAA RRSIG NSEC HTTPS`]);
    expect(await auth(`foo.wild.${s}`, 'MX')).toEqual([`foo.wild.${s} 300 NSEC \\000.foo.wild.${s} A AAAA RRSIG NSEC HTTPS`]);
  });

  it('nsec3: the NSEC3 matching a flattened name has the same bitmap rules', async () => {
    const s = 'shape-nsec3.test.';
    const bitmaps = async (name: string, type: string): Promise<string[]> =>
      section((await dig(daemon!.port, ['+norec', '+dnssec', name, type])).stdout, 'AUTHORITY')
        .map((l) => / NSEC3 1 0 0 - \S+ ?(.*)$/.exec(l)?.[1])
        .filter((b): b is string => b !== undefined);
    expect(await bitmaps(s, 'SRV')).toEqual(['A NS SOA MX TXT AAAA RRSIG DNSKEY NSEC3PARAM CDS CDNSKEY HTTPS']);
    expect(await bitmaps(s, 'HTTPS')).toEqual(['A NS SOA MX TXT AAAA RRSIG DNSKEY NSEC3PARAM CDS CDNSKEY']);
    expect(await bitmaps(`ext.${s}`, 'HTTPS')).toEqual(['A AAAA RRSIG']);
    expect(await bitmaps(`ext.${s}`, 'AAAA')).toEqual([]);
  });

  it('nsec: the chain NSEC at a flattened name has the same bitmap rules, and points to the next name', async () => {
    const s = 'shape-nsec.test.';
    const nsecs = async (name: string, type: string): Promise<string[]> =>
      section((await dig(daemon!.port, ['+norec', '+dnssec', name, type])).stdout, 'AUTHORITY').filter((l) => /^\S+ \d+ NSEC /.test(l));
    const apex = await nsecs(s, 'SRV');
    expect(apex).toHaveLength(1);
    expect(apex[0]).toMatch(new RegExp(`^${s.replace(/\./g, '\\.')} 300 NSEC \\S+\\.${s.replace(/\./g, '\\.')} A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY CDS CDNSKEY HTTPS$`));
    expect((await nsecs(s, 'HTTPS'))[0]).toMatch(/ A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY CDS CDNSKEY$/);
    expect((await nsecs(`ext.${s}`, 'HTTPS'))[0]).toMatch(new RegExp(`^ext\\.${s.replace(/\./g, '\\.')} 300 NSEC \\S+ A AAAA RRSIG NSEC$`));
  });

  it('additional data of answers is signed (RFC 4035 §3.1.1); referral glue is not', async () => {
    const s = 'shape-compact.test.';
    const mx = await dig(daemon!.port, ['+norec', '+dnssec', `mx2.${s}`, 'MX']);
    expect(section(mx.stdout, 'ADDITIONAL')).toEqual([
      `www.${s} 300 A 203.0.113.1`, `www.${s} 300 A 203.0.113.2`, `www.${s} 300 RRSIG A 13 3`,
      `www.${s} 300 AAAA 2001:db8:cf::1`, `www.${s} 300 AAAA 2001:db8:cf::2`, `www.${s} 300 RRSIG AAAA 13 3`,
    ]);
    const ns = await dig(daemon!.port, ['+norec', '+dnssec', s, 'NS']);
    expect(section(ns.stdout, 'ADDITIONAL')).toEqual([`ns1.${s} 300 A 127.0.0.1`, `ns1.${s} 300 RRSIG A 13 3`]);
    const referral = await dig(daemon!.port, ['+norec', '+dnssec', `x.sub.${s}`, 'A']);
    expect(section(referral.stdout, 'ADDITIONAL')).toEqual([`ns.sub.${s} 300 A 192.0.2.53`]);
    expect(section(referral.stdout, 'AUTHORITY')).toEqual([
      `sub.${s} 300 NS ns.sub.${s}`, `sub.${s} 300 NSEC \\000.sub.${s} NS RRSIG NSEC`, `sub.${s} 300 RRSIG NSEC 13 3`,
    ]);
    // Without DO, no RRSIG anywhere.
    const plain = await dig(daemon!.port, ['+norec', `mx2.${s}`, 'MX']);
    expect(plain.stdout).not.toContain('RRSIG');
  });

  it('no origin address of a proxied record appears in any answer, signed or validated', async () => {
    let all = '';
    const types = ['A', 'AAAA', 'ANY', 'HTTPS', 'CNAME', 'MX', 'TXT', 'NSEC', 'SVCB', 'RRSIG'];
    for (const denial of ['compact', 'nsec3', 'nsec'] as const) {
      const s = `shape-${denial}.test.`;
      for (const n of ['', 'www.', 'six.', 'shop.', 'api.', 'mx2.', 'foo.wild.', '*.wild.', 'wild.']) {
        const runs = await Promise.all(types.flatMap((t) => [
          dig(daemon!.port, ['+norec', '+dnssec', `${n}${s}`, t]),
          dig(daemon!.port, ['+norec', '+dnssec', '+tcp', `${n}${s}`, t]),
          dig(unbound!.port, ['+dnssec', '+time=5', `${n}${s}`, t], 20_000),
        ]));
        for (const r of runs) {
          expect(r.code).toBe(0);
          all += r.stdout;
        }
      }
    }
    for (const o of ORIGINS) expect(all).not.toMatch(o);
    expect(all).toContain('203.0.113.1');
    expect(all).toContain('2001:db8:cf::2');
  }, 60_000);
});
