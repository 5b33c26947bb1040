// The flattening stage through the query engine with targets in served zones, and the Flattener with a scripted
// upstream and clock (cache, stale answers, SERVFAIL + EDE).

import { describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { RRClass, RRType, Rcode } from '../../src/wire/constants.js';
import type { Message } from '../../src/wire/message.js';
import { QueryEngine } from '../../src/query/pipeline.js';
import { FLATTEN_RESOLVE_OPTIONS, Flattener, needsFlattening } from '../../src/query/flatten.js';
import { resolve } from '../../src/query/resolve.js';
import type { UpstreamReply } from '../../src/flatten/upstream.js';
import type { FlatteningConfig } from '../../src/config/types.js';
import type { RR } from '../../src/zone/model.js';
import { NO_META } from '../../src/zone/model.js';
import { ask, shapedZone, show, storeOf } from './helpers.js';

const ZONE = `$TTL 3600
@ 3600 SOA ns1 hostmaster 1 7200 3600 1209600 1800
@ NS ns1
@ 3600 CNAME www
@ MX 10 mail
@ TXT "v=spf1 -all"
ns1 A 192.0.2.53
mail A 192.0.2.25
www 7200 A 192.0.2.80
www 7200 AAAA 2001:db8::80
chain 3600 CNAME hop1 ; cf_tags=cf-flatten-cname
hop1 600 CNAME hop2
hop2 1200 A 192.0.2.81
pre 900 CNAME chain
alias 3600 ALIAS www
wild 3600 CNAME x.wild ; cf_tags=cf-flatten-cname
*.wild 500 A 192.0.2.90
*.w2 3600 CNAME www ; cf_tags=cf-flatten-cname
loop1 CNAME loop2 ; cf_tags=cf-flatten-cname
loop2 CNAME loop1
plain 3600 CNAME www
nodata CNAME mail ; cf_tags=cf-flatten-cname
nx CNAME nothere ; cf_tags=cf-flatten-cname
cdn A 192.0.2.99 ; cf_tags=cf-proxied:true
tocdn 3600 CNAME cdn ; cf_tags=cf-flatten-cname
other 3600 CNAME host.other.test. ; cf_tags=cf-flatten-cname
long0 CNAME long1 ; cf_tags=cf-flatten-cname
long1 CNAME long2
long2 CNAME long3
long3 CNAME long4
long4 CNAME long5
long5 CNAME long6
long6 CNAME long7
long7 CNAME long8
long8 A 192.0.2.88
long9 CNAME long3 ; cf_tags=cf-flatten-cname
`;
const OTHER = `$TTL 3600
@ SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 60
@ NS ns1.example.com.
host 100 A 198.51.100.1
`;

const SOA_NEG = 'example.com. 1800 SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 1800';

function engine(flattenAll = false): QueryEngine {
  const store = storeOf(shapedZone('example.com.', ZONE, undefined, flattenAll), shapedZone('other.test.', OTHER));
  return new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 100 });
}

