// applyProxy / applyFlattenAll: load-time replacement of proxied records by the pool (seed "Proxy status").

import { describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { RRType } from '../../src/wire/constants.js';
import { applyFlattenAll, applyProxy, httpsTemplate } from '../../src/zone/proxy.js';
import { formatDiagnostic } from '../../src/zone/model.js';
import type { ProxyConfig } from '../../src/config/types.js';
import { POOL, ip, parseRecords, show } from './helpers.js';

const ORIGIN = Name.parse('example.com.');
const HEAD = `$TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 1800
@ NS ns1
ns1 A 192.0.2.53
`;
const HTTPS_TEXT = '1 . alpn="h3,h2" ipv4hint=203.0.113.1,203.0.113.2 ipv6hint=2001:db8:cf::1,2001:db8:cf::2';

/** `null` = no pool configured. */
function run(body: string, pool: ProxyConfig | null = POOL) {
  const out = applyProxy(parseRecords('example.com.', HEAD + body), ORIGIN, pool ?? undefined);
  return { lines: out.records.map(show), diags: out.diagnostics.map(formatDiagnostic), records: out.records };
}

describe('applyProxy', () => {
  it('replaces a proxied A by the pool A, AAAA and HTTPS RRsets at TTL 300 and keeps other types', () => {
    const r = run(`www 3600 A 192.0.2.10 ; origin cf_tags=cf-proxied:true,team:web
www 3600 TXT "hello"
`);
    expect(r.diags).toEqual([]);
    expect(r.lines).toEqual([
      'example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 1800',
      'example.com. 3600 NS ns1.example.com.',
      'ns1.example.com. 3600 A 192.0.2.53',
      'www.example.com. 300 A 203.0.113.1',
      'www.example.com. 300 A 203.0.113.2',
      'www.example.com. 300 AAAA 2001:db8:cf::1',
      'www.example.com. 300 AAAA 2001:db8:cf::2',
      `www.example.com. 300 HTTPS ${HTTPS_TEXT}`,
      'www.example.com. 3600 TXT "hello"',
    ]);
    // Comment and tags stay on the replacement records.
    const a = r.records.find((x) => x.type === RRType.A && x.owner.toString() === 'www.example.com.')!;
    expect(a.meta.comment).toBe('origin');
    expect(a.meta.tags).toEqual([{ name: 'team', value: 'web' }]);
    expect(a.meta.proxied).toBe(true);
    expect(a.meta.pos).toEqual({ file: 'test.zone', line: 5, col: 1 });
  });

  it('mixing rule: one proxied AAAA makes every A and AAAA at the name proxied', () => {
    const r = run(`mix A 192.0.2.20
mix A 192.0.2.21
mix AAAA 2001:db8::20 ; cf_tags=cf-proxied:true
plain A 192.0.2.30
`);
    expect(r.lines.filter((l) => l.startsWith('mix.') || l.startsWith('plain.'))).toEqual([
      'mix.example.com. 300 A 203.0.113.1',
      'mix.example.com. 300 A 203.0.113.2',
      'mix.example.com. 300 AAAA 2001:db8:cf::1',
      'mix.example.com. 300 AAAA 2001:db8:cf::2',
      `mix.example.com. 300 HTTPS ${HTTPS_TEXT}`,
      'plain.example.com. 3600 A 192.0.2.30',
    ]);
  });

  it('a proxied CNAME is replaced by the pool (always flattened); cf-proxied:false stays DNS-only', () => {
    const r = run(`shop CNAME shops.myshopify.example. ; cf_tags=cf-proxied:true
docs CNAME docs.vendor.example. ; cf_tags=cf-proxied:false
`);
    expect(r.diags).toEqual([]);
    expect(r.lines.filter((l) => l.startsWith('shop.') || l.startsWith('docs.'))).toEqual([
      'shop.example.com. 300 A 203.0.113.1',
      'shop.example.com. 300 A 203.0.113.2',
      'shop.example.com. 300 AAAA 2001:db8:cf::1',
      'shop.example.com. 300 AAAA 2001:db8:cf::2',
      `shop.example.com. 300 HTTPS ${HTTPS_TEXT}`,
      'docs.example.com. 3600 CNAME docs.vendor.example.',
    ]);
  });

  it('a proxied wildcard stays a wildcard', () => {
    const r = run(`* A 192.0.2.40 ; cf_tags=cf-proxied:true
`);
    expect(r.lines.filter((l) => l.startsWith('*.'))).toEqual([
      '*.example.com. 300 A 203.0.113.1',
      '*.example.com. 300 A 203.0.113.2',
      '*.example.com. 300 AAAA 2001:db8:cf::1',
      '*.example.com. 300 AAAA 2001:db8:cf::2',
      `*.example.com. 300 HTTPS ${HTTPS_TEXT}`,
    ]);
  });

  it('keeps the zone’s own HTTPS record and synthesizes none without pool.https', () => {
    const own = run(`api A 192.0.2.50 ; cf_tags=cf-proxied:true
api HTTPS 1 . alpn=h2
`);
    expect(own.lines.filter((l) => l.startsWith('api.') && l.includes('HTTPS'))).toEqual(['api.example.com. 3600 HTTPS 1 . alpn="h2"']);
    const none = run(`api A 192.0.2.50 ; cf_tags=cf-proxied:true
`, { ...POOL, https: undefined });
    expect(none.lines.filter((l) => l.startsWith('api.'))).toEqual([
      'api.example.com. 300 A 203.0.113.1',
      'api.example.com. 300 A 203.0.113.2',
      'api.example.com. 300 AAAA 2001:db8:cf::1',
      'api.example.com. 300 AAAA 2001:db8:cf::2',
    ]);
  });

  it('an IPv4-only pool leaves no AAAA (the origin AAAA is dropped) and no ipv6hint', () => {
    const v4 = { ipv4: [ip('203.0.113.9')], ipv6: [], https: { alpn: ['h2'] } };
    const r = run(`v4 A 192.0.2.60 ; cf_tags=cf-proxied:true
v4 AAAA 2001:db8::60
`, v4);
    expect(r.lines.filter((l) => l.startsWith('v4.'))).toEqual([
      'v4.example.com. 300 A 203.0.113.9',
      'v4.example.com. 300 HTTPS 1 . alpn="h2" ipv4hint=203.0.113.9',
    ]);
  });

  it('no origin address of a proxied name survives', () => {
    const r = run(`www A 192.0.2.10 ; cf_tags=cf-proxied:true
www AAAA 2001:db8::10
www A 192.0.2.11
* A 192.0.2.12 ; cf_tags=cf-proxied:true
`);
    const text = r.lines.join('\n');
    for (const origin of ['192.0.2.10', '192.0.2.11', '192.0.2.12', '2001:db8::10']) expect(text).not.toContain(origin);
    expect(text).toContain('192.0.2.53');
  });

  it('errors: cf-proxied on a type other than A/AAAA/CNAME, with file:line:col', () => {
    const r = run(`@ MX 10 mail ; cf_tags=cf-proxied:true
txt TXT "x" ; cf_tags=cf-proxied:true
`);
    expect(r.diags).toEqual([
      'test.zone:5:1: error: cf-proxied:true on a MX record at example.com.: only A, AAAA and CNAME records can be proxied',
      'test.zone:6:1: error: cf-proxied:true on a TXT record at txt.example.com.: only A, AAAA and CNAME records can be proxied',
    ]);
  });

  it('error: proxied records without a pool', () => {
    const r = run(`www A 192.0.2.10 ; cf_tags=cf-proxied:true
api A 192.0.2.11 ; cf_tags=cf-proxied:true
`, null);
    expect(r.diags).toEqual([
      'test.zone:5:1: error: A record at www.example.com. is proxied (cf-proxied:true) (and 1 more proxied record), but no proxy pool is configured: add a global or per-zone "proxy:" block with ipv4/ipv6 addresses',
    ]);
    // Without proxied records, no pool is fine.
    expect(run('www A 192.0.2.10\n', null).diags).toEqual([]);
  });

  it('error: a proxied CNAME below the apex next to other data', () => {
    const r = run(`x CNAME target.example. ; cf_tags=cf-proxied:true
x TXT "conflict"
`);
    expect(r.diags).toEqual(['test.zone:5:1: error: CNAME and other data at x.example.com. (TXT); RFC 2181 §10.1']);
  });

  it('warning: MX and SRV targets that are proxied', () => {
    const r = run(`mail A 192.0.2.25 ; cf_tags=cf-proxied:true
@ MX 10 mail
_sip._tcp SRV 0 5 5060 mail
`);
    expect(r.diags).toEqual([
      'test.zone:6:1: warning: MX record at example.com. points to mail.example.com., which is proxied: mail and other non-HTTP traffic to it will reach the proxy pool, not the origin; make mail.example.com. DNS-only (seed "Troubleshooting email issues")',
      'test.zone:7:1: warning: SRV record at _sip._tcp.example.com. points to mail.example.com., which is proxied: mail and other non-HTTP traffic to it will reach the proxy pool, not the origin; make mail.example.com. DNS-only (seed "Troubleshooting email issues")',
    ]);
  });

  it('httpsTemplate wire form (RFC 9460 §2.2)', () => {
    expect(Buffer.from(httpsTemplate({ ipv4: [ip('203.0.113.1')], ipv6: [], https: { alpn: ['h3', 'h2'] } })).toString('hex')).toBe(
      '0001' + '00' + '0001' + '0006' + '026833' + '026832' + '0004' + '0004' + 'cb007101',
    );
  });
});

describe('applyFlattenAll', () => {
  it('marks every CNAME for flattening and leaves other records alone', () => {
    const recs = parseRecords('example.com.', HEAD + 'a CNAME b\nb A 192.0.2.1\nc CNAME d.example.net.\n');
    const out = applyFlattenAll(recs);
    expect(out.filter((r) => r.meta.flatten).map(show)).toEqual(['a.example.com. 3600 CNAME b.example.com.', 'c.example.com. 3600 CNAME d.example.net.']);
    expect(out.find((r) => r.type === RRType.A && r.owner.toString() === 'b.example.com.')).toBe(recs.find((r) => r.type === RRType.A && r.owner.toString() === 'b.example.com.'));
    expect(applyFlattenAll(out)).toBe(out);
  });
});
