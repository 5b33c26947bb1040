// Seed "Secondary DNS override": applyOverlay on transferred records (proxied marks, apex CNAME deactivating the
// apex A/AAAA, added records), exact records out, and the same data through proxy substitution and the snapshot.

import { describe, expect, it } from 'vitest';
import type { ProxyConfig } from '../../src/config/types.js';
import { parseIp } from '../../src/util/ip.js';
import { applyOverlay } from '../../src/transfer/secondary.js';
import { classToString, RRType, typeToString } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { rdataToText } from '../../src/wire/rdata/index.js';
import type { RR } from '../../src/zone/model.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { applyProxy } from '../../src/zone/proxy.js';
import { buildSnapshot } from '../../src/zone/snapshot.js';

const ORIGIN = Name.parse('example.net.');

function parse(text: string): readonly RR[] {
  const r = parseZoneText(`$ORIGIN example.net.\n$TTL 300\n${text}\n`, 'test.zone', { origin: ORIGIN, zonesDir: '/' });
  const err = r.diagnostics.find((d) => d.severity === 'error');
  if (err) throw new Error(err.message);
  return r.records;
}

/** "owner ttl class type rdata [proxied] [flatten]" per record, in order. */
function lines(records: readonly RR[]): string[] {
  return records.map((r) => {
    const marks = `${r.meta.proxied ? ' proxied' : ''}${r.meta.flatten ? ' flatten' : ''}`;
    return `${r.owner.toString()} ${r.ttl} ${classToString(r.class)} ${typeToString(r.type)} ${rdataToText(r.type, r.rdata)}${marks}`;
  });
}

const TRANSFERRED = `
@ 3600 IN SOA ns1 hostmaster 10 3600 600 86400 300
@ IN NS ns1
@ IN A 192.0.2.1
@ IN AAAA 2001:db8::1
@ IN MX 10 mail
ns1 IN A 192.0.2.53
www IN A 192.0.2.10
www IN A 192.0.2.11
www IN AAAA 2001:db8::10
app IN CNAME www
mail IN A 192.0.2.25
`;

const POOL: ProxyConfig = {
  ipv4: [parseIp('203.0.113.1')!, parseIp('203.0.113.2')!],
  ipv6: [parseIp('2001:db8:ffff::1')!],
  https: undefined,
};

