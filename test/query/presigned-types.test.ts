// Queries of type NSEC and RRSIG in zones signed ahead of time: the records beside a CNAME are the name's own
// (RFC 4035 §2.5) and each RRSIG keeps the TTL of the RRset it covers (RFC 4034 §3), in answers and in the zone's
// record list.

import { describe, expect, it } from 'vitest';
import { resolve } from '../../src/query/resolve.js';
import { RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildSnapshot } from '../../src/zone/snapshot.js';
import { zoneFromText } from './zone-helper.js';

const SIG = (covered: string, labels: number, ttl: number): string => `RRSIG ${covered} 13 ${labels} ${ttl} 20360101000000 20260101000000 4242 example. AAAA`;
const ZONE = zoneFromText(
  'example.',
  `$TTL 3600
@ SOA ns1 host 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.53
alias 3600 CNAME www
alias 3600 ${SIG('CNAME', 2, 3600)}
alias 300 NSEC ns1.example. CNAME RRSIG NSEC
alias 300 ${SIG('NSEC', 2, 300)}
www 600 A 192.0.2.80
www 600 ${SIG('A', 2, 600)}
www 300 NSEC example. A RRSIG NSEC
www 300 ${SIG('NSEC', 2, 300)}
plain CNAME www
`,
);

function ask(name: string, type: number): ReturnType<typeof resolve> {
  return resolve(ZONE, Name.parse(name), type);
}

describe('NSEC and RRSIG beside a CNAME (RFC 4035 §2.5)', () => {
  it('answers a query for NSEC at a CNAME owner with the owner\'s NSEC, not the target\'s', () => {
    const r = ask('alias.example.', RRType.NSEC);
    expect(r.kind).toBe('answer');
    expect(r.chain).toEqual([]);
    if (r.kind !== 'answer') return;
    expect(r.rrsets.map((s) => `${s.owner.toString()} ${s.type} ${s.ttl}`)).toEqual(['alias.example. 47 300']);
  });

  it('answers a query for RRSIG at a CNAME owner with the owner\'s RRSIGs', () => {
    const r = ask('alias.example.', RRType.RRSIG);
    expect(r.kind).toBe('answer');
    expect(r.chain).toEqual([]);
  });

  it('still follows a CNAME whose owner holds no record of the queried type (unsigned data)', () => {
    const r = ask('plain.example.', RRType.NSEC);
    expect(r.chain.map((l) => l.rrset.type)).toEqual([RRType.CNAME]);
    expect(r.kind).toBe('answer');
    if (r.kind === 'answer') expect(r.rrsets[0]!.owner.toString()).toBe('www.example.');
  });
});

describe('RRSIG TTLs (RFC 4034 §3)', () => {
  it('gives each RRSIG the TTL of the RRset it covers', () => {
    const r = ask('www.example.', RRType.RRSIG);
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    const byTtl = r.rrsets.map((s) => `${s.type} ${s.ttl} ${s.rdata.map((d) => (d[0]! << 8) | d[1]!).join(',')}`).sort();
    expect(byTtl).toEqual([`${RRType.RRSIG} 300 ${RRType.NSEC}`, `${RRType.RRSIG} 600 ${RRType.A}`]);
  });
});

describe('RRSIG TTLs in the zone snapshot (RFC 4034 §3)', () => {
  it('loads differing RRSIG TTLs at one owner without a TTL warning', () => {
    const o = Name.parse('example.');
    const text = `$TTL 3600\n@ SOA ns1 host 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\nwww 600 A 192.0.2.80\nwww 600 ${SIG('A', 2, 600)}\nwww 300 NSEC example. A RRSIG NSEC\nwww 300 ${SIG('NSEC', 2, 300)}\n`;
    const built = buildSnapshot(o, parseZoneText(text, 't.zone', { origin: o, zonesDir: '/nonexistent' }).records);
    expect(built.diagnostics.map((d) => d.message)).toEqual([]);
  });

  it('gives every RRSIG in the record list (AXFR out, secondaries) the TTL of the RRset it covers', () => {
    const sigs = ZONE.records.filter((r) => r.type === RRType.RRSIG).map((r) => `${r.owner.toString()} ${(r.rdata[0]! << 8) | r.rdata[1]!} ${r.ttl}`).sort();
    expect(sigs).toEqual([
      `alias.example. ${RRType.CNAME} 3600`, `alias.example. ${RRType.NSEC} 300`,
      `www.example. ${RRType.A} 600`, `www.example. ${RRType.NSEC} 300`,
    ].sort());
  });
});