describe('flattening with targets in served zones', () => {
  const e = engine();

  it('apex CNAME: A and AAAA at the apex, TTL min(CNAME 3600, target 7200), no CNAME', async () => {
    expect((await ask(e, 'example.com.', 'A')).answer).toEqual(['example.com. 3600 A 192.0.2.80']);
    expect((await ask(e, 'example.com.', 'AAAA')).answer).toEqual(['example.com. 3600 AAAA 2001:db8::80']);
    // Again, from the caches.
    // The owner is written as a pointer to the question, so it keeps the query's case (RFC 1035 §7.1 / 0x20).
    const again = await ask(e, 'EXAMPLE.com.', 'A');
    expect(again.answer).toEqual(['EXAMPLE.com. 3600 A 192.0.2.80']);
    expect(again.aa).toBe(true);
  });

  it('the apex CNAME does not hide SOA, NS, MX, TXT', async () => {
    expect((await ask(e, 'example.com.', 'SOA')).answer).toEqual(['example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 1800']);
    expect((await ask(e, 'example.com.', 'NS')).answer).toEqual(['example.com. 3600 NS ns1.example.com.']);
    const mx = await ask(e, 'example.com.', 'MX');
    expect(mx.answer).toEqual(['example.com. 3600 MX 10 mail.example.com.']);
    expect(mx.additional).toEqual(['mail.example.com. 3600 A 192.0.2.25']);
    expect((await ask(e, 'example.com.', 'TXT')).answer).toEqual(['example.com. 3600 TXT "v=spf1 -all"']);
  });

  it('a chain through further CNAMEs: TTL is the minimum over the chain and the final RRset', async () => {
    expect((await ask(e, 'chain.example.com.', 'A')).answer).toEqual(['chain.example.com. 600 A 192.0.2.81']);
  });

  it('a normal CNAME in front of a flattened one keeps its CNAME', async () => {
    expect((await ask(e, 'pre.example.com.', 'A')).answer).toEqual(['pre.example.com. 900 CNAME chain.example.com.', 'chain.example.com. 600 A 192.0.2.81']);
  });

  it('ALIAS records are flattened; plain CNAMEs are not', async () => {
    expect((await ask(e, 'alias.example.com.', 'A')).answer).toEqual(['alias.example.com. 3600 A 192.0.2.80']);
    expect((await ask(e, 'plain.example.com.', 'A')).answer).toEqual(['plain.example.com. 3600 CNAME www.example.com.', 'www.example.com. 7200 A 192.0.2.80']);
  });

  it('wildcard targets and wildcard flattened CNAMEs', async () => {
    expect((await ask(e, 'wild.example.com.', 'A')).answer).toEqual(['wild.example.com. 500 A 192.0.2.90']);
    expect((await ask(e, 'foo.w2.example.com.', 'AAAA')).answer).toEqual(['foo.w2.example.com. 3600 AAAA 2001:db8::80']);
  });

  it('a flattened CNAME to a proxied name gets the pool at TTL 300, and the HTTPS record', async () => {
    expect((await ask(e, 'tocdn.example.com.', 'A')).answer).toEqual(['tocdn.example.com. 300 A 203.0.113.1', 'tocdn.example.com. 300 A 203.0.113.2']);
    expect((await ask(e, 'tocdn.example.com.', 'HTTPS')).answer).toEqual([
      'tocdn.example.com. 300 HTTPS 1 . alpn="h3,h2" ipv4hint=203.0.113.1,203.0.113.2 ipv6hint=2001:db8:cf::1,2001:db8:cf::2',
    ]);
  });

  it('targets in another served zone', async () => {
    expect((await ask(e, 'other.example.com.', 'A')).answer).toEqual(['other.example.com. 100 A 198.51.100.1']);
  });

  it('no data of that type or NXDOMAIN target: NODATA at QNAME with our SOA', async () => {
    for (const [name, type] of [['nodata.example.com.', 'AAAA'], ['nx.example.com.', 'A'], ['other.example.com.', 'AAAA']] as const) {
      const r = await ask(e, name, type);
      expect({ rcode: r.rcode, answer: r.answer, authority: r.authority }).toEqual({ rcode: Rcode.NOERROR, answer: [], authority: [SOA_NEG] });
    }
  });

  it('other types at a flattened non-apex name answer from its own (empty) data', async () => {
    const r = await ask(e, 'chain.example.com.', 'TXT');
    expect({ rcode: r.rcode, answer: r.answer, authority: r.authority }).toEqual({ rcode: Rcode.NOERROR, answer: [], authority: [SOA_NEG] });
    // The flattened CNAME itself is never shown: a CNAME query gets NODATA too.
    const c = await ask(e, 'chain.example.com.', 'CNAME');
    expect({ rcode: c.rcode, answer: c.answer, authority: c.authority }).toEqual({ rcode: Rcode.NOERROR, answer: [], authority: [SOA_NEG] });
  });

  it('loops and chains longer than max-chain: SERVFAIL with EDE', async () => {
    const loop = await ask(e, 'loop1.example.com.', 'A');
    expect({ rcode: loop.rcode, answer: loop.answer, ede: loop.ede }).toEqual({
      rcode: Rcode.SERVFAIL,
      answer: [],
      ede: '0 CNAME loop or over-long chain in zone example.com. while flattening loop2.example.com.',
    });
    // long0 → long8: the flattened CNAME plus 7 more links = 8 hops, allowed.
    expect((await ask(e, 'long0.example.com.', 'A')).answer).toEqual(['long0.example.com. 3600 A 192.0.2.88']);
    const long = new QueryEngine(storeOf(shapedZone('example.com.', ZONE)), {
      udpSize: 1232, identity: {}, answerCacheEntries: 0, flattening: { resolvers: [], timeoutMs: 100, maxChain: 6, staleTtl: 60 },
    });
    // long0: 8 hops > 6.
    const r = await ask(long, 'long0.example.com.', 'A');
    expect({ rcode: r.rcode, ede: r.ede }).toEqual({ rcode: Rcode.SERVFAIL, ede: '0 CNAME chain longer than max-chain (6) while flattening long1.example.com.' });
    // long9 → long3 … long8: exactly 6 hops.
    expect((await ask(long, 'long9.example.com.', 'A')).answer).toEqual(['long9.example.com. 3600 A 192.0.2.88']);
  });

  it('external targets without resolvers: SERVFAIL with EDE 22', async () => {
    const z = shapedZone('ext.test.', `$TTL 300
@ SOA ns1 h 1 1 1 1 1
@ NS ns1
ns1 A 192.0.2.1
@ CNAME external-origin.example.
`);
    const r = await ask(new QueryEngine(storeOf(z), { udpSize: 1232, identity: {}, answerCacheEntries: 10 }), 'ext.test.', 'A');
    expect({ rcode: r.rcode, answer: r.answer, ede: r.ede }).toEqual({ rcode: Rcode.SERVFAIL, answer: [], ede: '22 flattening external-origin.example.: no flattening resolvers are configured' });
  });

  it('flatten-all-cnames flattens plain CNAMEs too', async () => {
    const all = engine(true);
    expect((await ask(all, 'plain.example.com.', 'A')).answer).toEqual(['plain.example.com. 3600 A 192.0.2.80']);
  });
});

