// Referral glue and truncation (RFC 9471 §3): in-domain glue that does not fit sets TC; sibling glue and other
// optional additional data that does not fit is left out without TC (RFC 2181 §9).

import { describe, expect, it } from 'vitest';
import { QueryEngine } from '../../src/query/pipeline.js';
import { Flag, RRType } from '../../src/wire/constants.js';
import { ZoneSet, ZoneStore } from '../../src/zone/store.js';
import { buildQuery } from '../helpers/dig.js';
import { parseMessage, type ParsedMessage } from '../helpers/dnsmsg.js';
import { zoneFromText } from './zone-helper.js';

const N = 12;
const nsName = (i: number): string => `ns${String(i).padStart(2, '0')}`;
const ZONE = [
  '$TTL 300',
  '@ SOA ns1 host 1 7200 3600 1209600 300',
  '@ NS ns1',
  'ns1 A 192.0.2.1',
  // in-domain glue (below the cut): mandatory
  ...Array.from({ length: N }, (_, i) => [`inside NS ${nsName(i)}.inside`, `${nsName(i)}.inside A 192.0.2.${10 + i}`, `${nsName(i)}.inside AAAA 2001:db8::${10 + i}`]).flat(),
  // sibling glue (authoritative names of the parent): optional
  ...Array.from({ length: N }, (_, i) => [`sibling NS ${nsName(i)}`, `${nsName(i)} A 192.0.2.${100 + i}`, `${nsName(i)} AAAA 2001:db8::${100 + i}`]).flat(),
  // one in-domain name that fits
  'small NS ns.small',
  'ns.small A 192.0.2.200',
].join('\n') + '\n';

function engine(): QueryEngine {
  const snap = zoneFromText('example.', ZONE);
  const store = new ZoneStore();
  store.publish(new ZoneSet(new Map([[snap.origin.key, { snapshot: snap, expired: false }]]), 1));
  return new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 10 });
}

function ask(e: QueryEngine, name: string, transport: 'udp' | 'tcp'): ParsedMessage {
  const out = e.handle(buildQuery({ name, type: 'A', id: 5 }), { transport, address: '127.0.0.1', port: 1 });
  if (!(out instanceof Uint8Array)) throw new Error('no synchronous answer');
  return parseMessage(out);
}

describe('referral glue under the 512-octet limit', () => {
  const e = engine();

  it('sets TC when in-domain glue does not fit (RFC 9471 §3 MUST)', () => {
    const m = ask(e, 'host.inside.example', 'udp');
    expect(m.flags & Flag.TC).toBe(Flag.TC);
    // Over TCP everything is there: NS RRset and every glue address, no TC.
    const t = ask(e, 'host.inside.example', 'tcp');
    expect(t.flags & Flag.TC).toBe(0);
    expect(t.authority.filter((r) => r.type === RRType.NS).length).toBe(N);
    expect(t.additional.filter((r) => r.type === RRType.A || r.type === RRType.AAAA).length).toBe(2 * N);
  });

  it('leaves out sibling glue that does not fit without TC (RFC 9471 §3, RFC 2181 §9)', () => {
    const m = ask(e, 'host.sibling.example', 'udp');
    expect(m.flags & Flag.TC).toBe(0);
    expect(m.authority.filter((r) => r.type === RRType.NS).length).toBe(N);
    expect(m.additional.length).toBeLessThan(2 * N);
  });

  it('sends a referral whose glue fits whole, without TC', () => {
    const m = ask(e, 'host.small.example', 'udp');
    expect(m.flags & Flag.TC).toBe(0);
    expect(m.additional.map((r) => r.owner)).toEqual(['ns.small.example.']);
  });
});