describe('applyOverlay', () => {
  it('with an empty overlay returns the transferred records unchanged', () => {
    const raw = parse(TRANSFERRED);
    expect(lines(applyOverlay(ORIGIN, raw, []))).toEqual(lines(raw));
  });

  it('marks every A/AAAA/CNAME at a name proxied when the overlay has a proxied address record there', () => {
    const raw = parse(TRANSFERRED);
    const overlay = parse('www IN A 192.0.2.10 ; cf_tags=cf-proxied:true\napp IN CNAME www ; cf_tags=cf-proxied:true');
    expect(lines(applyOverlay(ORIGIN, raw, overlay))).toEqual([
      'example.net. 3600 IN SOA ns1.example.net. hostmaster.example.net. 10 3600 600 86400 300',
      'example.net. 300 IN NS ns1.example.net.',
      'example.net. 300 IN A 192.0.2.1',
      'example.net. 300 IN AAAA 2001:db8::1',
      'example.net. 300 IN MX 10 mail.example.net.',
      'ns1.example.net. 300 IN A 192.0.2.53',
      'www.example.net. 300 IN A 192.0.2.10 proxied',
      'www.example.net. 300 IN A 192.0.2.11 proxied',
      'www.example.net. 300 IN AAAA 2001:db8::10 proxied',
      'app.example.net. 300 IN CNAME www.example.net. proxied',
      'mail.example.net. 300 IN A 192.0.2.25',
    ]);
  });

  it('adds a proxied overlay record at a name without transferred addresses as a record of its own', () => {
    const raw = parse(TRANSFERRED);
    const overlay = parse('extra IN A 198.51.100.7 ; cf_tags=cf-proxied:true');
    const out = applyOverlay(ORIGIN, raw, overlay);
    expect(lines(out.slice(raw.length))).toEqual(['extra.example.net. 300 IN A 198.51.100.7 proxied']);
    expect(lines(out.slice(0, raw.length))).toEqual(lines(raw));
  });

  it('an apex CNAME deactivates the transferred apex A and AAAA and keeps everything else', () => {
    const raw = parse(TRANSFERRED);
    const overlay = parse('@ IN CNAME www');
    expect(lines(applyOverlay(ORIGIN, raw, overlay))).toEqual([
      'example.net. 3600 IN SOA ns1.example.net. hostmaster.example.net. 10 3600 600 86400 300',
      'example.net. 300 IN NS ns1.example.net.',
      'example.net. 300 IN MX 10 mail.example.net.',
      'ns1.example.net. 300 IN A 192.0.2.53',
      'www.example.net. 300 IN A 192.0.2.10',
      'www.example.net. 300 IN A 192.0.2.11',
      'www.example.net. 300 IN AAAA 2001:db8::10',
      'app.example.net. 300 IN CNAME www.example.net.',
      'mail.example.net. 300 IN A 192.0.2.25',
      'example.net. 300 IN CNAME www.example.net.',
    ]);
  });

  it('ignores an overlay SOA and adds other overlay records after the transferred ones', () => {
    const raw = parse(TRANSFERRED);
    const overlay = parse('@ 60 IN SOA x y 99 1 1 1 1\nlocal 120 IN TXT "only here"\nwww IN TXT "site"');
    const out = applyOverlay(ORIGIN, raw, overlay);
    expect(out.length).toBe(raw.length + 2);
    expect(lines(out.slice(raw.length))).toEqual(['local.example.net. 120 IN TXT "only here"', 'www.example.net. 300 IN TXT "site"']);
  });

  it('does not modify its inputs', () => {
    const raw = parse(TRANSFERRED);
    const before = lines(raw);
    applyOverlay(ORIGIN, raw, parse('www IN A 192.0.2.10 ; cf_tags=cf-proxied:true\n@ IN CNAME www'));
    expect(lines(raw)).toEqual(before);
  });

  it('proxy substitution after the overlay serves the pool and drops the origin addresses', () => {
    const raw = parse(TRANSFERRED);
    const marked = applyOverlay(ORIGIN, raw, parse('www IN A 192.0.2.10 ; cf_tags=cf-proxied:true'));
    const proxied = applyProxy(marked, ORIGIN, POOL);
    expect(proxied.diagnostics).toEqual([]);
    const www = lines(proxied.records.filter((r) => r.owner.equals(Name.parse('www.example.net.'))));
    expect(www).toEqual([
      'www.example.net. 300 IN A 203.0.113.1 proxied',
      'www.example.net. 300 IN A 203.0.113.2 proxied',
      'www.example.net. 300 IN AAAA 2001:db8:ffff::1 proxied',
    ]);
    const all = lines(proxied.records).join('\n');
    expect(all).not.toContain('192.0.2.10');
    expect(all).not.toContain('192.0.2.11');
    expect(all).not.toContain('2001:db8::10');
  });

  it('an overlay apex CNAME builds into a snapshot whose apex holds a flattened CNAME and no A/AAAA', () => {
    const raw = parse(TRANSFERRED);
    const built = buildSnapshot(ORIGIN, applyOverlay(ORIGIN, raw, parse('@ IN CNAME www')));
    expect(built.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const apex = built.snapshot!.apex;
    expect(apex.types).toEqual([RRType.NS, RRType.CNAME, RRType.SOA, RRType.MX].sort((x, y) => x - y));
    const cname = apex.rrsets.get(RRType.CNAME)!;
    expect(rdataToText(RRType.CNAME, cname.rdata[0]!)).toBe('www.example.net.');
    expect(cname.meta[0]!.flatten).toBe(true);
  });
});
