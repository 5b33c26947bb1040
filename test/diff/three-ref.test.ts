// Three-reference differential test: Knot, BIND and NSD serve the same fixture files (each zone unsigned and signed
// offline with NSEC, NSEC3 and NSEC3 Opt-Out) next to apexdns; where the three references agree, apexdns must too.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBind } from '../helpers/bind.js';
import { daemonBuilt, REPO_ROOT, startDaemon } from '../helpers/daemon.js';
import { parseMessage, rrText, type ParsedMessage } from '../helpers/dnsmsg.js';
import { startKnot, type ZoneSpec } from '../helpers/knot.js';
import { startNsd } from '../helpers/nsd.js';
import { stopAll } from '../helpers/procs.js';
import { signZones } from '../helpers/sign.js';
import { requireTools } from '../helpers/tools.js';
import { readFixtureZone } from './fixture-zone.js';
import { evaluate, QueryBuilder, runAllN, type DiffQuery, type FieldDiff, type Outcome, type Tag } from './harness.js';

const FIX = join(REPO_ROOT, 'test', 'fixtures', 'diff');
const ZONES: readonly ZoneSpec[] = [
  { name: 'example.org', file: join(FIX, 'example.org.zone') },
  { name: 'example', file: join(FIX, 'rfc4592.example.zone') },
  { name: 'deleg.test', file: join(FIX, 'deleg.test.zone') },
  { name: 'kid.deleg.test', file: join(FIX, 'kid.deleg.test.zone') },
];

interface Rfc4592Case {
  readonly name: string;
  readonly type: string;
}
const RFC4592 = JSON.parse(readFileSync(join(FIX, 'rfc4592.queries.json'), 'utf8')) as { readonly queries: readonly Rfc4592Case[] };

/** Cuts of deleg.test and how each is reached: exact, via CNAME, via a wildcard sibling, deep below, case-varied. */
const CUT_NAMES: readonly string[] = [
  // exact cut names
  'secure.deleg.test', 'insecure.deleg.test', 'kid.deleg.test', 'ext.deleg.test', 'cased.deleg.test', 'cut.w.deleg.test',
  // glue owners and names just below the cuts
  'ns1.secure.deleg.test', 'ns1.insecure.deleg.test', 'ns1.kid.deleg.test', 'ns1.cased.deleg.test', 'ns1.cut.w.deleg.test',
  'host.secure.deleg.test', 'host.insecure.deleg.test', 'host.ext.deleg.test', 'host.kid.deleg.test', 'nx.kid.deleg.test',
  // deep below the cuts
  'a.b.c.d.e.secure.deleg.test', 'a.b.c.d.insecure.deleg.test', 'x.y.z.ext.deleg.test', 'a.b.c.kid.deleg.test', 'deep.x.cut.w.deleg.test',
  // reached through CNAMEs
  'to-secure.deleg.test', 'to-insecure.deleg.test', 'to-deep.deleg.test', 'to-ext.deleg.test', 'to-to-secure.deleg.test',
  // reached through a DNAME
  'host.dn-cut.deleg.test', 'a.b.dn-cut.deleg.test', 'ns1.dn-cut.deleg.test',
  // wildcard-covered names next to and below a cut, and a wildcard CNAME into a delegation
  'sibling.w.deleg.test', 'a.b.w.deleg.test', 'x.wc.deleg.test', 'a.b.wc.deleg.test',
  // case-varied
  'SeCuRe.DeLeG.TeSt', 'NS1.INSECURE.deleg.test', 'CaSeD.deleg.test', 'Ns1.CaSeD.deleg.test', 'HOST.Kid.Deleg.Test', 'To-Secure.Deleg.Test', 'Cut.W.deleg.test',
];
const CUT_TYPES = ['A', 'AAAA', 'NS', 'DS', 'NSEC', 'RRSIG', 'ANY', 'TXT', 'SOA', 'DNSKEY', 'HTTPS', 'CNAME'] as const;

