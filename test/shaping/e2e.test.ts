// End to end: the built daemon with proxied records and CNAME flattening, Knot as the external provider serving
// external-origin.test, checked with dig (seed "Proxy status", "CNAME flattening", "Stale response").

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../helpers/tools.js';
import { startKnot, type KnotServer } from '../helpers/knot.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { dig, digAnswer, digStatus } from '../helpers/dig.js';

const digTool = tool('dig');
const knotTool = tool('knotd');
const built = daemonBuilt();
const skip = 'skip' in digTool || 'skip' in knotTool || 'skip' in built;

const EXTERNAL = `$TTL 7200
@ SOA ns hostmaster 1 7200 3600 1209600 300
@ NS ns
ns A 192.0.2.200
@ 7200 A 192.0.2.1
@ 7200 AAAA 2001:db8::1
short 1 A 192.0.2.2
shops A 192.0.2.3
never A 192.0.2.4
`;

const EXAMPLE = `$TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 1800
@ NS ns1
@ 3600 CNAME external-origin.test.
@ MX 10 mail
@ TXT "v=spf1 -all"
ns1 A 192.0.2.53
mail A 192.0.2.25
www 3600 A 192.0.2.10 ; cf_tags=cf-proxied:true
www AAAA 2001:db8::10
www TXT "site"
mixed A 192.0.2.11
mixed AAAA 2001:db8::11 ; cf_tags=cf-proxied:true
shop CNAME shops.external-origin.test. ; cf_tags=cf-proxied:true
* A 192.0.2.12 ; cf_tags=cf-proxied:true
api A 192.0.2.13 ; cf_tags=cf-proxied:true
api HTTPS 1 . alpn=h2
mx2 MX 10 www
tagged 600 CNAME external-origin.test. ; cf_tags=cf-flatten-cname
alias 1800 ALIAS external-origin.test.
plain 3600 CNAME external-origin.test.
short 3600 CNAME short.external-origin.test. ; cf_tags=cf-flatten-cname
dead 3600 CNAME missing.external-origin.test. ; cf_tags=cf-flatten-cname
never CNAME never.external-origin.test. ; cf_tags=cf-flatten-cname
loop1 CNAME loop2 ; cf_tags=cf-flatten-cname
loop2 CNAME loop1
`;

const FLATALL = `$TTL 3600
@ SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 1800
@ NS ns1.example.com.
plain 900 CNAME external-origin.test.
`;

/** Origin addresses of proxied records: none may appear in any answer. */
const ORIGINS = ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13', '2001:db8::10', '2001:db8::11', '192.0.2.3'];

