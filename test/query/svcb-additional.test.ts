// SVCB/HTTPS additional-section processing (RFC 9460 §4.2): AliasMode chains bring the target's RRset of the same
// type and its addresses, ServiceMode brings addresses, bounded, loop-free, without duplicates, and dropped before
// TC when the answer is too large.

import { describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { Flag, RRType } from '../../src/wire/constants.js';
import { ZoneSet, ZoneStore } from '../../src/zone/store.js';
import { QueryEngine } from '../../src/query/pipeline.js';
import { buildQuery } from '../helpers/dig.js';
import { parseMessage, type ParsedMessage } from '../helpers/dnsmsg.js';
import { zoneFromText } from './zone-helper.js';

const ZONE = `$TTL 300
@ SOA ns1 host 1 7200 3600 1209600 600
@ NS ns1
ns1 A 192.0.2.53
; apex alias -> alias -> service (TargetName "." = its owner) with addresses at every step
@ HTTPS 0 cdn
cdn HTTPS 0 edge
cdn A 192.0.2.10
edge HTTPS 1 . alpn=h2
edge A 192.0.2.20
edge AAAA 2001:db8::20
; ServiceMode with an in-zone target, and one with a target outside the zone
svc HTTPS 1 pool alpn=h3
svc HTTPS 2 pool.example.net.
pool A 192.0.2.30
pool AAAA 2001:db8::30
; an alias loop, an alias to a name with no HTTPS, an alias out of the zone, AliasMode "." (no service)
loop1 HTTPS 0 loop2
loop2 HTTPS 0 loop1
loop2 A 192.0.2.40
bare HTTPS 0 plain
plain A 192.0.2.50
out HTTPS 0 cdn.example.net.
none HTTPS 0 .
none A 192.0.2.60
; SVCB of another type is not followed by an HTTPS alias (RFC 9460 §2.4.2: the follow-up query is for the same type)
_dns SVCB 0 doh
doh SVCB 1 . alpn=h2
doh HTTPS 1 . alpn=h3
doh A 192.0.2.70
; a target below a zone cut is not ours to add
del NS ns.del
ns.del A 192.0.2.80
occl HTTPS 0 x.del
; an alias chain long enough to hit the bound
c0 HTTPS 0 c1
${Array.from({ length: 12 }, (_, i) => `c${i + 1} HTTPS 0 c${i + 2}\nc${i + 1} A 192.0.2.${100 + i + 1}`).join('\n')}
; many addresses at the target: additional data must give way before TC
big HTTPS 1 fat
${Array.from({ length: 60 }, (_, i) => `fat AAAA 2001:db8::${(i + 1).toString(16)}`).join('\n')}
`;

const origin = Name.parse('example.');
const store = new ZoneStore();
store.publish(new ZoneSet(new Map([[origin.key, { snapshot: zoneFromText('example.', ZONE), expired: false }]]), 1));
const engine = new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 0 });

function ask(name: string, type: string, udpSize = 1232, transport: 'udp' | 'tcp' = 'udp'): ParsedMessage {
  const out = engine.handle(buildQuery({ name, type, id: 3, edns: { udpSize, do: false } }), { transport, address: '127.0.0.1', port: 1 });
  return parseMessage(out as Uint8Array);
}
const TYPE_NAMES: Readonly<Record<number, string>> = { [RRType.A]: 'A', [RRType.AAAA]: 'AAAA', [RRType.HTTPS]: 'HTTPS', [RRType.SVCB]: 'SVCB' };
/** "owner TYPE" per RRset in the additional section, in order (one entry per RRset). */
function additional(m: ParsedMessage): string[] {
  const out: string[] = [];
  for (const r of m.additional) {
    const k = `${r.owner.toLowerCase()} ${TYPE_NAMES[r.type] ?? r.type}`;
    if (!out.includes(k)) out.push(k);
  }
  return out;
}

describe('SVCB/HTTPS additional data (RFC 9460 §4.2)', () => {
  it('AliasMode chain: each target HTTPS RRset and its addresses, up to the ServiceMode "." owner', () => {
    expect(additional(ask('example', 'HTTPS'))).toEqual(['cdn.example. HTTPS', 'edge.example. HTTPS', 'edge.example. A', 'edge.example. AAAA', 'cdn.example. A']);
  });
  it('a query in the middle of the chain starts there', () => {
    expect(additional(ask('cdn.example', 'HTTPS'))).toEqual(['edge.example. HTTPS', 'edge.example. A', 'edge.example. AAAA']);
  });
  it('ServiceMode "." brings the owner\'s own addresses', () => {
    expect(additional(ask('edge.example', 'HTTPS'))).toEqual(['edge.example. A', 'edge.example. AAAA']);
  });
  it('ServiceMode brings the in-zone target\'s addresses once; the out-of-zone target nothing', () => {
    expect(additional(ask('svc.example', 'HTTPS'))).toEqual(['pool.example. A', 'pool.example. AAAA']);
  });
  it('an alias loop ends, without repeating the answer RRset or any other', () => {
    const m = ask('loop1.example', 'HTTPS');
    expect(m.answer.map((r) => r.owner)).toEqual(['loop1.example.']);
    expect(additional(m)).toEqual(['loop2.example. HTTPS', 'loop2.example. A']);
    expect(m.additional.length).toBe(2);
  });
  it('alias to a name without HTTPS: its addresses only; out of zone and AliasMode ".": nothing', () => {
    expect(additional(ask('bare.example', 'HTTPS'))).toEqual(['plain.example. A']);
    expect(additional(ask('out.example', 'HTTPS'))).toEqual([]);
    expect(additional(ask('none.example', 'HTTPS'))).toEqual([]);
  });
  it('SVCB follows SVCB, not HTTPS', () => {
    expect(additional(ask('_dns.example', 'SVCB'))).toEqual(['doh.example. SVCB', 'doh.example. A']);
  });
  it('targets below a zone cut are not added', () => {
    expect(additional(ask('occl.example', 'HTTPS'))).toEqual([]);
  });
  it('a long alias chain is followed at most 8 steps', () => {
    const got = additional(ask('c0.example', 'HTTPS'));
    expect(got.filter((x) => x.endsWith('HTTPS'))).toEqual(Array.from({ length: 8 }, (_, i) => `c${i + 1}.example. HTTPS`));
  });
  it('additional data is dropped, not truncated, when the answer is too large (RFC 2181 §9)', () => {
    const full = ask('big.example', 'HTTPS', 4096, 'tcp');
    expect(full.additional.filter((r) => r.type === RRType.AAAA).length).toBe(60);
    const small = ask('big.example', 'HTTPS', 512);
    expect(small.flags & Flag.TC).toBe(0);
    expect(small.answer.length).toBe(1);
    expect(small.additional.filter((r) => r.type === RRType.AAAA).length).toBe(0);
  });
});
