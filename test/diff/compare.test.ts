// Unit tests of the differential comparator and its documented-difference rules, on synthetic responses.

import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../helpers/dnsmsg.js';
import { compareMessages, evaluate, QueryBuilder, type DiffQuery, type Outcome } from './harness.js';

function query(name: string, type: string): DiffQuery {
  const qb = new QueryBuilder();
  qb.add({ name, type });
  return qb.out[0]!;
}

function resp(q: DiffQuery, p: Omit<dnsPacket.Packet, 'id' | 'type'> & { qname?: string }): Buffer {
  const { qname, ...rest } = p;
  const qs = parseMessage(q.bytes).question[0]!;
  return dnsPacket.encode({
    id: q.id,
    type: 'response',
    questions: [{ name: (qname ?? qs.name).replace(/\.$/, ''), type: 'A', class: 'IN' }],
    ...rest,
  });
}

const AA = dnsPacket.AUTHORITATIVE_ANSWER;
const www = (owner: string, ttl = 300, data = '192.0.2.1'): dnsPacket.Answer => ({ name: owner, type: 'A', class: 'IN', ttl, data });
const apexNs: dnsPacket.Answer = { name: 'example.org', type: 'NS', class: 'IN', ttl: 3600, data: 'ns1.example.org' };
const glue: dnsPacket.Answer = { name: 'ns1.example.org', type: 'A', class: 'IN', ttl: 3600, data: '192.0.2.53' };

describe('comparator', () => {
  const q = query('www.example.org', 'A');

  it('ignores owner case and record order, but not TTL or RDATA', () => {
    const a = parseMessage(resp(q, { flags: AA, answers: [www('www.example.org'), www('www.example.org', 300, '192.0.2.2')] }));
    const b = parseMessage(resp(q, { flags: AA, answers: [www('WWW.Example.ORG', 300, '192.0.2.2'), www('www.example.org')] }));
    expect(compareMessages(q, a, b)).toEqual([]);
    const c = parseMessage(resp(q, { flags: AA, answers: [www('www.example.org', 301), www('www.example.org', 300, '192.0.2.2')] }));
    expect(compareMessages(q, a, c)).toEqual([
      { field: 'answer', a: 'only here: www.example.org. 300 IN A 192.0.2.1', b: 'only here: www.example.org. 301 IN A 192.0.2.1' },
    ]);
  });

  it('compares the question echo case-sensitively and every header bit', () => {
    const a = parseMessage(resp(q, { flags: AA, answers: [] }));
    const b = parseMessage(resp(q, { flags: AA | dnsPacket.RECURSION_AVAILABLE, answers: [], qname: 'WWW.example.org' }));
    expect(compareMessages(q, a, b)).toEqual([
      { field: 'flags.RA', a: 'false', b: 'true' },
      { field: 'question', a: 'www.example.org. 1 1', b: 'WWW.example.org. 1 1' },
    ]);
  });
});

describe('documented rules', () => {
  const q = query('www.example.org', 'A');
  const run = (a: Buffer, b: Buffer): ReturnType<typeof evaluate> => evaluate([{ query: q, a, b } satisfies Outcome]);

  it('accepts an apex NS RRset in the authority section of a positive answer, and its glue', () => {
    const r = run(
      resp(q, { flags: AA, answers: [www('www.example.org')] }),
      resp(q, { flags: AA, answers: [www('www.example.org')], authorities: [apexNs], additionals: [glue] }),
    );
    expect(r.unexplained).toEqual([]);
    expect([...r.explained.entries()].sort()).toEqual([['additional-optional', 1], ['authority-ns-optional', 1]]);
  });

  it('rejects additional records that contradict the other side or are not targets', () => {
    const a = resp(q, { flags: AA, answers: [www('www.example.org')], authorities: [apexNs], additionals: [glue] });
    const wrongGlue = { ...glue, data: '192.0.2.54' } as dnsPacket.Answer;
    expect(run(a, resp(q, { flags: AA, answers: [www('www.example.org')], authorities: [apexNs], additionals: [wrongGlue] })).unexplained.map((u) => u.d.field)).toEqual(['additional']);
    const stray = { ...glue, name: 'stray.example.org' } as dnsPacket.Answer;
    expect(run(a, resp(q, { flags: AA, answers: [www('www.example.org')], authorities: [apexNs], additionals: [glue, stray] })).unexplained.map((u) => u.d.field)).toEqual(['additional']);
  });

  it('does not excuse a missing answer, a different rcode or a missing AA bit', () => {
    const a = resp(q, { flags: AA, answers: [www('www.example.org')] });
    expect(run(a, resp(q, { flags: AA, answers: [] })).unexplained.map((u) => u.d.field)).toEqual(['answer']);
    expect(run(a, resp(q, { flags: AA | 3, answers: [www('www.example.org')] })).unexplained.map((u) => u.d.field)).toEqual(['rcode']);
    expect(run(a, resp(q, { flags: 0, answers: [www('www.example.org')] })).unexplained.map((u) => u.d.field)).toEqual(['flags.AA']);
  });

  it('accepts A/AAAA/SVCB of in-zone SVCB/HTTPS TargetNames as optional additional data (RFC 9460 §4.1), and nothing else', () => {
    const hq = query('alias.example.org', 'HTTPS');
    // HTTPS RDATA: SvcPriority, uncompressed TargetName (RFC 9460 §2.2).
    const https = (owner: string, priority: number, target: string): dnsPacket.Answer => {
      const labels = target === '.' ? [] : target.replace(/\.$/, '').split('.');
      const name = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
      return { name: owner, type: 'UNKNOWN_65', class: 'IN', ttl: 300, data: Buffer.concat([Buffer.from([0, priority]), name]) } as unknown as dnsPacket.Answer;
    };
    const alias = https('alias.example.org', 0, 'svc.example.org');
    const svc = https('svc.example.org', 1, '.');
    const r = (a: Buffer, b: Buffer): ReturnType<typeof evaluate> => evaluate([{ query: hq, a, b } satisfies Outcome]);
    const bare = resp(hq, { flags: AA, answers: [alias] });
    // The alias target's own HTTPS record (ServiceMode ".": the owner is the target) and its address.
    const full = resp(hq, { flags: AA, answers: [alias], additionals: [svc, www('svc.example.org')] });
    const res = r(bare, full);
    expect(res.unexplained).toEqual([]);
    expect([...res.explained.keys()]).toEqual(['svcb-additional-optional']);
    // An address for a name that is no TargetName is not excused.
    expect(r(bare, resp(hq, { flags: AA, answers: [alias], additionals: [www('other.example.org')] })).unexplained.map((u) => u.d.field)).toEqual(['additional']);
    // AliasMode "." names no target: nothing is justified.
    const none = https('alias.example.org', 0, '.');
    expect(r(resp(hq, { flags: AA, answers: [none] }), resp(hq, { flags: AA, answers: [none], additionals: [www('alias.example.org')] })).unexplained.map((u) => u.d.field)).toEqual(['additional']);
  });

  it('treats an answer to a QR=1 message as an unexplained difference', () => {
    const qb = new QueryBuilder();
    qb.add({ name: 'www.example.org', type: 'A', flags: 0x8000 }, { tags: ['noreply'] });
    const nq = qb.out[0]!;
    expect(evaluate([{ query: nq, a: null, b: null }]).matched).toBe(1);
    const r = evaluate([{ query: nq, a: null, b: resp(nq, { flags: 1 }) }]);
    expect(r.unexplained.map((u) => `${u.d.field} ${u.d.a} ${u.d.b}`)).toEqual(['presence no reply replied']);
  });
});