describe.skipIf(skip)('answer shaping end to end (apexdns + knotd + dig)', () => {
  let dir = '';
  let knot: KnotServer;
  let apex: DaemonServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-shaping-'));
    writeFileSync(join(dir, 'external-origin.test.zone'), EXTERNAL);
    writeFileSync(join(dir, 'example.com.zone'), EXAMPLE);
    writeFileSync(join(dir, 'flat-all.test.zone'), FLATALL);
    knot = await startKnot([{ name: 'external-origin.test', file: join(dir, 'external-origin.test.zone') }]);
    apex = await startDaemon([{ name: 'example.com', file: join(dir, 'example.com.zone') }], {
      extra: {
        zones: [
          { name: 'example.com', file: join(dir, 'example.com.zone') },
          { name: 'flat-all.test', file: join(dir, 'flat-all.test.zone'), 'flatten-all-cnames': true },
        ],
        proxy: { ipv4: ['203.0.113.1', '203.0.113.2'], ipv6: ['2001:db8:cf::1', '2001:db8:cf::2'], https: { alpn: ['h3', 'h2'] } },
        flattening: { resolvers: [`127.0.0.1:${knot.port}`], 'timeout-ms': 300 },
      },
    });
  }, 30_000);

  afterAll(async () => {
    await apex?.stop();
    await knot?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const answer = async (name: string, type: string): Promise<string[]> =>
    (await digAnswer(apex.port, name, type)).map((r) => `${r.owner} ${r.ttl} ${r.type} ${r.rdata}`);

  it('apex flattening: A and AAAA at the apex, TTL min(CNAME 3600, A 7200) = 3600, no CNAME', async () => {
    expect(await answer('example.com', 'A')).toEqual(['example.com. 3600 A 192.0.2.1']);
    expect(await answer('example.com', 'AAAA')).toEqual(['example.com. 3600 AAAA 2001:db8::1']);
    expect(await answer('example.com', 'MX')).toEqual(['example.com. 3600 MX 10 mail.example.com.']);
    expect(await answer('example.com', 'TXT')).toEqual(['example.com. 3600 TXT "v=spf1 -all"']);
    expect(await answer('example.com', 'SOA')).toEqual(['example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 1800']);
  });

  it('per-record tag, ALIAS, flatten-all; a plain CNAME stays a CNAME', async () => {
    expect(await answer('tagged.example.com', 'A')).toEqual(['tagged.example.com. 600 A 192.0.2.1']);
    expect(await answer('alias.example.com', 'AAAA')).toEqual(['alias.example.com. 1800 AAAA 2001:db8::1']);
    expect(await answer('plain.flat-all.test', 'A')).toEqual(['plain.flat-all.test. 900 A 192.0.2.1']);
    expect(await answer('plain.example.com', 'A')).toEqual(['plain.example.com. 3600 CNAME external-origin.test.']);
  });

  it('proxied A/AAAA: pool addresses at TTL 300; other types unchanged', async () => {
    expect(await answer('www.example.com', 'A')).toEqual(['www.example.com. 300 A 203.0.113.1', 'www.example.com. 300 A 203.0.113.2']);
    expect(await answer('www.example.com', 'AAAA')).toEqual(['www.example.com. 300 AAAA 2001:db8:cf::1', 'www.example.com. 300 AAAA 2001:db8:cf::2']);
    expect(await answer('www.example.com', 'TXT')).toEqual(['www.example.com. 3600 TXT "site"']);
  });

  it('mixing rule, proxied CNAME, proxied wildcard', async () => {
    expect(await answer('mixed.example.com', 'A')).toEqual(['mixed.example.com. 300 A 203.0.113.1', 'mixed.example.com. 300 A 203.0.113.2']);
    expect(await answer('shop.example.com', 'A')).toEqual(['shop.example.com. 300 A 203.0.113.1', 'shop.example.com. 300 A 203.0.113.2']);
    expect(await answer('shop.example.com', 'AAAA')).toEqual(['shop.example.com. 300 AAAA 2001:db8:cf::1', 'shop.example.com. 300 AAAA 2001:db8:cf::2']);
    expect(await answer('anything.example.com', 'A')).toEqual(['anything.example.com. 300 A 203.0.113.1', 'anything.example.com. 300 A 203.0.113.2']);
    expect(await answer('deep.er.example.com', 'AAAA')).toEqual(['deep.er.example.com. 300 AAAA 2001:db8:cf::1', 'deep.er.example.com. 300 AAAA 2001:db8:cf::2']);
  });

  it('HTTPS synthesis for proxied names, the zone’s own HTTPS record wins', async () => {
    const hints = '1 . alpn="h3,h2" ipv4hint=203.0.113.1,203.0.113.2 ipv6hint=2001:db8:cf::1,2001:db8:cf::2';
    expect(await answer('www.example.com', 'HTTPS')).toEqual([`www.example.com. 300 HTTPS ${hints}`]);
    expect(await answer('shop.example.com', 'HTTPS')).toEqual([`shop.example.com. 300 HTTPS ${hints}`]);
    expect(await answer('wild.example.com', 'HTTPS')).toEqual([`wild.example.com. 300 HTTPS ${hints}`]);
    expect(await answer('api.example.com', 'HTTPS')).toEqual(['api.example.com. 3600 HTTPS 1 . alpn="h2"']);
  });

  it('target NXDOMAIN: NODATA at QNAME with our SOA', async () => {
    const r = await dig(apex.port, ['+norec', 'dead.example.com', 'A']);
    expect(digStatus(r.stdout)).toBe('NOERROR');
    expect(r.stdout).toContain('ANSWER: 0, AUTHORITY: 1');
    expect(r.stdout).toMatch(/example\.com\.\s+1800\s+IN\s+SOA\s+ns1\.example\.com\./);
  });

  it('CNAME loop: SERVFAIL with an EDE', async () => {
    const r = await dig(apex.port, ['loop1.example.com', 'A']);
    expect(digStatus(r.stdout)).toBe('SERVFAIL');
    expect(r.stdout).toContain('; EDE: 0 (Other): (CNAME loop or over-long chain in zone example.com. while flattening loop2.example.com.)');
  });

  it('no origin address of a proxied record leaks in any answer', async () => {
    const names = ['example.com', 'www', 'mixed', 'shop', 'api', 'mx2', 'wild', 'a.b.wild', '*', 'mail', 'ns1'].map((n) => (n === 'example.com' ? n : `${n}.example.com`));
    const types = ['A', 'AAAA', 'ANY', 'MX', 'HTTPS', 'TXT', 'CNAME', 'SRV', 'NS', 'SOA', 'NSEC', 'SVCB'];
    let all = '';
    for (const n of names) {
      const runs = await Promise.all(types.flatMap((t) => ['+notcp', '+tcp'].map((transport) => dig(apex.port, [transport, '+dnssec', n, t]))));
      for (const r of runs) {
        expect(r.code).toBe(0);
        all += r.stdout;
      }
    }
    // The MX at mx2 points at a proxied name: its additional data are the pool addresses.
    const mx = await dig(apex.port, ['mx2.example.com', 'MX']);
    expect(mx.stdout).toMatch(/www\.example\.com\.\s+300\s+IN\s+A\s+203\.0\.113\.1/);
    for (const o of ORIGINS) expect(all).not.toContain(o);
    expect(all).toContain('203.0.113.1');
  }, 60_000);

  it('upstream gone: the expired answer still comes back (stale, EDE 3); nothing cached gives SERVFAIL + EDE', async () => {
    expect(await answer('short.example.com', 'A')).toEqual(['short.example.com. 1 A 192.0.2.2']);
    await new Promise((r) => setTimeout(r, 1200));
    await knot.stop();
    const stale = await dig(apex.port, ['short.example.com', 'A']);
    expect(digStatus(stale.stdout)).toBe('NOERROR');
    // RFC 8767 §4: a stale answer carries the stale TTL, 30 s (not what was left of upstream's 1 s: nothing is left).
    expect(stale.stdout).toMatch(/short\.example\.com\.\s+30\s+IN\s+A\s+192\.0\.2\.2/);
    expect(stale.stdout).toContain('; EDE: 3 (Stale Answer): (flattened from expired upstream data (upstream unreachable))');
    // Fresh data keeps being served from the cache.
    expect(await answer('example.com', 'A')).toEqual(['example.com. 3600 A 192.0.2.1']);
    const none = await dig(apex.port, ['never.example.com', 'A']);
    expect(digStatus(none.stdout)).toBe('SERVFAIL');
    expect(none.stdout).toContain(`; EDE: 22 (No Reachable Authority): (flattening never.external-origin.test.: 127.0.0.1:${knot.port}: no answer within 300 ms)`);
  }, 20_000);
});
