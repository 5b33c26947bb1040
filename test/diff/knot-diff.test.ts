// Differential test: apexdns and Knot serve the same fixture zones and must give equivalent answers to the same
// generated queries, except for the documented implementation-defined differences in harness.ts (RULES).
// Until dist/cli/main.js exists the apexdns comparison is skipped; the harness is then validated Knot vs Knot.

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonBuilt, REPO_ROOT, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { buildQuery, queryUdp } from '../helpers/dig.js';
import { parseMessage, rrText } from '../helpers/dnsmsg.js';
import { startKnot, type KnotServer, type ZoneSpec } from '../helpers/knot.js';
import { stopAll } from '../helpers/procs.js';
import { tool } from '../helpers/tools.js';
import { readFixtureZone } from './fixture-zone.js';
import { evaluate, formatReport, formatUnexplained, QueryBuilder, rcodeName, runAll, type DiffQuery, type Report } from './harness.js';

const FIX = join(REPO_ROOT, 'test', 'fixtures', 'diff');
const ZONES: readonly ZoneSpec[] = [
  { name: 'example.org', file: join(FIX, 'example.org.zone') },
  { name: 'example', file: join(FIX, 'rfc4592.example.zone') },
];

interface Rfc4592Case {
  readonly name: string;
  readonly type: string;
  readonly rcode: string;
  readonly answer: readonly string[];
  readonly referral?: boolean;
  readonly why: string;
}
const RFC4592 = JSON.parse(readFileSync(join(FIX, 'rfc4592.queries.json'), 'utf8')) as { readonly queries: readonly Rfc4592Case[] };

/** The full query set (deterministic). */
export function diffQueries(): DiffQuery[] {
  const qb = new QueryBuilder();
  const org = readFixtureZone(join(FIX, 'example.org.zone'), 'example.org.');
  const ex = readFixtureZone(join(FIX, 'rfc4592.example.zone'), 'example.');
  const loops = new Set(['loop1.example.org.', 'loop2.example.org.', 'self.example.org.']);
  qb.zoneQueries(org, (o) => (loops.has(o) ? ['cname-loop'] : []));
  qb.zoneQueries(ex);
  // CNAME into the other served zone: both stopping and following are allowed (rule cname-cross-zone).
  for (const t of ['A', 'AAAA', 'MX', 'TXT']) qb.add({ name: 'cx.example.org', type: t }, { tags: ['cross-zone'] });
  // RFC 4592 §2.2.1 queries, with and without EDNS/DO and in mixed case.
  for (const c of RFC4592.queries) {
    qb.add({ name: c.name, type: c.type });
    qb.add({ name: qb.mixCase(c.name), type: c.type, edns: { udpSize: 1232, do: true } });
    qb.add({ name: c.name, type: c.type }, { transport: 'tcp' });
  }
  // Wildcards (RFC 4592 §4): deep matches, literal '*', CNAME wildcards, names below wildcard-looking nodes.
  for (const n of ['foo.wild.example.org', 'a.b.c.wild.example.org', '*.wild.example.org', 'x.wc.example.org', 'q.r.wc.example.org', 'x.sub.*.example.', 'ghost.*.example.', '*.example.', 'a.*.example.']) {
    for (const t of ['A', 'TXT', 'MX', 'CNAME', 'AAAA']) qb.add({ name: n, type: t, edns: { udpSize: 1232, do: false } });
  }
  // DNAME (RFC 6672): synthesis, NXDOMAIN under the target, chains through CNAME, out-of-zone target, overflow.
  for (const n of ['www.dn.example.org', 'nx.dn.example.org', 'mail.dn.example.org', 'a.b.dn.example.org', 'dn.example.org', 'x.dnout.example.org', 'cdn.example.org', 'WwW.Dn.ExAmPlE.oRg']) {
    for (const t of ['A', 'MX', 'DNAME', 'CNAME']) qb.add({ name: n, type: t });
  }
  const l60 = (i: number): string => `l${String(i).padStart(2, '0')}${'x'.repeat(57)}`;
  for (const t of ['A', 'TXT']) {
    qb.add({ name: `${l60(0)}.${l60(1)}.long.example.org`, type: t }, { tags: ['dname-overflow'] });
    qb.add({ name: `${l60(0)}.long.example.org`, type: t }, { tags: ['dname-overflow'] }); // 61 + 196 = 257 octets
    qb.add({ name: `abc.long.example.org`, type: t }); // 200 octets after substitution: fits
  }
  // Mixed-case owners queried in their own, lower and upper case.
  for (const n of ['MiXeD.CaSe.example.org', 'mixed.case.example.org', 'UPPER.EXAMPLE.ORG', 'Cased.example.org', 'lower.CASE.example.org']) {
    for (const t of ['A', 'TXT', 'MX', 'CNAME']) qb.add({ name: n, type: t });
  }
  // Delegations: below the cut, occluded names, glue owners, DS at the cut (answered by the parent, RFC 4035 §3.1.4.1).
  for (const n of ['host.deleg.example.org', 'ns1.deleg.example.org', 'occluded.deleg.example.org', 'deleg2.example.org', 'x.y.deleg3.example.org', 'a.b.deleg3.example.org', 'host.subdel.example.']) {
    for (const t of ['A', 'AAAA', 'NS', 'DS', 'TXT']) {
      qb.add({ name: n, type: t, edns: { udpSize: 1232, do: true } });
      qb.add({ name: n, type: t, edns: { udpSize: 512, do: false } });
    }
  }
  // Big RRsets and truncation.
  qb.bigQueries([
    { name: 'big40.example.org', type: 'A' },
    { name: 'txt8.example.org', type: 'TXT' },
    { name: 'txt60.example.org', type: 'TXT' },
    { name: 'big40.example.org', type: 'ANY' },
    { name: 'mxhost.example.org', type: 'MX' },
  ]);
  // Protocol edge cases and malformed packets.
  qb.edgeQueries('www.example.org', 'example.org');
  return qb.out;
}