/** SVCB / HTTPS owners (RFC 9460): alias chains, ServiceMode with "." and in-zone targets, loops, out-of-zone. */
const SVCB_NAMES: readonly string[] = [
  'alias.deleg.test', 'alias2.deleg.test', 'svc1.deleg.test', 'service.deleg.test', 'svc2.deleg.test', 'selfsvc.deleg.test',
  '_8443._foo.api.deleg.test', 'svc3.deleg.test', 'aloop1.deleg.test', 'aloop2.deleg.test', 'aout.deleg.test', 'sout.deleg.test',
  'adeleg.deleg.test', 'acname.deleg.test', 'cn-svc.deleg.test', 'ALIAS2.Deleg.Test', 'nx-svc.deleg.test', 'sdeleg.deleg.test',
];
const SVCB_TYPES = ['HTTPS', 'SVCB', 'A', 'AAAA', 'ANY', 'RRSIG', 'NSEC'] as const;

/** The full query set (deterministic); every well-formed query comes in DO=0 and DO=1 forms. */
export function threeRefQueries(): DiffQuery[] {
  const qb = new QueryBuilder(0x3ef);
  qb.doTwins = true;
  const loops = new Set(['loop1.example.org.', 'loop2.example.org.', 'self.example.org.']);
  // CNAMEs into another zone the servers also serve (RFC 1034 §4.3.2 step 3a; rule cname-cross-zone).
  const crossZone = new Set(['cx.example.org.', 'to-kid.deleg.test.']);
  const tagsFor = (o: string): Tag[] => [...(loops.has(o) ? (['cname-loop'] as const) : []), ...(crossZone.has(o) ? (['cross-zone'] as const) : [])];
  for (const z of ZONES) qb.zoneQueries(readFixtureZone(z.file, z.name + '.'), tagsFor);
  for (const t of ['A', 'AAAA', 'MX', 'TXT']) {
    qb.add({ name: 'cx.example.org', type: t }, { tags: ['cross-zone'] });
    qb.add({ name: 'to-kid.deleg.test', type: t, edns: { udpSize: 1232, do: false } }, { tags: ['cross-zone'] });
  }
  for (const c of RFC4592.queries) qb.add({ name: qb.mixCase(c.name), type: c.type, edns: { udpSize: 1232, do: false } });
  for (const n of CUT_NAMES) {
    const tags: Tag[] = n.toLowerCase().startsWith('to-kid') ? ['cross-zone'] : [];
    for (const t of CUT_TYPES) qb.add({ name: n, type: t, edns: { udpSize: 1232, do: false } }, { tags });
    qb.add({ name: n, type: 'A' });
    qb.add({ name: n, type: 'NS', edns: { udpSize: 4096, do: true } }, { transport: 'tcp' });
    // Signed referrals and their proofs near the 512-octet floor (RFC 4035 §3.1.1: TC=1 when required RRSIGs do not fit).
    for (const t of ['A', 'AAAA', 'TXT']) qb.add({ name: n, type: t, edns: { udpSize: 512, do: true } });
  }
  for (const n of SVCB_NAMES) {
    for (const t of SVCB_TYPES) qb.add({ name: n, type: t, edns: { udpSize: 1232, do: false } });
    qb.add({ name: n, type: 'HTTPS' });
  }
  // DNSSEC types at every owner and just below it (the signed copies hold NSEC and RRSIG there; wildcards, DNAMEs,
  // ENTs and cuts each answer them differently).
  for (const z of ZONES) {
    for (const owner of readFixtureZone(z.file, z.name + '.').owners) {
      const tags: Tag[] = tagsFor(owner);
      for (const t of ['NSEC', 'RRSIG', 'DS']) qb.add({ name: owner, type: t, edns: { udpSize: 1232, do: true } }, { tags });
      qb.add({ name: `zz.${owner.startsWith('*.') ? owner.slice(2) : owner}`, type: 'NSEC', edns: { udpSize: 1232, do: true } });
    }
  }
  // DNSSEC metadata at every apex: DNSKEY, NSEC, RRSIG (answered from the signed copies only).
  for (const z of ZONES) {
    for (const t of ['DNSKEY', 'NSEC', 'RRSIG', 'NSEC3PARAM']) qb.add({ name: z.name, type: t, edns: { udpSize: 1232, do: false } });
  }
  qb.bigQueries([
    { name: 'big40.example.org', type: 'A' },
    { name: 'txt8.example.org', type: 'TXT' },
  ]);
  qb.edgeQueries('www.example.org', 'example.org');
  return qb.out;
}