// ---------------------------------------------------------------------------------------------------------------

const EXT_ZONE = `$TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 1800
@ NS ns1
ns1 A 192.0.2.53
@ 3600 CNAME external-origin.test.
`;

function rr(owner: string, type: number, ttl: number, rdata: number[]): RR {
  return { owner: Name.parse(owner), type, class: RRClass.IN, ttl, rdata: Uint8Array.from(rdata), meta: NO_META };
}

function reply(answer: RR[], rcode = 0): UpstreamReply {
  const msg: Message = { id: 1, opcode: 0, flags: 0x8180, rcode, question: [], answer, authority: [], additional: [] };
  return { kind: 'ok', message: msg, server: 'test' };
}

const CFG: FlatteningConfig = { resolvers: [], timeoutMs: 100, maxChain: 8, staleTtl: 3600 };

describe('Flattener with a scripted upstream', () => {
  const zone = shapedZone('example.com.', EXT_ZONE);
  const store = storeOf(zone);
  const qname = Name.parse('example.com.');

  function setup() {
    let now = 1_000_000;
    const script: (UpstreamReply | Error)[] = [];
    const asked: string[] = [];
    const f = new Flattener(store, {
      config: CFG,
      now: () => now,
      upstream: async (name, type) => {
        asked.push(`${name.toString()} ${type}`);
        const next = script.shift();
        if (next === undefined) throw new Error('unexpected upstream query');
        if (next instanceof Error) throw next;
        return next;
      },
    });
    const run = (type: number = RRType.A) => {
      const r = resolve(zone, qname, type, FLATTEN_RESOLVE_OPTIONS);
      if (!needsFlattening(r)) throw new Error('not flattened');
      return f.shape(r, qname, type);
    };
    return { f, script, asked, run, advance: (ms: number) => (now += ms), now: () => now };
  }

  function summary(s: Awaited<ReturnType<ReturnType<typeof setup>['run']>>): string {
    if (!s.res) return `SERVFAIL ede=${s.ede?.code} ${s.ede?.text}`;
    const body = s.res.kind === 'answer' ? s.res.rrsets.map((x) => x.rdata.map((d) => show({ owner: x.owner, ttl: x.ttl, type: x.type, rdata: d })).join(',')).join(';') : s.res.kind;
    return `${body}${s.ede ? ` ede=${s.ede.code}` : ''}`;
  }

  it('caches upstream data for its TTL: a fresh hit is synchronous', async () => {
    const t = setup();
    t.script.push(reply([rr('external-origin.test.', RRType.A, 7200, [192, 0, 2, 1])]));
    const first = t.run();
    expect(first).toBeInstanceOf(Promise);
    const s = await first;
    expect(summary(s)).toBe('example.com. 3600 A 192.0.2.1');
    // Reused until the whole seconds left of the upstream TTL would change (see the countdown test below).
    expect(s.cacheUntil).toBe(1_000_000 + 1000);
    const hit = t.run();
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toBe(s);
    expect(t.asked).toEqual(['external-origin.test. 1']);
  });

  it('counts the upstream TTL down as a resolver cache would, capped by the CNAME TTL; 0 only when upstream said 0', async () => {
    const t = setup();
    t.script.push(reply([rr('external-origin.test.', RRType.A, 300, [192, 0, 2, 1])]));
    // The apex CNAME's TTL is 3600, so upstream's 300 decides.
    expect(summary(await t.run())).toBe('example.com. 300 A 192.0.2.1');
    t.advance(100_000);
    expect(summary((await t.run()) as Awaited<ReturnType<typeof t.run>>)).toBe('example.com. 200 A 192.0.2.1');
    t.advance(199_400);
    // 0.6 s left: still 1, never 0 while the data is fresh.
    expect(summary(await t.run())).toBe('example.com. 1 A 192.0.2.1');
    expect(t.asked.length).toBe(1);
    t.advance(600);
    t.script.push(reply([rr('external-origin.test.', RRType.A, 0, [192, 0, 2, 3])]));
    expect(summary(await t.run())).toBe('example.com. 0 A 192.0.2.3');
  });

  it('a CNAME TTL below the upstream TTL caps the countdown', async () => {
    const zone2 = shapedZone('example.net.', EXT_ZONE.replace('@ 3600 CNAME', '@ 60 CNAME'));
    let now = 5_000_000;
    const f = new Flattener(storeOf(zone2), { config: CFG, now: () => now, upstream: async () => reply([rr('external-origin.test.', RRType.A, 300, [192, 0, 2, 1])]) });
    const q = Name.parse('example.net.');
    const run = async (): Promise<string> => {
      const r = resolve(zone2, q, RRType.A, FLATTEN_RESOLVE_OPTIONS);
      if (!needsFlattening(r)) throw new Error('not flattened');
      return summary(await f.shape(r, q, RRType.A));
    };
    expect(await run()).toBe('example.net. 60 A 192.0.2.1');
    now += 200_000;
    expect(await run()).toBe('example.net. 60 A 192.0.2.1');
    now += 50_000;
    expect(await run()).toBe('example.net. 50 A 192.0.2.1');
  });

  it('follows CNAMEs in the reply, and CNAME-only replies into a further question', async () => {
    const t = setup();
    t.script.push(reply([rr('external-origin.test.', RRType.CNAME, 1000, [2, 0x6c, 0x62, 4, 0x74, 0x65, 0x73, 0x74, 0])]));
    t.script.push(reply([rr('lb.test.', RRType.CNAME, 900, [3, 0x6c, 0x62, 0x32, 4, 0x74, 0x65, 0x73, 0x74, 0]), rr('lb2.test.', RRType.A, 2000, [192, 0, 2, 7])]));
    expect(summary(await t.run())).toBe('example.com. 900 A 192.0.2.7');
    expect(t.asked).toEqual(['external-origin.test. 1', 'lb.test. 1']);
  });

  it('expired data and a failing upstream: the stale answer (TTL 30, EDE 3), background retry later', async () => {
    const t = setup();
    t.script.push(reply([rr('external-origin.test.', RRType.A, 60, [192, 0, 2, 1])]));
    expect(summary(await t.run())).toBe('example.com. 60 A 192.0.2.1');
    t.advance(61_000);
    t.script.push({ kind: 'fail', reason: 'timeout', detail: 'no answer within 100 ms' });
    const stale = await t.run();
    expect(summary(stale)).toBe('example.com. 30 A 192.0.2.1 ede=3');
    expect(stale.cacheUntil).toBe(0);
    // Within the retry interval: stale at once, no upstream question.
    const again = t.run();
    expect(again).not.toBeInstanceOf(Promise);
    expect(summary(again as Awaited<typeof again>)).toBe('example.com. 30 A 192.0.2.1 ede=3');
    expect(t.asked.length).toBe(2);
    // After it: still stale at once, and a background refresh that succeeds.
    t.advance(31_000);
    t.script.push(reply([rr('external-origin.test.', RRType.A, 60, [192, 0, 2, 2])]));
    const bg = t.run();
    expect(bg).not.toBeInstanceOf(Promise);
    expect(t.asked.length).toBe(3);
    await new Promise((r) => setTimeout(r, 0));
    expect(summary(await t.run())).toBe('example.com. 60 A 192.0.2.2');
    // Metrics: three upstream questions, one failed; three stale answers.
    expect([t.f.upstreamQueries, t.f.upstreamErrors, t.f.staleAnswers]).toEqual([3, 1, 3]);
  });

  it('upstream SERVFAIL with nothing cached: SERVFAIL with EDE 22; network errors EDE 23', async () => {
    const t = setup();
    t.script.push({ kind: 'fail', reason: 'servfail', detail: '127.0.0.1:5300: rcode 2' });
    expect(summary(await t.run())).toBe('SERVFAIL ede=22 flattening external-origin.test.: 127.0.0.1:5300: rcode 2');
    t.script.push(new Error('ECONNREFUSED'));
    expect(summary(await t.run())).toBe('SERVFAIL ede=23 flattening external-origin.test.: ECONNREFUSED');
  });

  it('stale data older than stale-ttl is not served', async () => {
    const t = setup();
    t.script.push(reply([rr('external-origin.test.', RRType.A, 60, [192, 0, 2, 1])]));
    await t.run();
    t.advance(60_000 + 3_600_000 + 1);
    t.script.push({ kind: 'fail', reason: 'timeout', detail: 'x' });
    expect(summary(await t.run())).toBe('SERVFAIL ede=22 flattening external-origin.test.: x');
  });

  it('NXDOMAIN and empty replies are NODATA; concurrent queries share one upstream question', async () => {
    const t = setup();
    t.script.push(reply([], Rcode.NXDOMAIN));
    const [a, b] = await Promise.all([t.run(), t.run()]);
    expect(summary(a)).toBe('nodata');
    expect(b).toEqual(a);
    expect(t.asked).toEqual(['external-origin.test. 1']);
    t.script.push(reply([]));
    expect(summary(await t.run(RRType.AAAA))).toBe('nodata');
  });
});
