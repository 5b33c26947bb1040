// Differential-testing harness: generate queries from fixture zones, send each to a reference server (Knot) and
// a candidate (apexdns), normalise and compare the responses, and explain differences only through the table of
// documented, implementation-defined rules below.

import { buildQuery, queryTcp, queryUdpOrTimeout, type QuerySpec } from '../helpers/dig.js';
import { parseMessage, rrText, type ParsedMessage, type ParsedRR } from '../helpers/dnsmsg.js';
import type { FixtureZone } from './fixture-zone.js';
import { prng } from '../helpers/prng.js';

// ---------------------------------------------------------------------------------------------------------------
// Queries

export type Tag =
  | 'malformed' // not a well-formed single-question query
  | 'qdcount' // QDCOUNT != 1
  | 'opcode' // opcode other than QUERY
  | 'noreply' // QR=1: neither server may answer (RFC 1035 §4.1.1: QR=1 is a response)
  | 'xfr-udp' // AXFR/IXFR over UDP
  | 'chaos' // CHAOS class
  | 'qclass-any' // QCLASS * (RFC 1035 §3.2.5)
  | 'meta-qtype' // meta/pseudo QTYPE (RFC 6895 §3.1)
  | 'cross-zone' // CNAME chain into another zone both servers serve
  | 'dname-overflow' // DNAME substitution longer than 255 octets (RFC 6672 §2.2)
  | 'nonroot-opt' // OPT with a non-root owner (RFC 6891 §6.1.2)
  | 'cname-loop'; // QNAME starts a CNAME loop (a zone error, RFC 1034 §3.6.2)

export interface DiffQuery {
  /** Human-readable description, shown in failure reports. */
  readonly label: string;
  readonly bytes: Buffer;
  readonly transport: 'udp' | 'tcp';
  readonly id: number;
  readonly qtype: number | undefined;
  readonly qclass: number | undefined;
  /** Client's EDNS payload size, undefined without EDNS. */
  readonly ednsSize: number | undefined;
  /** Flags word sent. */
  readonly flags: number;
  readonly tags: ReadonlySet<Tag>;
}

const TYPE_NUM: Readonly<Record<string, number>> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DNAME: 39, OPT: 41,
  DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, SVCB: 64, HTTPS: 65,
  IXFR: 251, AXFR: 252, ANY: 255, CAA: 257,
};

function typeNum(t: string): number {
  const n = TYPE_NUM[t];
  if (n !== undefined) return n;
  const m = /^TYPE(\d+)$/.exec(t);
  if (m) return Number(m[1]);
  throw new Error(`harness: unknown type ${t}`);
}

interface EdnsVariant {
  readonly size: number | undefined;
  readonly do: boolean;
}

const EDNS_VARIANTS: readonly EdnsVariant[] = [
  { size: undefined, do: false },
  { size: 1232, do: false },
  { size: 4096, do: true },
  { size: 512, do: false },
  { size: 1232, do: true },
  { size: 512, do: true },
  { size: 4096, do: false },
];

const BASE_TYPES = ['A', 'AAAA', 'MX', 'TXT', 'NS', 'SOA', 'CNAME', 'DS', 'SRV', 'ANY'] as const;

export class QueryBuilder {
  private nextId = 1;
  readonly out: DiffQuery[] = [];
  private readonly rnd: () => number;
  /**
   * When set, every well-formed query (no byte mutation) is also sent in its other DNSSEC OK form: DO flipped,
   * and a query without EDNS gets a twin with EDNS 1232 and DO=1 (RFC 3225 §3).
   */
  doTwins = false;

  constructor(seed = 0x5eed) {
    this.rnd = prng(seed);
  }

  /** Randomise letter case (DNS 0x20). */
  mixCase(name: string): string {
    let s = '';
    for (const c of name) s += /[a-z]/i.test(c) && this.rnd() < 0.5 ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c;
    return s;
  }

  add(
    spec: Omit<QuerySpec, 'id'>,
    o: { transport?: 'udp' | 'tcp'; tags?: readonly Tag[]; label?: string; mutate?: (b: Buffer) => Buffer } = {},
  ): void {
    const id = this.nextId++;
    let bytes = buildQuery({ ...spec, id });
    if (o.mutate) bytes = o.mutate(bytes);
    const transport = o.transport ?? 'udp';
    const e = spec.edns;
    const cls = typeof spec.class === 'number' ? spec.class : ({ IN: 1, CH: 3, HS: 4, ANY: 255 } as const)[spec.class ?? 'IN'];
    const qtype = typeof spec.type === 'number' ? spec.type : typeNum(spec.type.toUpperCase());
    const desc =
      o.label ??
      `${spec.name} ${typeof spec.type === 'number' ? `TYPE${spec.type}` : spec.type}${cls !== 1 ? ` class=${cls}` : ''}` +
        `${e ? ` edns=${e.udpSize}${e.do ? ' +do' : ''}${e.version ? ` v${e.version}` : ''}` : ' noedns'}` +
        `${spec.flags ? ` flags=0x${spec.flags.toString(16)}` : ''}`;
    this.out.push({
      label: `[${transport.toUpperCase()} #${id}] ${desc}`,
      bytes,
      transport,
      id,
      qtype,
      qclass: cls,
      ednsSize: e?.udpSize,
      flags: spec.flags ?? 0,
      tags: new Set(o.tags ?? []),
    });
    if (this.doTwins && o.mutate === undefined && o.label === undefined) {
      const twin: QuerySpec['edns'] = e === undefined ? { udpSize: 1232, do: true } : { ...e, do: !e.do };
      this.doTwins = false;
      this.add({ ...spec, edns: twin }, { ...o, label: undefined });
      this.doTwins = true;
    }
  }