const REFS = ['knot', 'bind', 'nsd'] as const;
/** Each zone is served four times: as written, signed with NSEC, NSEC3 and NSEC3 Opt-Out (offline, same files). */
const COPIES = ['unsigned', 'nsec', 'nsec3', 'optout'] as const;
type Copy = (typeof COPIES)[number];
type Ref = (typeof REFS)[number];

/** Unexplained differences of candidate `b` against reference `a` (harness RULES, a = reference side). */
function unexplained(q: DiffQuery, a: Buffer | null, b: Buffer | null): FieldDiff[] {
  const o: Outcome = { query: q, a, b };
  return evaluate([o]).unexplained.map((u) => u.d);
}

/** Two references agree when their difference is explained by the RULES in either direction. */
function refsAgree(q: DiffQuery, x: Buffer | null, y: Buffer | null): boolean {
  return unexplained(q, x, y).length === 0 || unexplained(q, y, x).length === 0;
}

function tryParse(b: Buffer | null): ParsedMessage | undefined {
  if (b === null) return undefined;
  try {
    return parseMessage(b);
  } catch {
    return undefined;
  }
}

function brief(b: Buffer | null): string {
  const m = tryParse(b);
  if (m === undefined) return b === null ? 'no reply' : 'unparseable';
  const s = (l: ParsedMessage['answer']): string => l.map(rrText).join(' | ') || '-';
  return `rcode=${m.rcode} aa=${m.aa} tc=${m.tc} ans=[${s(m.answer)}] auth=[${s(m.authority)}] add=[${s(m.additional.filter((r) => r.type !== 41))}]`;
}

/*
 * Reference disagreements seen with Knot 3.2, BIND 9.18 and NSD 4.6 (counted per kind in the report), and what
 * decides them for apexdns:
 * - QTYPE RRSIG/NSEC at a CNAME owner that holds none (unsigned; NSEC in an NSEC3 zone): Knot and BIND answer NODATA,
 *   NSD follows the CNAME. RFC 1034 §4.3.2 step 3a decides: follow it (RFC_CHECKS cname-followed-without-rrsig-nsec).
 *   Where the owner holds them (signed zone, RFC 4035 §2.5) all three answer them, and so does apexdns.
 * - QTYPE NSEC at the cut of an NSEC-signed parent: BIND answers the parent's NSEC (AA), Knot and NSD refer. apexdns
 *   answers like BIND (src/query/resolve.ts parentSide); no RFC sentence names NSEC a parent-side type (RFC 4035
 *   §3.1.4.1 special-cases DS only), so this is left unchecked here. With an NSEC3 parent all three refer, as apexdns.
 * - QTYPE RRSIG: Knot 3.2 returns one RRSIG of the node; BIND and NSD all of them (with per-type TTLs, RFC 4034 §3).
 * - QTYPE ANY in a signed zone: each picks another RRset or TC=1 (RFC 8482 §4.1 allows all; rule any-subset).
 * - NXDOMAIN through a DNAME in a signed zone: NSD sends one NSEC where Knot and BIND send two (RFC 4035 §3.1.3.2).
 * - NXDOMAIN at the end of a CNAME chain: BIND gives the SOA a TTL of 0.
 * - Malformed or odd requests (trailing octets, rcode bits set, NOTIFY, unknown classes, EDNS version 1): FORMERR,
 *   REFUSED, NOTAUTH, NOTIMP or a normal answer; RFC 1035 §4.1.1 leaves the choice (harness RULES).
 * - Wildcard NSEC queries: Knot omits the proof that the QNAME does not exist (RFC 4035 §3.1.3.3), BIND and NSD send it.
 */

/** One copy's replies to a query, parsed: the three references (Knot, BIND, NSD) and apexdns. */
interface CheckContext {
  readonly copy: Copy;
  readonly q: DiffQuery;
  readonly refs: readonly (ParsedMessage | undefined)[];
  readonly apex: ParsedMessage | undefined;
}

/**
 * Rules an RFC states outright (MUST, or the algorithm itself), checked on apexdns for every query, including those
 * where the references disagree with each other. Each quotes the text that decides.
 */
interface RfcCheck {
  readonly id: string;
  readonly rfc: string;
  /** A description of the violation, undefined when it holds, null when the rule does not apply to this query. */
  readonly check: (c: CheckContext) => string | undefined | null;
}

