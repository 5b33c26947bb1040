// Resolution outcomes over RFC 4592 §2.2.1's example zone and a zone with CNAME/DNAME chains and delegations.

import { describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { RRType, typeFromString } from '../../src/wire/constants.js';
import { resolve } from '../../src/query/resolve.js';
import type { Resolution } from '../../src/zone/resolution.js';
import { zoneFromText } from './zone-helper.js';

const RFC4592 = zoneFromText(
  'example.',
  `$TTL 3600
example.                 SOA   ns.example.com. hostmaster.example.com. 1 3600 600 86400 300
example.                 NS    ns.example.com.
example.                 NS    ns.example.net.
*.example.               TXT   "this is a wildcard"
*.example.               MX    10 host1.example.
sub.*.example.           TXT   "this is not a wildcard"
host1.example.           A     192.0.2.1
_ssh._tcp.host1.example. SRV   0 0 22 host1.example.
_ssh._tcp.host2.example. SRV   0 0 22 host2.example.
subdel.example.          NS    ns.example.com.
subdel.example.          NS    ns.example.net.
`,
);

function summary(r: Resolution): string {
  const chain = r.chain.map((l) => `${l.rrset.owner.toString()} ${l.rrset.type}`).join(',');
  const head = `${r.kind}${chain ? ` [${chain}]` : ''} ${r.name.toString()}`;
  switch (r.kind) {
    case 'answer':
      return `${head} ${r.rrsets.map((s) => `${s.owner.toString()}/${s.type}/${s.rdata.length}`).join(' ')}${r.wildcard ? ` wild=${r.wildcard.source.name.toString()}` : ''}`;
    case 'nodata':
      return `${head} node=${r.node.name.toString()}${r.wildcard ? ' wild' : ''}`;
    case 'nxdomain':
      return `${head} ce=${r.closestEncloser.name.toString()}`;
    case 'referral':
      return `${head} cut=${r.cut.name.toString()}`;
    case 'external':
    case 'loop':
    case 'yxdomain':
      return head;
  }
}

function q(zone: ReturnType<typeof zoneFromText>, name: string, type: string): string {
  return summary(resolve(zone, Name.parse(name), typeFromString(type)!));
}

describe('RFC 4592 §2.2.1 example queries', () => {
  it.each([
    ['host3.example.', 'MX', 'answer host3.example. host3.example./15/1 wild=*.example.'],
    ['host3.example.', 'A', 'nodata host3.example. node=*.example. wild'],
    ['foo.bar.example.', 'TXT', 'answer foo.bar.example. foo.bar.example./16/1 wild=*.example.'],
    ['host1.example.', 'MX', 'nodata host1.example. node=host1.example.'],
    ['sub.*.example.', 'MX', 'nodata sub.*.example. node=sub.*.example.'],
    ['_telnet._tcp.host1.example.', 'SRV', 'nxdomain _telnet._tcp.host1.example. ce=_tcp.host1.example.'],
    ['host.subdel.example.', 'A', 'referral host.subdel.example. cut=subdel.example.'],
    ['ghost.*.example.', 'MX', 'nxdomain ghost.*.example. ce=*.example.'],
    // RFC 4592 §2.2.2: the ENT _tcp.host1 exists, so no wildcard answer for it.
    ['_tcp.host1.example.', 'A', 'nodata _tcp.host1.example. node=_tcp.host1.example.'],
    ['HOST3.EXAMPLE.', 'MX', 'answer HOST3.EXAMPLE. HOST3.EXAMPLE./15/1 wild=*.example.'],
  ])('%s %s', (name, type, expected) => {
    expect(q(RFC4592, name, type)).toBe(expected);
  });

  it('DS at a delegation is answered by the parent side (RFC 4035 §3.1.4.1)', () => {
    expect(q(RFC4592, 'subdel.example.', 'DS')).toBe('nodata subdel.example. node=subdel.example.');
    expect(q(RFC4592, 'subdel.example.', 'NS')).toBe('referral subdel.example. cut=subdel.example.');
  });

  it('synthesized owners are the QNAME, not the wildcard', () => {
    const r = resolve(RFC4592, Name.parse('a.b.example.'), RRType.TXT);
    expect(r.kind).toBe('answer');
    if (r.kind === 'answer') expect(r.rrsets[0]!.owner.toString()).toBe('a.b.example.');
  });
});

const CHAINS = zoneFromText(
  'chain.test.',
  `$TTL 300
@        SOA ns1 host 7 3600 600 86400 60
@        NS  ns1
ns1      A   192.0.2.53
a        CNAME b
b        CNAME c
c        A   192.0.2.3
out      CNAME www.elsewhere.example.
loop1    CNAME loop2
loop2    CNAME loop1
d        DNAME target.chain.test.
x.target A   192.0.2.99
*.wild   CNAME c
deleg    NS  ns.deleg
ns.deleg A   192.0.2.54
toDeleg  CNAME host.deleg
`,
);

describe('chains, DNAME and delegations', () => {
  it.each([
    ['a.chain.test.', 'A', 'answer [a.chain.test. 5,b.chain.test. 5] c.chain.test. c.chain.test./1/1'],
    ['a.chain.test.', 'CNAME', 'answer a.chain.test. a.chain.test./5/1'],
    ['a.chain.test.', 'TXT', 'nodata [a.chain.test. 5,b.chain.test. 5] c.chain.test. node=c.chain.test.'],
    ['out.chain.test.', 'A', 'external [out.chain.test. 5] www.elsewhere.example.'],
    ['loop1.chain.test.', 'A', 'loop [loop1.chain.test. 5,loop2.chain.test. 5] loop1.chain.test.'],
    ['x.d.chain.test.', 'A', 'answer [d.chain.test. 39,x.d.chain.test. 5] x.target.chain.test. x.target.chain.test./1/1'],
    ['y.d.chain.test.', 'A', 'nxdomain [d.chain.test. 39,y.d.chain.test. 5] y.target.chain.test. ce=target.chain.test.'],
    ['d.chain.test.', 'DNAME', 'answer d.chain.test. d.chain.test./39/1'],
    ['q.wild.chain.test.', 'A', 'answer [q.wild.chain.test. 5] c.chain.test. c.chain.test./1/1'],
    ['toDeleg.chain.test.', 'A', 'referral [toDeleg.chain.test. 5] host.deleg.chain.test. cut=deleg.chain.test.'],
    ['ns.deleg.chain.test.', 'A', 'referral ns.deleg.chain.test. cut=deleg.chain.test.'],
    ['nope.chain.test.', 'A', 'nxdomain nope.chain.test. ce=chain.test.'],
  ])('%s %s', (name, type, expected) => {
    expect(q(CHAINS, name, type)).toBe(expected);
  });

  it('ANY returns one RRset, never the whole node (RFC 8482 §4.1)', () => {
    const r = resolve(CHAINS, Name.parse('chain.test.'), RRType.ANY);
    expect(r.kind).toBe('answer');
    if (r.kind === 'answer') expect(r.rrsets.map((s) => s.type)).toEqual([RRType.NS]);
  });
});

describe('CNAME chain cap (limits.max-cname-chain)', () => {
  // c0 → c1 → … → c13, then an A record: 14 CNAMEs.
  const links = Array.from({ length: 14 }, (_, i) => `c${i} CNAME c${i + 1}`).join('\n');
  const LONG = zoneFromText('long.test.', `$TTL 5\n@ SOA ns hm 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.53\n${links}\nc14 A 192.0.2.14\nd DNAME c0.long.test.\n`);
  const chainOf = (r: Resolution): string => `${r.kind} ${r.chain.length} ${r.name.toString()}`;

  it('follows at most maxChain redirections and answers the links collected so far, like a loop', () => {
    expect(chainOf(resolve(LONG, Name.parse('c11.long.test.'), RRType.A, { maxChain: 3 }))).toBe('answer 3 c14.long.test.');
    expect(chainOf(resolve(LONG, Name.parse('c10.long.test.'), RRType.A, { maxChain: 3 }))).toBe('loop 3 c13.long.test.');
    expect(chainOf(resolve(LONG, Name.parse('c0.long.test.'), RRType.A, { maxChain: 1 }))).toBe('loop 1 c1.long.test.');
  });

  it('counts a DNAME and its synthesized CNAME as one redirection', () => {
    // x.d → (DNAME) x.c0 (does not exist): one redirection, then NXDOMAIN.
    expect(chainOf(resolve(LONG, Name.parse('x.d.long.test.'), RRType.A, { maxChain: 1 }))).toBe('nxdomain 2 x.c0.long.test.');
    expect(chainOf(resolve(LONG, Name.parse('x.d.long.test.'), RRType.A, { maxChain: 0 }))).toBe('loop 0 x.d.long.test.');
  });

  it('defaults to 12: a chain of 12 CNAMEs is answered, the 13th is not followed', () => {
    expect(chainOf(resolve(LONG, Name.parse('c2.long.test.'), RRType.A))).toBe('answer 12 c14.long.test.');
    expect(chainOf(resolve(LONG, Name.parse('c1.long.test.'), RRType.A))).toBe('loop 12 c13.long.test.');
  });
});
