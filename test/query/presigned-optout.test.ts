// Zones signed ahead of time with NSEC3 Opt-Out: an insecure delegation has no NSEC3 of its own, so referrals to it
// and DS queries at it carry the closest provable encloser proof (RFC 5155 §7.2.7, §7.2.4).

import { describe, expect, it } from 'vitest';
import { SignatureCache } from '../../src/dnssec/cache.js';
import { nsec3Hash, nsec3Label } from '../../src/dnssec/nsec3.js';
import { attachSigning, prepareZoneDnssec } from '../../src/dnssec/zone-keys.js';
import { QueryEngine } from '../../src/query/pipeline.js';
import { Flag, RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildSnapshot } from '../../src/zone/snapshot.js';
import { ZoneSet, ZoneStore } from '../../src/zone/store.js';
import { buildQuery } from '../helpers/dig.js';
import { parseMessage } from '../helpers/dnsmsg.js';

const ORIGIN = Name.parse('example.');
const SIG = (covered: string, labels: number): string => `RRSIG ${covered} 13 ${labels} 300 20360101000000 20260101000000 4242 example. AAAA`;
/** Names with an NSEC3 of their own and their types; `ins` (insecure, Opt-Out) and its glue have none. */
const SECURE: readonly (readonly [string, string])[] = [
  ['example.', 'NS SOA RRSIG NSEC3PARAM'],
  ['ns1.example.', 'A RRSIG'],
  ['www.example.', 'A RRSIG'],
  ['mail.example.', 'A RRSIG'],
  ['host.example.', 'A RRSIG'],
];
const hashOf = (n: string): string => nsec3Label(nsec3Hash(Name.parse(n), new Uint8Array(0), 0)).toLowerCase();

function zoneText(): string {
  const chain = SECURE.map(([n, types]) => ({ n, types, h: hashOf(n) })).sort((a, b) => (a.h < b.h ? -1 : 1));
  const lines = [
    '$TTL 300',
    '@ SOA ns1 host 1 7200 3600 1209600 300',
    `@ ${SIG('SOA', 1)}`,
    '@ NS ns1',
    `@ ${SIG('NS', 1)}`,
    '@ NSEC3PARAM 1 0 0 -',
    `@ ${SIG('NSEC3PARAM', 1)}`,
    ...['ns1', 'www', 'mail', 'host'].flatMap((l, i) => [`${l} A 192.0.2.${i + 1}`, `${l} ${SIG('A', 2)}`]),
    'ins NS ns.ins',
    'ns.ins A 192.0.2.99',
  ];
  chain.forEach((e, i) => {
    const next = chain[(i + 1) % chain.length]!.h;
    // Flags 1: Opt-Out (RFC 5155 §3.1.2.1).
    lines.push(`${e.h} NSEC3 1 1 0 - ${next} ${e.types}`, `${e.h} ${SIG('NSEC3', 2)}`);
  });
  return lines.join('\n') + '\n';
}

async function engine(): Promise<QueryEngine> {
  const prep = await prepareZoneDnssec(ORIGIN, { mode: 'presigned' }, new SignatureCache({ maxBytes: 1 << 20 }));
  const records = prep!.augment(parseZoneText(zoneText(), 'optout.zone', { origin: ORIGIN, zonesDir: '/nonexistent' }).records);
  const built = buildSnapshot(ORIGIN, records);
  if (!built.snapshot) throw new Error(built.diagnostics.map((d) => d.message).join('\n'));
  if (prep?.signing) attachSigning(built.snapshot, prep.signing);
  const store = new ZoneStore();
  store.publish(new ZoneSet(new Map([[ORIGIN.key, { snapshot: built.snapshot, expired: false }]]), 1));
  return new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 0 });
}

/** The NSEC3 owner label whose interval covers hash label `h` (the last one at or before it, wrapping). */
function coverOf(h: string): string {
  const hs = SECURE.map(([n]) => hashOf(n)).sort();
  return [...hs].reverse().find((x) => x < h) ?? hs[hs.length - 1]!;
}

describe('NSEC3 Opt-Out, signed ahead of time', () => {
  it('a referral to an insecure delegation proves the closest provable encloser and covers the next closer name (RFC 5155 §7.2.7)', async () => {
    const e = await engine();
    const apex = hashOf('example.');
    const cover = coverOf(hashOf('ins.example.'));
    // The two proofs are different records, so a single covering NSEC3 cannot pass for both.
    expect(cover).not.toBe(apex);
    for (const [name, type] of [['host.ins.example', 'A'], ['ins.example', 'DS']] as const) {
      const m = parseMessage(e.handle(buildQuery({ name, type, id: 3, edns: { udpSize: 4096, do: true } }), { transport: 'tcp', address: '127.0.0.1', port: 1 }) as Uint8Array);
      const owners = m.authority.filter((r) => r.type === RRType.NSEC3).map((r) => r.owner.split('.')[0]!.toLowerCase()).sort();
      expect(owners, `${name} ${type}`).toEqual([apex, cover].sort());
      // Each NSEC3 brings its RRSIG (RFC 4035 §3.1.3).
      expect(m.authority.filter((r) => r.type === RRType.RRSIG && ((r.rdata[0]! << 8) | r.rdata[1]!) === RRType.NSEC3).length, `${name} ${type}`).toBe(2);
      if (type === 'A') expect(m.flags & Flag.AA).toBe(0);
      else expect(m.flags & Flag.AA).toBe(Flag.AA);
    }
  });
});