const RRSIG = 46;
const coveredType = (rr: ParsedMessage['answer'][number]): number => ((rr.rdata[0] ?? 0) << 8) | (rr.rdata[1] ?? 0);
const key = (owner: string, type: number): string => `${owner.toLowerCase()}/${type}`;
const doBit = (q: DiffQuery): boolean => q.ednsSize !== undefined && (q.bytes.readUInt16BE(q.bytes.length - 4) & 0x8000) !== 0;

export const RFC_CHECKS: readonly RfcCheck[] = [
  {
    id: 'opt-in-response',
    rfc: 'RFC 6891 §7: "If an OPT record is present in a received request, compliant responders MUST include an OPT record in their respective responses."',
    check: ({ q, apex }) => {
      if (q.ednsSize === undefined || apex === undefined || q.tags.has('malformed') || q.tags.has('qdcount') || q.tags.has('nonroot-opt')) return null;
      return apex.opt === undefined ? 'no OPT RR in the response' : undefined;
    },
  },
  {
    id: 'rrsig-ttl',
    rfc: 'RFC 4034 §3: "The TTL value of an RRSIG RR MUST match the TTL value of the RRset it covers. This is an exception to the [RFC2181] rules for TTL values of individual RRs within a RRset: individual RRSIG RRs with the same owner name will have different TTL values if the RRsets they cover have different TTL values."',
    check: ({ q, apex }) => {
      if (apex === undefined) return null;
      let sigs = 0;
      for (const section of [apex.answer, apex.authority, apex.additional]) {
        const ttls = new Map(section.filter((r) => r.type !== RRSIG).map((r) => [key(r.owner, r.type), r.ttl]));
        for (const sig of section.filter((r) => r.type === RRSIG)) {
          sigs++;
          const want = ttls.get(key(sig.owner, coveredType(sig)));
          if (want !== undefined && want !== sig.ttl) return `RRSIG ${sig.owner} covering ${coveredType(sig)} has TTL ${sig.ttl}, the RRset ${want}`;
          // A query of type RRSIG: the covered RRset is not in the message; dnssec-signzone wrote each RRSIG with its
          // RRset's TTL, which is also the RRSIG's Original TTL field (RFC 4034 §3.1.4).
          const original = Buffer.from(sig.rdata).readUInt32BE(4);
          if (q.qtype === RRSIG && section === apex.answer && sig.ttl !== original) return `RRSIG ${sig.owner} covering ${coveredType(sig)} has TTL ${sig.ttl}, its RRset ${original}`;
        }
      }
      return sigs === 0 ? null : undefined;
    },
  },
  {
    id: 'additional-rrsig',
    rfc: 'RFC 4035 §3.1.1: "When placing a signed RRset in the Additional section, the name server MUST also place its RRSIG RRs in the Additional section. If space does not permit inclusion of both the RRset and its associated RRSIG RRs, the name server MAY retain the RRset while dropping the RRSIG RRs." (a reference that sent the RRSIG shows the RRset is signed)',
    check: ({ copy, q, refs, apex }) => {
      if (copy === 'unsigned' || !doBit(q) || apex === undefined || apex.tc) return null;
      let applies = false;
      const have = new Set(apex.additional.map((r) => (r.type === RRSIG ? `sig ${key(r.owner, coveredType(r))}` : key(r.owner, r.type))));
      for (const ref of refs) {
        for (const sig of ref?.additional.filter((r) => r.type === RRSIG) ?? []) {
          const k = key(sig.owner, coveredType(sig));
          if (!have.has(k)) continue;
          applies = true;
          if (!have.has(`sig ${k}`)) return `additional ${k} without its RRSIG`;
        }
      }
      return applies ? undefined : null;
    },
  },
  {
    id: 'in-domain-glue',
    rfc: 'RFC 9471 §3: "If message size constraints prevent the inclusion of all in-domain glue records over UDP transport, the server MUST set the TC (Truncated) flag to inform the client that the response is incomplete and that the client SHOULD use another transport to retrieve the full response." (in-domain: at or below the cut; the references show which exist)',
    check: ({ refs, apex }) => {
      if (apex === undefined || apex.tc || apex.rcode !== 0) return null;
      const cut = apex.authority.find((r) => r.type === 2)?.owner.toLowerCase();
      if (cut === undefined || apex.authority.some((r) => r.type === 6)) return null;
      const below = (o: string): boolean => o === cut || o.endsWith('.' + cut);
      const have = new Set(apex.additional.map((r) => key(r.owner, r.type)));
      let applies = false;
      for (const ref of refs) {
        if (ref === undefined || ref.tc || ref.authority.find((r) => r.type === 2)?.owner.toLowerCase() !== cut) continue;
        for (const g of ref.additional.filter((r) => (r.type === 1 || r.type === 28) && below(r.owner.toLowerCase()))) {
          applies = true;
          if (!have.has(key(g.owner, g.type))) return `in-domain glue ${g.owner} type ${g.type} missing without TC`;
        }
      }
      return applies ? undefined : null;
    },
  },
  {
    id: 'cname-followed-without-rrsig-nsec',
    rfc: 'RFC 1034 §4.3.2 step 3a: "If the data at the node is a CNAME, and QTYPE doesn\'t match CNAME, copy the CNAME RR into the answer section of the response, change QNAME to the canonical name in the CNAME RR, and go back to step 1." RFC 4035 §2.5 lets RRSIG and NSEC live beside a CNAME in a signed zone; where the CNAME owner has none (unsigned: neither; NSEC3: no NSEC), QTYPE RRSIG/NSEC follows the CNAME (NSD does; Knot and BIND answer NODATA)',
    check: ({ copy, q, apex }) => {
      const absent = copy === 'unsigned' ? q.qtype === RRSIG || q.qtype === 47 : copy !== 'nsec' && q.qtype === 47;
      if (!absent || apex === undefined || apex.rcode !== 0) return null;
      const qn = (apex.question[0]?.name ?? '').toLowerCase();
      if (!CNAME_OWNERS.has(qn.endsWith('.') ? qn : qn + '.')) return null;
      return apex.answer.some((r) => r.type === 5 && r.owner.toLowerCase() === qn) ? undefined : 'the CNAME was not followed';
    },
  },
];