async function checkRfc4592(port: number): Promise<string[]> {
  const problems: string[] = [];
  for (const c of RFC4592.queries) {
    const m = parseMessage(await queryUdp(port, buildQuery({ name: c.name, type: c.type })));
    const got = m.answer.map(rrText);
    if (rcodeName(m.rcode) !== c.rcode) problems.push(`${c.name} ${c.type}: rcode ${rcodeName(m.rcode)}, want ${c.rcode} (${c.why})`);
    const want = c.answer.map((x) => x.replace(/\s+/g, ' '));
    if (JSON.stringify([...got].sort()) !== JSON.stringify([...want].sort())) {
      problems.push(`${c.name} ${c.type}: answer ${JSON.stringify(got)}, want ${JSON.stringify(want)} (${c.why})`);
    }
    const referral = !m.aa && m.authority.some((r) => r.type === 2);
    if ((c.referral ?? false) !== referral) problems.push(`${c.name} ${c.type}: referral=${referral}, want ${c.referral ?? false}`);
    if (!referral && !m.aa) problems.push(`${c.name} ${c.type}: AA not set on an authoritative answer`);
  }
  return problems;
}

function assertClean(r: Report, nameA: string, nameB: string): void {
  const summary = formatReport(r, nameA, nameB);
  console.log(summary);
  if (r.unexplained.length > 0) {
    // APEXDNS_DIFF_MAX=1000 lists more than the first 20 (for debugging a candidate).
    const max = Number(process.env.APEXDNS_DIFF_MAX ?? 20);
    throw new Error(`${summary}\nfirst ${Math.min(max, r.unexplained.length)} of ${r.unexplained.length} unexplained differences:\n${formatUnexplained(r, max)}`);
  }
}

const knot = tool('knotd');
const built = daemonBuilt();

describe('differential query set', () => {
  it('has at least 300 queries covering UDP, TCP, EDNS variants, DO, malformed and 0x20 cases', () => {
    const qs = diffQueries();
    expect(qs.length).toBeGreaterThanOrEqual(300);
    expect(qs.filter((q) => q.transport === 'tcp').length).toBeGreaterThanOrEqual(30);
    expect(new Set(qs.map((q) => q.ednsSize ?? 0))).toEqual(new Set([0, 100, 512, 1232, 4096]));
    expect(qs.some((q) => q.tags.has('noreply'))).toBe(true);
    expect(qs.filter((q) => q.tags.has('malformed')).length).toBeGreaterThanOrEqual(7);
    // Query IDs are unique so a stray late response can never be matched to the wrong query.
    expect(new Set(qs.map((q) => q.id)).size).toBe(qs.length);
    // Deterministic: same bytes on every run.
    expect(diffQueries().map((q) => q.bytes.toString('hex'))).toEqual(qs.map((q) => q.bytes.toString('hex')));
  });
});