  private variant(i: number): EdnsVariant {
    return EDNS_VARIANTS[i % EDNS_VARIANTS.length]!;
  }

  private edns(v: EdnsVariant): QuerySpec['edns'] {
    return v.size === undefined ? undefined : { udpSize: v.size, do: v.do };
  }

  /** Every owner × (base types ∪ types present), nonexistent names below each owner, 0x20 and EDNS variants. */
  zoneQueries(z: FixtureZone, tagsFor: (owner: string) => readonly Tag[] = () => []): void {
    let i = 0;
    for (const owner of z.owners) {
      const tags = tagsFor(owner);
      const present = z.typesAt.get(owner) ?? [];
      const types = [...new Set([...BASE_TYPES, ...present.filter((t) => t in TYPE_NUM || /^TYPE\d+$/.test(t))])];
      for (const t of types) {
        const v = this.variant(i++);
        const name = i % 3 === 0 ? this.mixCase(owner) : owner;
        this.add({ name, type: t, edns: this.edns(v), flags: i % 11 === 0 ? 0x0100 : 0 }, { tags });
        if (i % 7 === 0) this.add({ name, type: t, edns: this.edns(v) }, { transport: 'tcp', tags });
      }
      // A name that does not exist directly below every owner (wildcard match, NXDOMAIN, or below a cut).
      const below = owner.startsWith('*.') ? `nx-under.${owner.slice(2)}` : `nx-under.${owner}`;
      this.add({ name: this.mixCase(below), type: 'A', edns: this.edns(this.variant(i++)) });
      this.add({ name: below, type: 'TXT', edns: this.edns(this.variant(i++)) });
      // Two labels down: wildcard matches must not depend on depth; ENT / cut handling one level further.
      this.add({ name: `a.b.${owner.startsWith('*.') ? owner.slice(2) : owner}`, type: 'MX' });
    }
    // Sibling of the apex but not in the zone (REFUSED) and the parent of the apex.
    this.add({ name: `not-${z.origin.slice(0, -1)}x.`, type: 'A' });
    const parent = z.origin.split('.').slice(1).join('.') || '.';
    this.add({ name: parent === '' ? '.' : parent, type: 'SOA' });
  }

  /** Large RRsets under every EDNS size, DO/no-DO, over UDP and TCP (truncation behaviour). */
  bigQueries(names: readonly { name: string; type: string }[]): void {
    for (const { name, type } of names) {
      for (const v of EDNS_VARIANTS) this.add({ name, type, edns: this.edns(v) });
      this.add({ name, type, edns: { udpSize: 100, do: false } }); // < 512 means 512 (RFC 6891 §6.2.5)
      this.add({ name, type }, { transport: 'tcp' });
      this.add({ name, type, edns: { udpSize: 1232, do: true } }, { transport: 'tcp' });
    }
  }