/** Owners of CNAME records in the fixture zones (lowercased, absolute); wildcard CNAME owners match any label. */
const CNAME_OWNERS: ReadonlySet<string> = new Set(
  ZONES.flatMap((z) => readFixtureZone(z.file, z.name + '.').records.filter((r) => r.type === 'CNAME' && !r.owner.startsWith('*')).map((r) => r.owner.toLowerCase())),
);

interface Finding {
  readonly q: DiffQuery;
  readonly copy: string;
  readonly diffs: readonly FieldDiff[];
  readonly ref: Ref;
  readonly apex: Buffer | null;
  readonly refReply: Buffer | null;
}

interface ThreeRefReport {
  total: number;
  /** RFC_CHECKS violations by apexdns. */
  rfcViolations: { readonly id: string; readonly copy: string; readonly q: DiffQuery; readonly what: string }[];
  /** Queries each RFC check applied to and passed. */
  rfcPassed: Map<string, number>;
  consensus: number;
  mismatches: Finding[];
  /** Reference disagreements by kind: "<odd one out> differs (<fields>)" or "no majority (<fields per pair>)". */
  disagreements: Map<string, number>;
  /** Where two references agree and the third differs, apexdns differs from the majority (informational). */
  majorityMismatches: Finding[];
}

const SHOW = process.env.APEXDNS_3REF_SHOW === undefined ? undefined : new RegExp(process.env.APEXDNS_3REF_SHOW, 'i');