describe.skipIf('skip' in knot)('harness self-check: Knot vs Knot', () => {
  let a: KnotServer;
  let b: KnotServer;
  let broken: KnotServer;
  let brokenDir: string;

  beforeAll(async () => {
    // b differs from a only in its maximum UDP payload, so the udp-size rules are exercised for real.
    [a, b] = await Promise.all([startKnot(ZONES), startKnot(ZONES, { serverConf: ['udp-max-payload: 4096'] })]);
    // A third instance with two deliberate data changes: the harness must report them as unexplained.
    brokenDir = mkdtempSync(join(tmpdir(), 'apexdns-diff-broken-'));
    const orig = readFileSync(ZONES[0]!.file, 'utf8');
    const mutated = orig.replace('www 300 IN A 192.0.2.80', 'www 300 IN A 192.0.2.99').replace('t1 120 IN TXT', 't1 121 IN TXT');
    expect(mutated).not.toBe(orig);
    writeFileSync(join(brokenDir, 'example.org.zone'), mutated);
    copyFileSync(ZONES[1]!.file, join(brokenDir, 'example.zone'));
    broken = await startKnot([
      { name: 'example.org', file: join(brokenDir, 'example.org.zone') },
      { name: 'example', file: join(brokenDir, 'example.zone') },
    ]);
  });

  afterAll(async () => {
    await stopAll();
    rmSync(brokenDir, { recursive: true, force: true });
  });

  it('reference answers RFC 4592 §2.2.1 queries as the RFC describes', async () => {
    expect(await checkRfc4592(a.port)).toEqual([]);
  });

  it('finds 0 unexplained differences between two Knot instances', async () => {
    const outcomes = await runAll(diffQueries(), a.port, b.port);
    const r = evaluate(outcomes);
    assertClean(r, `knotd:${a.port}`, `knotd:${b.port} (udp-max-payload 4096)`);
    expect(r.total).toBeGreaterThanOrEqual(300);
    // The payload-size difference is real and must have been seen and explained, not silently ignored.
    expect(r.explained.get('opt-udp-size') ?? 0).toBeGreaterThan(0);
    expect(r.explained.get('udp-payload-limit') ?? 0).toBeGreaterThan(0);
  });

  it('reports real data differences as unexplained', async () => {
    const qs = diffQueries().filter((q) => /\] (www\.example\.org\.? A|t1\.example\.org\.? TXT) /i.test(q.label));
    expect(qs.length).toBeGreaterThanOrEqual(2);
    const r = evaluate(await runAll(qs, a.port, broken.port));
    const fields = new Set(r.unexplained.map((u) => u.d.field));
    expect(fields).toEqual(new Set(['answer']));
    const texts = r.unexplained.map((u) => `${u.d.a} / ${u.d.b}`).join('\n');
    expect(texts).toContain('192.0.2.99');
    expect(texts).toContain('t1.example.org. 121 IN TXT "chain target"');
  });
});

describe.skipIf('skip' in knot || 'skip' in built)('apexdns vs Knot', () => {
  let ref: KnotServer;
  let apex: DaemonServer;

  beforeAll(async () => {
    [ref, apex] = await Promise.all([startKnot(ZONES), startDaemon(ZONES)]);
  });

  afterAll(async () => {
    await stopAll();
  });

  it('apexdns answers RFC 4592 §2.2.1 queries as the RFC describes', async () => {
    expect(await checkRfc4592(apex.port)).toEqual([]);
  });

  it('finds 0 unexplained differences against Knot', async () => {
    const r = evaluate(await runAll(diffQueries(), ref.port, apex.port));
    assertClean(r, `knotd:${ref.port}`, `apexdns:${apex.port}`);
    expect(r.total).toBeGreaterThanOrEqual(300);
  });
});