  /** Protocol edge cases and malformed packets, all aimed at `name` (an existing A owner) in zone `zone`. */
  edgeQueries(name: string, zone: string): void {
    const e = { udpSize: 1232, do: false };
    const setU16 = (off: number, v: number) => (b: Buffer) => {
      b.writeUInt16BE(v, off);
      return b;
    };
    // QDCOUNT 0 (header only) and 2 (RFC 9619: QDCOUNT must be 1).
    this.add({ name, type: 'A' }, { tags: ['malformed', 'qdcount'], label: 'QDCOUNT=0 (header only)', mutate: (b) => setU16(4, 0)(b.subarray(0, 12)) });
    this.add({ name, type: 'A' }, { tags: ['malformed', 'qdcount'], label: 'QDCOUNT=2', mutate: (b) => setU16(4, 2)(Buffer.concat([b, b.subarray(12)])) });
    // Opcodes (RFC 1035 §4.1.1; UPDATE RFC 2136; NOTIFY RFC 1996; 15 unassigned).
    for (const [op, lbl] of [[15, 'opcode 15'], [2, 'opcode STATUS'], [1, 'opcode IQUERY']] as const) {
      this.add({ name, type: 'A', flags: op << 11 }, { tags: ['opcode'], label: lbl });
    }
    this.add({ name: zone, type: 'SOA', flags: 5 << 11 }, { tags: ['opcode'], label: 'opcode UPDATE (empty update)' });
    this.add({ name: zone, type: 'SOA', flags: (4 << 11) | 0x0400 }, { tags: ['opcode'], label: 'opcode NOTIFY' });
    // QR=1: a response; never answer it (prevents reflection loops).
    this.add({ name, type: 'A', flags: 0x8000 }, { tags: ['noreply'], label: 'QR=1 in query' });
    this.add({ name, type: 'A', flags: 0x8000, edns: e }, { tags: ['noreply'], label: 'QR=1 in query with EDNS' });
    // Two OPT RRs: FORMERR (RFC 6891 §6.1.1).
    this.add({ name, type: 'A', edns: e }, {
      tags: ['malformed'],
      label: 'two OPT RRs',
      mutate: (b) => setU16(10, 2)(Buffer.concat([b, b.subarray(b.length - 11)])),
    });
    // OPT in the answer section: FORMERR expected (RFC 6891 §6.1.1: OPT only in the additional section).
    this.add({ name, type: 'A', edns: e }, {
      tags: ['malformed'],
      label: 'OPT in answer section',
      mutate: (b) => setU16(6, 1)(setU16(10, 0)(b)),
    });
    // EDNS version 1: BADVERS (RFC 6891 §6.1.3).
    this.add({ name, type: 'A', edns: { udpSize: 1232, do: false, version: 1 } });
    this.add({ name, type: 'A', edns: { udpSize: 4096, do: true, version: 1 } });
    // Unknown EDNS options are ignored (RFC 6891 §6.1.2); NSID only when configured (RFC 5001).
    this.add({ name, type: 'A', edns: { ...e, options: [{ code: 65001, data: Buffer.from('abcd') }] } }, { label: `${name} A +unknown-option` });
    this.add({ name, type: 'A', edns: { ...e, options: [{ code: 3, data: Buffer.alloc(0) }] } }, { label: `${name} A +nsid` });
    // Non-root OPT owner (RFC 6891 §6.1.2: MUST be root).
    this.add({ name, type: 'A', edns: e }, {
      tags: ['malformed', 'nonroot-opt'],
      label: 'OPT with owner "a."',
      mutate: (b) => Buffer.concat([b.subarray(0, b.length - 11), Buffer.from([1, 0x61]), b.subarray(b.length - 11)]),
    });
    // Trailing garbage, truncated question, short header.
    this.add({ name, type: 'A' }, { tags: ['malformed'], label: 'trailing garbage', mutate: (b) => Buffer.concat([b, Buffer.from([1, 2, 3])]) });
    this.add({ name, type: 'A' }, { tags: ['malformed'], label: 'truncated question', mutate: (b) => b.subarray(0, 16) });
    this.add({ name, type: 'A' }, { tags: ['malformed'], label: 'short header', mutate: (b) => b.subarray(0, 7) });
    // Zone transfers over UDP (RFC 5936 §4.2: AXFR is TCP only; RFC 1995 §2 IXFR).
    this.add({ name: zone, type: 'AXFR' }, { tags: ['xfr-udp'] });
    this.add({ name: zone, type: 'IXFR' }, { tags: ['xfr-udp'] });
    // Classes: CHAOS identity queries, QCLASS *, HS, unknown.
    this.add({ name: 'version.bind', type: 'TXT', class: 'CH' }, { tags: ['chaos'] });
    this.add({ name: 'id.server', type: 'TXT', class: 'CH' }, { tags: ['chaos'] });
    this.add({ name: 'hostname.bind', type: 'TXT', class: 'CH', edns: e }, { tags: ['chaos'] });
    this.add({ name, type: 'A', class: 'CH' }, { tags: ['chaos'] });
    this.add({ name, type: 'A', class: 'ANY' }, { tags: ['qclass-any'] });
    this.add({ name, type: 'A', class: 'HS' });
    this.add({ name, type: 'A', class: 42 });
    // Meta QTYPEs (RFC 6895 §3.1).
    for (const t of [0, 41, 249, 250, 253, 254]) this.add({ name, type: t }, { tags: ['meta-qtype'] });
    // Header bits: RD echoed (RFC 1035 §4.1.1), AD/CD in queries (RFC 6840 §5.7, RFC 4035 §3.1.6), TC/Z/rcode ignored.
    this.add({ name, type: 'A', flags: 0x0100 });
    this.add({ name, type: 'A', flags: 0x0020 });
    this.add({ name, type: 'A', flags: 0x0010 });
    this.add({ name, type: 'A', flags: 0x0130, edns: { udpSize: 1232, do: true } });
    this.add({ name, type: 'A', flags: 0x0200 });
    this.add({ name, type: 'A', flags: 0x0040 });
    this.add({ name, type: 'A', flags: 0x0003 });
    // Names outside every zone: REFUSED.
    for (const n of ['example.net.', '.', 'com.', 'org.', 'www.example.com.', 'a.'.repeat(100) + 'example.net.']) {
      this.add({ name: n, type: 'A' });
      this.add({ name: n, type: 'SOA', edns: e });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Running

export interface Outcome {
  readonly query: DiffQuery;
  readonly a: Buffer | null;
  readonly b: Buffer | null;
}

async function send(port: number, q: DiffQuery): Promise<Buffer | null> {
  if (q.transport === 'tcp') {
    try {
      return await queryTcp(port, q.bytes, 3000);
    } catch {
      return null;
    }
  }
  const timeout = q.tags.has('noreply') || q.tags.has('malformed') || q.tags.has('qdcount') ? 700 : 2000;
  const r = await queryUdpOrTimeout(port, q.bytes, timeout);
  if (r !== null || q.tags.has('noreply')) return r;
  // One retry: loopback UDP loss is rare but a test must not flake on it.
  return queryUdpOrTimeout(port, q.bytes, timeout);
}

/** Send every query to every server in `ports`, `concurrency` queries in flight; replies[i][k] is server k's to query i. */
export async function runAllN(queries: readonly DiffQuery[], ports: readonly number[], concurrency = 24): Promise<(Buffer | null)[][]> {
  const out: (Buffer | null)[][] = new Array<(Buffer | null)[]>(queries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const q = queries[i];
      if (q === undefined) return;
      out[i] = await Promise.all(ports.map((p) => send(p, q)));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** Send every query to both servers (a = reference, b = candidate), `concurrency` queries in flight. */
export async function runAll(queries: readonly DiffQuery[], portA: number, portB: number, concurrency = 24): Promise<Outcome[]> {
  const replies = await runAllN(queries, [portA, portB], concurrency);
  return queries.map((query, i) => ({ query, a: replies[i]![0] ?? null, b: replies[i]![1] ?? null }));
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison

export type Field =
  | 'presence'
  | 'parse'
  | 'id'
  | 'flags.QR'
  | 'opcode'
  | 'flags.AA'
  | 'flags.TC'
  | 'flags.RD'
  | 'flags.RA'
  | 'flags.Z'
  | 'flags.AD'
  | 'flags.CD'
  | 'rcode'
  | 'question'
  | 'opt.present'
  | 'opt.version'
  | 'opt.do'
  | 'opt.flags'
  | 'opt.udpSize'
  | 'opt.options'
  | 'answer'
  | 'authority'
  | 'additional';

export interface FieldDiff {
  readonly field: Field;
  readonly a: string;
  readonly b: string;
}

/** Case-insensitive owner, exact TTL, class, type and canonical RDATA (names lowercased). */
function rrKey(rr: ParsedRR): string {
  return `${rr.owner.toLowerCase()}|${rr.ttl}|${rr.class}|${rr.type}|${rr.rdataKey}`;
}

function sectionDiff(a: readonly ParsedRR[], b: readonly ParsedRR[]): { onlyA: ParsedRR[]; onlyB: ParsedRR[] } {
  const count = new Map<string, number>();
  for (const r of b) count.set(rrKey(r), (count.get(rrKey(r)) ?? 0) + 1);
  const onlyA: ParsedRR[] = [];
  for (const r of a) {
    const k = rrKey(r);
    const n = count.get(k) ?? 0;
    if (n > 0) count.set(k, n - 1);
    else onlyA.push(r);
  }
  const countA = new Map<string, number>();
  for (const r of a) countA.set(rrKey(r), (countA.get(rrKey(r)) ?? 0) + 1);
  const onlyB: ParsedRR[] = [];
  for (const r of b) {
    const k = rrKey(r);
    const n = countA.get(k) ?? 0;
    if (n > 0) countA.set(k, n - 1);
    else onlyB.push(r);
  }
  return { onlyA, onlyB };
}

function rrs(list: readonly ParsedRR[]): string {
  return list.length === 0 ? '(none)' : list.map(rrText).join(' | ');
}

export function rcodeName(n: number): string {
  const names = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
  return names[n] ?? (n === 16 ? 'BADVERS' : `RCODE${n}`);
}

/** Field-by-field differences between two parsed responses to `q` (empty when equivalent). */
export function compareMessages(q: DiffQuery, a: ParsedMessage, b: ParsedMessage): FieldDiff[] {
  const d: FieldDiff[] = [];
  const push = (field: Field, x: unknown, y: unknown): void => {
    if (x !== y) d.push({ field, a: String(x), b: String(y) });
  };
  // The response ID must echo the query ID on both sides (RFC 1035 §4.1.1).
  if (a.id !== q.id || b.id !== q.id) d.push({ field: 'id', a: String(a.id), b: String(b.id) });
  push('flags.QR', a.qr, b.qr);
  push('opcode', a.opcode, b.opcode);
  push('flags.AA', a.aa, b.aa);
  push('flags.TC', a.tc, b.tc);
  push('flags.RD', a.rd, b.rd);
  push('flags.RA', a.ra, b.ra);
  push('flags.Z', (a.flags >> 6) & 1, (b.flags >> 6) & 1);
  push('flags.AD', a.ad, b.ad);
  push('flags.CD', a.cd, b.cd);
  push('rcode', rcodeName(a.rcode), rcodeName(b.rcode));
  // Question echo: exact, including the letter case the client used (DNS 0x20).
  const qa = a.question.map((x) => `${x.name} ${x.class} ${x.type}`).join(', ');
  const qb = b.question.map((x) => `${x.name} ${x.class} ${x.type}`).join(', ');
  push('question', qa, qb);
  push('opt.present', a.opt !== undefined, b.opt !== undefined);
  if (a.opt && b.opt) {
    push('opt.version', a.opt.version, b.opt.version);
    push('opt.do', (a.opt.flags & 0x8000) !== 0, (b.opt.flags & 0x8000) !== 0);
    push('opt.flags', a.opt.flags & 0x7fff, b.opt.flags & 0x7fff);
    push('opt.udpSize', a.opt.udpSize, b.opt.udpSize);
    const oa = a.opt.options.map((o) => `${o.code}:${Buffer.from(o.data).toString('hex')}`).sort().join(',');
    const ob = b.opt.options.map((o) => `${o.code}:${Buffer.from(o.data).toString('hex')}`).sort().join(',');
    push('opt.options', oa, ob);
  }
  for (const s of ['answer', 'authority', 'additional'] as const) {
    const { onlyA, onlyB } = sectionDiff(a[s], b[s]);
    if (onlyA.length > 0 || onlyB.length > 0) d.push({ field: s, a: `only here: ${rrs(onlyA)}`, b: `only here: ${rrs(onlyB)}` });
  }
  return d;
}

// ---------------------------------------------------------------------------------------------------------------
// Documented differences

export interface RuleContext {
  readonly q: DiffQuery;
  readonly d: FieldDiff;
  /** Reference (Knot) response, undefined when it did not answer or could not be parsed. */
  readonly a: ParsedMessage | undefined;
  /** Candidate response. */
  readonly b: ParsedMessage | undefined;
}

export interface Rule {
  readonly id: string;
  readonly reason: string;
  readonly match: (c: RuleContext) => boolean;
}

const SECTIONS: ReadonlySet<Field> = new Set(['answer', 'authority', 'additional']);
const ADDR = new Set([1, 28]);

function clientLimit(q: DiffQuery): number {
  // RFC 6891 §6.2.5: sizes below 512 are treated as 512; without EDNS the limit is 512 (RFC 1035 §4.2.1).
  return q.ednsSize === undefined ? 512 : Math.max(512, q.ednsSize);
}

function isReferral(m: ParsedMessage): boolean {
  return !m.aa && m.rcode === 0 && m.answer.length === 0 && m.authority.some((r) => r.type === 2);
}

/** Target names that justify additional-section address records (NS, MX, SRV targets; RFC 1034 §3.6). */
function additionalTargets(m: ParsedMessage): Set<string> {
  const t = new Set<string>();
  for (const r of [...m.answer, ...m.authority]) {
    if (r.type === 2 || r.type === 15 || r.type === 33) {
      const parts = r.rdataText.split(' ');
      t.add(parts[parts.length - 1]!.toLowerCase());
    }
  }
  return t;
}

function extraOnlyAddresses(c: RuleContext, allowed: (owner: string, side: ParsedMessage) => boolean, types: ReadonlySet<number> = ADDR): boolean {
  if (!c.a || !c.b) return false;
  const { onlyA, onlyB } = sectionDiff(c.a.additional, c.b.additional);
  // RRSIGs of different RRsets at one owner may legitimately be present on one side only.
  const clash = (r: ParsedRR, other: ParsedMessage): boolean =>
    r.type !== RRSIG_TYPE && other.additional.some((x) => x.type === r.type && x.owner.toLowerCase() === r.owner.toLowerCase());
  // Records present on both sides were compared exactly; those on one side only must be justified addresses.
  return (
    onlyA.every((r) => types.has(r.type) && allowed(r.owner.toLowerCase(), c.a!)) &&
    onlyB.every((r) => types.has(r.type) && allowed(r.owner.toLowerCase(), c.b!)) &&
    // ...and must not contradict the other side: no different data for an owner/type the other side also sent.
    onlyA.every((r) => !clash(r, c.b!)) &&
    onlyB.every((r) => !clash(r, c.a!))
  );
}

const RRSIG_TYPE = 46;
/** Types RFC 9460 §4.1 puts in the additional section for SVCB/HTTPS TargetNames (with their DNSSEC records). */
const SVCB_ADDITIONAL: ReadonlySet<number> = new Set([1, 28, 64, 65, RRSIG_TYPE, 47, 50]);

/** The TargetName of an SVCB/HTTPS record (RFC 9460 §2.2: uncompressed, after the 2-octet SvcPriority), lowercased. */
function svcbTarget(rr: ParsedRR): string | undefined {
  const d = rr.rdata;
  const labels: string[] = [];
  let p = 2;
  while (p < d.length && d[p] !== 0) {
    const l = d[p]!;
    labels.push(Buffer.from(d.subarray(p + 1, p + 1 + l)).toString('latin1').toLowerCase());
    p += 1 + l;
  }
  const priority = ((d[0] ?? 0) << 8) | (d[1] ?? 0);
  if (labels.length > 0) return labels.join('.') + '.';
  // RFC 9460 §2.5.2: "." in ServiceMode is the owner name; in AliasMode (priority 0) it means "no service".
  return priority === 0 ? undefined : rr.owner.toLowerCase();
}

/** SVCB/HTTPS TargetNames in the answer, followed through SVCB/HTTPS records in the additional section (alias chains). */
function svcbTargets(m: ParsedMessage): Set<string> {
  const t = new Set<string>();
  const visit = (rrs: readonly ParsedRR[]): void => {
    for (const r of rrs) {
      if (r.type !== 64 && r.type !== 65) continue;
      const n = svcbTarget(r);
      if (n !== undefined) t.add(n);
    }
  };
  visit(m.answer);
  for (let i = 0; i < 8; i++) visit(m.additional.filter((r) => t.has(r.owner.toLowerCase())));
  return t;
}

function rcodeIn(m: ParsedMessage | undefined, names: readonly string[]): boolean {
  return m !== undefined && names.includes(rcodeName(m.rcode));
}

/**
 * Differences the protocol leaves to the implementation. Each rule is narrow: it names the fields it covers and
 * checks that both answers are still within what the RFCs allow. Anything not covered fails the test.
 */
export const RULES: readonly Rule[] = [
  {
    id: 'opt-udp-size',
    reason: 'RFC 6891 §6.2.3/§6.2.5: the payload size a responder advertises in its OPT is its own choice (Knot: udp-max-payload, default 1232); both must be >= 512',
    match: (c) => c.d.field === 'opt.udpSize' && Number(c.d.a) >= 512 && Number(c.d.b) >= 512,
  },
  {
    id: 'udp-payload-limit',
    reason: 'RFC 6891 §6.2.5: each server caps UDP responses at min(client size, own maximum); one truncating where the other fits is fine as long as the complete answer stays within the client\'s size',
    match: (c) => {
      if (c.q.transport !== 'udp' || !c.a || !c.b || c.a.tc === c.b.tc) return false;
      if (c.d.field !== 'flags.TC' && !SECTIONS.has(c.d.field)) return false;
      const full = c.a.tc ? c.b : c.a;
      const trunc = c.a.tc ? c.a : c.b;
      const truncLimit = Math.min(clientLimit(c.q), Math.max(512, trunc.opt?.udpSize ?? 512));
      return full.size <= clientLimit(c.q) && full.size > truncLimit;
    },
  },
  {
    id: 'truncated-content',
    reason: 'RFC 2181 §9: a response with TC=1 must be retried over TCP and its partial content is not used; Knot empties all sections, others may keep what fits',
    match: (c) => SECTIONS.has(c.d.field) && c.a?.tc === true && c.b?.tc === true,
  },
  {
    id: 'any-subset',
    reason: 'RFC 8482 §4.1-4.2: a server may answer QTYPE=ANY with one RRset or a subset (Knot returns the first RRset) or HINFO; all records must still be owned by the QNAME',
    match: (c) => {
      if (c.q.qtype !== 255 || !c.a || !c.b) return false;
      if (c.d.field === 'additional' || c.d.field === 'authority' || c.d.field === 'flags.TC') return true;
      if (c.d.field !== 'answer') return false;
      const qn = (c.a.question[0]?.name ?? '').toLowerCase();
      const own = (m: ParsedMessage): boolean => m.answer.every((r) => r.owner.toLowerCase() === qn || r.type === 5 || r.type === 39);
      return own(c.a) && own(c.b) && c.a.answer.length > 0 && c.b.answer.length > 0;
    },
  },
  {
    id: 'additional-optional',
    reason: 'RFC 1034 §4.3.2 step 6: address records for NS/MX/SRV targets in the additional section are optional (may be omitted for size or policy, RFC 2181 §9); what both include must agree',
    match: (c) => c.d.field === 'additional' && !!c.a && !!c.b && !isReferral(c.a) && !isReferral(c.b) &&
      extraOnlyAddresses(c, (o, m) => additionalTargets(m).has(o)),
  },
  {
    id: 'svcb-additional-optional',
    reason: 'RFC 9460 §4.1: "When replying to a SVCB query, authoritative DNS servers SHOULD return A, AAAA, and SVCB records in the Additional section for any TargetNames that are in the zone. If the zone is signed, the server SHOULD also include DNSSEC records authenticating the existence or nonexistence of these records in the Additional section." A SHOULD: Knot 3.2, NSD 4.6 and BIND with minimal-responses omit them; what both include must agree',
    match: (c) => c.d.field === 'additional' && !!c.a && !!c.b && !isReferral(c.a) && !isReferral(c.b) &&
      extraOnlyAddresses(c, (o, m) => svcbTargets(m).has(o) || additionalTargets(m).has(o), SVCB_ADDITIONAL),
  },
  {
    id: 'referral-non-mandatory-glue',
    reason: 'RFC 9471 §3: in a referral only in-domain glue below the cut is mandatory; sibling glue and addresses of NS names in the parent\'s own authoritative data are optional',
    match: (c) => {
      if (c.d.field !== 'additional' || !c.a || !c.b || !isReferral(c.a) || !isReferral(c.b)) return false;
      const cut = (c.a.authority.find((r) => r.type === 2)?.owner ?? '').toLowerCase();
      const below = (o: string): boolean => o === cut || o.endsWith('.' + cut);
      return extraOnlyAddresses(c, (o, m) => additionalTargets(m).has(o) && !below(o));
    },
  },
  {
    id: 'authority-ns-optional',
    reason: 'RFC 1034 §4.3.2 step 3a does not require the zone\'s NS RRset in the authority section of a positive answer; BIND adds it, Knot omits it',
    match: (c) => {
      if (c.d.field !== 'authority' || !c.a || !c.b || c.a.rcode !== 0 || c.a.answer.length === 0) return false;
      const { onlyA, onlyB } = sectionDiff(c.a.authority, c.b.authority);
      const onlyNs = (l: ParsedRR[]): boolean => l.every((r) => r.type === 2);
      return onlyNs(onlyA) && onlyNs(onlyB) && (onlyA.length === 0 || onlyB.length === 0);
    },
  },
  {
    id: 'cname-cross-zone',
    reason: 'RFC 1034 §4.3.2 step 3a restarts the lookup at step 1, which may pick another zone the server is authoritative for; Knot and NSD stop at the zone boundary and leave the rest to the resolver; accepted when one answer extends the other',
    match: (c) => {
      if (!c.q.tags.has('cross-zone') || !c.a || !c.b) return false;
      if (c.d.field === 'additional' || c.d.field === 'authority') return true;
      if (c.d.field !== 'answer') return false;
      const { onlyA, onlyB } = sectionDiff(c.a.answer, c.b.answer);
      return onlyA.length === 0 || onlyB.length === 0;
    },
  },
  {
    id: 'dname-overflow-rcode',
    reason: 'RFC 6672 §2.2 requires YXDOMAIN when the DNAME substitution exceeds 255 octets; Knot 3.2 answers NXDOMAIN with the DNAME and the SOA (reference deviation); the candidate may omit the SOA and the DNAME',
    match: (c) => {
      if (!c.q.tags.has('dname-overflow') || !rcodeIn(c.a, ['NXDOMAIN']) || !rcodeIn(c.b, ['YXDOMAIN', 'NXDOMAIN'])) return false;
      if (c.d.field === 'rcode' || c.d.field === 'authority') return true;
      // Answer: the candidate may only drop records (the DNAME), never add or change any.
      return c.d.field === 'answer' && sectionDiff(c.a!.answer, c.b!.answer).onlyB.length === 0;
    },
  },
  {
    id: 'cname-loop',
    reason: 'RFC 1034 §3.6.2: CNAME loops are a zone error and the response is not specified; returning the chain until the loop repeats (Knot, BIND) and SERVFAIL are both used',
    match: (c) => c.q.tags.has('cname-loop') && rcodeIn(c.a, ['NOERROR', 'SERVFAIL']) && rcodeIn(c.b, ['NOERROR', 'SERVFAIL']) &&
      (['rcode', 'flags.AA', 'answer', 'authority', 'additional'] as Field[]).includes(c.d.field),
  },
  {
    id: 'ede-optional',
    reason: 'RFC 8914 §3: Extended DNS Errors are optional and their INFO-CODE is the responder\'s choice (Knot adds EDE 20 "Not Authoritative" to REFUSED); all other EDNS options must agree',
    match: (c) => {
      if (c.d.field !== 'opt.options' || !c.a?.opt || !c.b?.opt) return false;
      const rest = (m: ParsedMessage): string => m.opt!.options.filter((o) => o.code !== 15).map((o) => `${o.code}:${Buffer.from(o.data).toString('hex')}`).sort().join(',');
      return rest(c.a) === rest(c.b);
    },
  },
  {
    id: 'cd-bit-copy',
    reason: 'RFC 4035 §3.1.6: a name server copies CD from the query into the response; Knot 3.2 clears it (reference deviation)',
    match: (c) => c.d.field === 'flags.CD' && (c.q.flags & 0x0010) !== 0 && c.a?.cd === false && c.b?.cd === true,
  },
  {
    id: 'chaos-identity',
    reason: 'RFC 4892: CHAOS-class identity queries (version.bind, id.server) are server-specific; Knot is configured with identity/version/NSID off and answers REFUSED',
    match: (c) => c.q.tags.has('chaos') && c.d.field !== 'id' && c.d.field !== 'question' && c.d.field !== 'presence' && c.d.field !== 'parse',
  },
  {
    id: 'qclass-any',
    reason: 'RFC 1035 §3.2.5 QCLASS * ("any class") may be answered from IN data (Knot) or refused (RFC 6895 §3.2 leaves it to the server)',
    match: (c) => c.q.tags.has('qclass-any') && (['rcode', 'flags.AA', 'answer', 'authority', 'additional'] as Field[]).includes(c.d.field),
  },
  {
    id: 'meta-qtype',
    reason: 'RFC 6895 §3.1: meta-QTYPEs (0, OPT, TKEY, TSIG, MAILA, MAILB) have no defined query semantics; NOTIMP, FORMERR, REFUSED or a NODATA answer are all seen in practice',
    match: (c) => c.q.tags.has('meta-qtype') && (['rcode', 'flags.AA', 'answer', 'authority', 'additional'] as Field[]).includes(c.d.field) &&
      rcodeIn(c.a, ['NOERROR', 'NOTIMP', 'FORMERR', 'REFUSED']) && rcodeIn(c.b, ['NOERROR', 'NOTIMP', 'FORMERR', 'REFUSED']),
  },
  {
    id: 'unsupported-opcode',
    reason: 'RFC 1035 §4.1.1: NOTIMP for unsupported opcodes; for UPDATE/NOTIFY from a client outside its ACL Knot answers NOTAUTH, a server without UPDATE support answers NOTIMP, REFUSED is the policy refusal',
    match: (c) => c.q.tags.has('opcode') && (['rcode', 'flags.AA', 'question', 'opt.present'] as Field[]).includes(c.d.field) &&
      rcodeIn(c.a, ['NOTIMP', 'NOTAUTH', 'REFUSED']) && rcodeIn(c.b, ['NOTIMP', 'NOTAUTH', 'REFUSED']),
  },
  {
    id: 'xfr-over-udp',
    reason: 'RFC 5936 §4.2: AXFR is TCP-only, the UDP reply code is unspecified; RFC 1995 §2: IXFR over UDP may be answered with the SOA only, or refused when transfers are not allowed (Knot without ACL: NOTAUTH)',
    match: (c) => c.q.tags.has('xfr-udp') && (['rcode', 'flags.AA', 'answer', 'authority', 'question'] as Field[]).includes(c.d.field) &&
      [c.a, c.b].every((m) => rcodeIn(m, ['FORMERR', 'NOTIMP', 'NOTAUTH', 'REFUSED']) ||
        (m !== undefined && c.q.qtype === 251 && m.rcode === 0 && m.answer.every((r) => r.type === 6))),
  },
  {
    id: 'qdcount-not-one',
    reason: 'RFC 9619: QDCOUNT must be 1; a responder may answer FORMERR or drop the message (Knot drops QDCOUNT=2, answers QDCOUNT=0 with FORMERR)',
    match: (c) => c.q.tags.has('qdcount') && (c.d.field === 'presence' || c.d.field === 'question' || c.d.field === 'opt.present') &&
      (c.a === undefined || rcodeIn(c.a, ['FORMERR'])) && (c.b === undefined || rcodeIn(c.b, ['FORMERR'])),
  },
  {
    id: 'malformed-drop-or-formerr',
    reason: 'RFC 1035 §4.1.1 defines FORMERR but does not oblige a reply to an unparseable message: dropping (Knot, for truncated messages) and FORMERR are both acceptable; FORMERR replies may omit the question and the OPT RR',
    match: (c) => c.q.tags.has('malformed') && (['presence', 'question', 'opt.present', 'opt.udpSize', 'opt.do', 'flags.RD'] as Field[]).includes(c.d.field) &&
      (c.a === undefined || rcodeIn(c.a, ['FORMERR'])) && (c.b === undefined || rcodeIn(c.b, ['FORMERR'])),
  },
  {
    id: 'nonroot-opt',
    reason: 'RFC 6891 §6.1.2: the OPT owner MUST be root; Knot tolerates other owners and answers normally, a stricter server answers FORMERR',
    match: (c) => c.q.tags.has('nonroot-opt') && rcodeIn(c.b, ['FORMERR', 'NOERROR']) && c.d.field !== 'id',
  },
];

export interface Report {
  readonly total: number;
  readonly matched: number;
  readonly explained: ReadonlyMap<string, number>;
  readonly unexplained: readonly { readonly q: DiffQuery; readonly d: FieldDiff }[];
}

/** Compare every outcome and classify differences through RULES. */
export function evaluate(outcomes: readonly Outcome[], rules: readonly Rule[] = RULES): Report {
  const explained = new Map<string, number>();
  const unexplained: { q: DiffQuery; d: FieldDiff }[] = [];
  let matched = 0;
  for (const o of outcomes) {
    const { diffs, a, b } = diffOutcome(o);
    if (diffs.length === 0) {
      matched++;
      continue;
    }
    for (const d of diffs) {
      const rule = rules.find((r) => r.match({ q: o.query, d, a, b }));
      if (rule) explained.set(rule.id, (explained.get(rule.id) ?? 0) + 1);
      else unexplained.push({ q: o.query, d });
    }
  }
  return { total: outcomes.length, matched, explained, unexplained };
}

function tryParse(buf: Buffer | null): { m: ParsedMessage | undefined; err: string | undefined } {
  if (buf === null) return { m: undefined, err: undefined };
  try {
    return { m: parseMessage(buf), err: undefined };
  } catch (e) {
    return { m: undefined, err: e instanceof Error ? e.message : String(e) };
  }
}

/** Differences for one outcome; also checks the QR=1 rule (no reply from either side). */
export function diffOutcome(o: Outcome): { diffs: FieldDiff[]; a: ParsedMessage | undefined; b: ParsedMessage | undefined } {
  const pa = tryParse(o.a);
  const pb = tryParse(o.b);
  const diffs: FieldDiff[] = [];
  if (o.query.tags.has('noreply')) {
    // RFC 1035 §4.1.1: QR=1 marks a response; answering it invites reflection loops. Both must stay silent.
    if (o.a !== null || o.b !== null) diffs.push({ field: 'presence', a: o.a === null ? 'no reply' : 'replied', b: o.b === null ? 'no reply' : 'replied' });
    return { diffs, a: pa.m, b: pb.m };
  }
  if ((o.a === null) !== (o.b === null)) {
    diffs.push({ field: 'presence', a: o.a === null ? 'no reply' : 'replied', b: o.b === null ? 'no reply' : 'replied' });
    return { diffs, a: pa.m, b: pb.m };
  }
  if (pa.err !== undefined || pb.err !== undefined) {
    diffs.push({ field: 'parse', a: pa.err ?? 'ok', b: pb.err ?? 'ok' });
    return { diffs, a: pa.m, b: pb.m };
  }
  if (pa.m && pb.m) diffs.push(...compareMessages(o.query, pa.m, pb.m));
  return { diffs, a: pa.m, b: pb.m };
}

export function formatReport(r: Report, nameA: string, nameB: string): string {
  const lines = [
    `differential test ${nameA} (a) vs ${nameB} (b): ${r.total} queries, ${r.matched} identical, ` +
      `${r.total - r.matched} with differences; ${[...r.explained.values()].reduce((x, y) => x + y, 0)} documented field differences, ` +
      `${r.unexplained.length} unexplained`,
  ];
  for (const [id, n] of [...r.explained.entries()].sort()) {
    const rule = RULES.find((x) => x.id === id);
    lines.push(`  documented ${id} x${n}: ${rule?.reason ?? ''}`);
  }
  return lines.join('\n');
}

export function formatUnexplained(r: Report, max = 20): string {
  return r.unexplained
    .slice(0, max)
    .map((u, i) => `${i + 1}. ${u.q.label}\n     ${u.d.field}: a=${u.d.a}\n     ${' '.repeat(u.d.field.length)}  b=${u.d.b}`)
    .join('\n');
}