function classify(copy: Copy, qs: readonly DiffQuery[], replies: readonly (Buffer | null)[][], r: ThreeRefReport): void {
  for (let i = 0; i < qs.length; i++) {
    const q = qs[i]!;
    const [k, b, n, apex] = replies[i]! as [Buffer | null, Buffer | null, Buffer | null, Buffer | null];
    // Debugging aid: APEXDNS_3REF_SHOW=<regex> prints all four replies for matching query labels.
    if (SHOW !== undefined && SHOW.test(`[${copy}] ${q.label}`)) {
      console.log(`[${copy}] ${q.label}\n  knot:    ${brief(k)}\n  bind:    ${brief(b)}\n  nsd:     ${brief(n)}\n  apexdns: ${brief(apex)}`);
    }
    const refs: Record<Ref, Buffer | null> = { knot: k, bind: b, nsd: n };
    r.total++;
    const ctx: CheckContext = { copy, q, refs: [tryParse(k), tryParse(b), tryParse(n)], apex: tryParse(apex) };
    for (const c of RFC_CHECKS) {
      const v = c.check(ctx);
      if (typeof v === 'string') r.rfcViolations.push({ id: c.id, copy, q, what: v });
      else if (v === undefined) r.rfcPassed.set(c.id, (r.rfcPassed.get(c.id) ?? 0) + 1);
    }
    const kb = refsAgree(q, k, b);
    const kn = refsAgree(q, k, n);
    const bn = refsAgree(q, b, n);
    if (kb && kn && bn) {
      r.consensus++;
      for (const ref of REFS) {
        const d = unexplained(q, refs[ref], apex);
        if (d.length > 0) {
          r.mismatches.push({ q, copy, diffs: d, ref, apex, refReply: refs[ref] });
          break;
        }
      }
      continue;
    }
    const fieldsOf = (x: Buffer | null, y: Buffer | null): string => [...new Set(unexplained(q, x, y).map((d) => d.field))].sort().join(',');
    let kind: string;
    let majority: Ref | undefined;
    if (bn && !kb && !kn) [kind, majority] = [`knot differs (${fieldsOf(b, k)})`, 'bind'];
    else if (kn && !kb && !bn) [kind, majority] = [`bind differs (${fieldsOf(k, b)})`, 'knot'];
    else if (kb && !kn && !bn) [kind, majority] = [`nsd differs (${fieldsOf(k, n)})`, 'knot'];
    else kind = `no majority (knot/bind: ${fieldsOf(k, b) || '='}; knot/nsd: ${fieldsOf(k, n) || '='}; bind/nsd: ${fieldsOf(b, n) || '='})`;
    r.disagreements.set(kind, (r.disagreements.get(kind) ?? 0) + 1);
    if (process.env.APEXDNS_3REF_KINDS === '1' && r.disagreements.get(kind) === 1) {
      console.log(`${kind}: [${copy}] ${q.label}\n  knot:    ${brief(k)}\n  bind:    ${brief(b)}\n  nsd:     ${brief(n)}\n  apexdns: ${brief(apex)}`);
    }
    if (majority !== undefined) {
      const d = unexplained(q, refs[majority], apex);
      if (d.length > 0) r.majorityMismatches.push({ q, copy, diffs: d, ref: majority, apex, refReply: refs[majority] });
    }
  }
}

function formatFinding(f: Finding): string {
  return `[${f.copy}] ${f.q.label}\n     vs ${f.ref}: ${f.diffs.map((d) => `${d.field}: ref=${d.a} apexdns=${d.b}`).join('\n       ')}\n` +
    `     ${f.ref}: ${brief(f.refReply)}\n     apexdns: ${brief(f.apex)}`;
}

const peers = requireTools('knotd', 'named', 'nsd', 'dnssec-keygen', 'dnssec-signzone');
const built = daemonBuilt();

describe('three-reference query set', () => {
  it('sends every well-formed query in DO=0 and DO=1 forms and covers referrals and SVCB/HTTPS', () => {
    const qs = threeRefQueries();
    expect(qs.length).toBeGreaterThanOrEqual(2000);
    expect(new Set(qs.map((q) => q.id)).size).toBe(qs.length);
    // DO bit of the query's OPT (RFC 3225 §3; the OPT RR is the last 11 octets: flags at offset 7), undefined without EDNS.
    const doOf = (q: DiffQuery): boolean | undefined => (q.ednsSize === undefined ? undefined : (q.bytes.readUInt16BE(q.bytes.length - 4) & 0x8000) !== 0);
    // Every deleg.test question (same transport and header flags) is sent with DO=1 and with DO=0 or without EDNS.
    const forms = new Map<string, Set<boolean>>();
    for (const q of qs.filter((x) => /deleg\.test\.? /i.test(x.label))) {
      const k = `${q.transport} ${q.flags} ${q.bytes.subarray(12, q.bytes.length - (q.ednsSize === undefined ? 0 : 11)).toString('hex')}`;
      const set = forms.get(k) ?? new Set<boolean>();
      set.add(doOf(q) === true);
      forms.set(k, set);
    }
    expect(forms.size).toBeGreaterThan(500);
    expect([...forms.entries()].filter(([, v]) => v.size !== 2).map(([k]) => k)).toEqual([]);
    for (const n of ['to-secure.deleg.test', 'sibling.w.deleg.test', 'a.b.c.d.e.secure.deleg.test', 'SeCuRe.DeLeG.TeSt', 'alias2.deleg.test']) {
      expect(qs.some((q) => q.label.includes(` ${n} `))).toBe(true);
    }
    expect(threeRefQueries().map((q) => q.bytes.toString('hex'))).toEqual(qs.map((q) => q.bytes.toString('hex')));
  });
});

describe.skipIf('skip' in peers || 'skip' in built)('apexdns vs Knot, BIND and NSD (unsigned, NSEC, NSEC3 and Opt-Out presigned copies)', () => {
  let signDir: string;
  const ports: Record<Copy, number[]> = { unsigned: [], nsec: [], nsec3: [], optout: [] };

  beforeAll(async () => {
    signDir = mkdtempSync(join(tmpdir(), 'apexdns-3ref-sign-'));
    const signed = signZones(ZONES, signDir);
    const signed3 = signZones(ZONES, signDir, { nsec3: true });
    const optout = signZones(ZONES, signDir, { nsec3: true, optOut: true });
    const presigned = Object.fromEntries(ZONES.map((z) => [z.name, { dnssec: { mode: 'presigned' } }]));
    const start = async (zones: readonly ZoneSpec[], pre: boolean): Promise<number[]> => {
      const [k, b, n, a] = await Promise.all([
        startKnot(zones),
        startBind(zones),
        startNsd(zones),
        startDaemon(zones, pre ? { zoneSettings: presigned } : {}),
      ]);
      return [k.port, b.port, n.port, a.port];
    };
    [ports.unsigned, ports.nsec, ports.nsec3, ports.optout] = await Promise.all([start(ZONES, false), start(signed, true), start(signed3, true), start(optout, true)]);
  }, 90_000);

  afterAll(async () => {
    await stopAll();
    rmSync(signDir, { recursive: true, force: true });
  });

  it('agrees with the references wherever Knot, BIND and NSD agree with each other', async () => {
    const qs = threeRefQueries();
    const report: ThreeRefReport = { total: 0, rfcViolations: [], rfcPassed: new Map(), consensus: 0, mismatches: [], disagreements: new Map(), majorityMismatches: [] };
    for (const copy of COPIES) {
      classify(copy, qs, await runAllN(qs, ports[copy], 16), report);
    }
    const lines = [
      `three-reference differential test: ${report.total} queries, ${report.consensus} with reference consensus, ` +
        `${report.mismatches.length} apexdns mismatches against the consensus; ` +
        `${report.total - report.consensus} reference disagreements (apexdns differs from the majority on ${report.majorityMismatches.length})`,
      ...[...report.disagreements.entries()].sort((x, y) => y[1] - x[1]).map(([k, v]) => `  reference disagreement x${v}: ${k}`),
      `RFC checks on apexdns: ${report.rfcViolations.length} violations`,
      ...RFC_CHECKS.map((c) => `  ${c.id} (${c.rfc.split(':')[0]}): held on ${report.rfcPassed.get(c.id) ?? 0} queries, ${report.rfcViolations.filter((v) => v.id === c.id).length} violations`),
    ];
    console.log(lines.join('\n'));
    const max = Number(process.env.APEXDNS_DIFF_MAX ?? 20);
    if (process.env.APEXDNS_DIFF_MAJORITY === '1') console.log(report.majorityMismatches.slice(0, max).map(formatFinding).join('\n'));
    if (report.mismatches.length > 0) {
      throw new Error(`${lines[0]}\nfirst ${Math.min(max, report.mismatches.length)}:\n${report.mismatches.slice(0, max).map(formatFinding).join('\n')}`);
    }
    if (report.rfcViolations.length > 0) {
      const list = report.rfcViolations.slice(0, max).map((v) => `[${v.copy}] ${v.q.label}: ${v.id}: ${v.what}\n     ${RFC_CHECKS.find((c) => c.id === v.id)!.rfc}`);
      throw new Error(`${report.rfcViolations.length} RFC check violations:\n${list.join('\n')}`);
    }
    // Every RFC check applied to real queries (none is vacuous).
    for (const c of RFC_CHECKS) expect(report.rfcPassed.get(c.id) ?? 0, c.id).toBeGreaterThan(3);
    expect(report.consensus).toBeGreaterThan(report.total * 0.9);
  }, 120_000);
});
