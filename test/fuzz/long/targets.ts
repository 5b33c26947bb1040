// The coverage-guided fuzz targets of `npm run fuzz`: the packet decoder plus the whole query pipeline (unsigned and
// live-signed zones, cookies and rate limiting on), the zone-file parser and snapshot builder, the IXFR/AXFR client
// parsers, and TSIG verification. Seeds come from the test fixtures.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { attachSigning, prepareZoneDnssec } from '../../../src/dnssec/zone-keys.js';
import type { DenialMode } from '../../../src/dnssec/settings.js';
import { QueryEngine } from '../../../src/query/pipeline.js';
import { RateLimiter, RRL_ENTRIES, RRL_ENTRY } from '../../../src/query/rrl.js';
import { ChangesetError } from '../../../src/transfer/changeset.js';
import { AxfrAssembler, IxfrParser, TransferStreamError } from '../../../src/transfer/ixfr-parse.js';
import { signMessage, verifyMessage, type TsigKey } from '../../../src/transfer/tsig.js';
import { RRType } from '../../../src/wire/constants.js';
import { decodeMessage } from '../../../src/wire/decode.js';
import { encodeQuery } from '../../../src/wire/encode.js';
import { WireError } from '../../../src/wire/message.js';
import { Name, NameError } from '../../../src/wire/name.js';
import { parseZoneText } from '../../../src/zone/parser.js';
import { buildSnapshot, type ZoneSnapshot } from '../../../src/zone/snapshot.js';
import { ZoneSet, ZoneStore } from '../../../src/zone/store.js';
import { REPO_ROOT } from '../../helpers/daemon.js';
import { buildQuery } from '../../helpers/dig.js';
import { parseMessage } from '../../helpers/dnsmsg.js';
import { int, mutateBytes, mutateText, pick, type Rnd } from '../fuzz-helpers.js';
import type { Target } from './guided.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
const ORG = readFileSync(join(FIXTURES, 'diff', 'example.org.zone'), 'utf8');
const RFC4592 = readFileSync(join(FIXTURES, 'diff', 'rfc4592.example.zone'), 'utf8');

/** Splice: a prefix of `a` and a suffix of `b` (two corpus entries crossed over). */
function splice(rnd: Rnd, a: Uint8Array, b: Uint8Array): Uint8Array {
  const cut = int(rnd, a.length + 1);
  const from = int(rnd, b.length + 1);
  const out = new Uint8Array(cut + b.length - from);
  out.set(a.subarray(0, cut));
  out.set(b.subarray(from), cut);
  return out;
}

function mutateWire(rnd: Rnd, input: Uint8Array, other: Uint8Array): Uint8Array {
  return rnd() < 0.1 ? splice(rnd, input, other) : mutateBytes(rnd, input, 3);
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function snapshot(origin: string, text: string): ZoneSnapshot {
  const o = Name.parse(origin);
  const built = buildSnapshot(o, parseZoneText(text, 'seed.zone', { origin: o, zonesDir: FIXTURES }).records);
  if (!built.snapshot) throw new Error(`fixture ${origin} does not build`);
  return built.snapshot;
}

async function signed(origin: string, text: string, denial: DenialMode, keys: string): Promise<ZoneSnapshot> {
  const o = Name.parse(origin);
  const prep = await prepareZoneDnssec(o, { mode: 'live', state: 'active', denial, keys, validityDays: undefined }, new SignatureCache({ maxBytes: 1 << 22 }));
  const built = buildSnapshot(o, prep!.augment(parseZoneText(text, 'seed.zone', { origin: o, zonesDir: FIXTURES }).records));
  if (!built.snapshot) throw new Error(`fixture ${origin} does not build signed`);
  attachSigning(built.snapshot, prep!.signing!);
  return built.snapshot;
}

/** Query seeds: every owner name of the fixtures in several types and EDNS forms, cookies, and malformed classics. */
function querySeeds(): Uint8Array[] {
  const names = ['example.org', 'www.example.org', 'host.deleg.example.org', 'foo.wild.example.org', 'www.dn.example.org', 'nx.example.org', 'signed.test', 'x.signed.test', 'nsec.test', 'a.b.nsec.test', 'host1.example', 'x.sub.*.example', 'version.bind'];
  const types = ['A', 'AAAA', 'MX', 'TXT', 'NS', 'DS', 'ANY', 'NSEC', 'HTTPS', 'SOA', 'CNAME', 'RRSIG', 'AXFR', 'IXFR'];
  const out: Uint8Array[] = [];
  let id = 1;
  for (const name of names) {
    for (const type of types) {
      out.push(buildQuery({ name, type, id: id++ }));
      out.push(buildQuery({ name, type, id: id++, edns: { udpSize: 1232, do: true } }));
    }
  }
  out.push(buildQuery({ name: 'www.example.org', type: 'A', id: id++, edns: { udpSize: 4096, do: true, options: [{ code: 10, data: new Uint8Array(8).fill(7) }, { code: 3, data: new Uint8Array(0) }] } }));
  out.push(buildQuery({ name: 'www.example.org', type: 'A', id: id++, edns: { udpSize: 512, do: false, options: [{ code: 10, data: new Uint8Array(24).fill(1) }] } }));
  out.push(encodeQuery({ id: id++, opcode: 4, flags: 0x0400, question: { name: Name.parse('example.org.'), type: RRType.SOA, class: 1 } }));
  return out;
}

export async function packetTarget(keysDir: string): Promise<Target<Uint8Array>> {
  const set = new Map<string, { snapshot: ZoneSnapshot; expired: boolean }>();
  const add = (z: ZoneSnapshot): void => void set.set(z.origin.key, { snapshot: z, expired: false });
  add(snapshot('example.org.', ORG));
  add(snapshot('example.', RFC4592));
  const small = '$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\n*.w TXT "x"\nsub NS ns.sub\nns.sub A 192.0.2.3\na.b.c CNAME www\n';
  add(await signed('signed.test.', small, 'compact', join(keysDir, 'c')));
  add(await signed('nsec.test.', small, 'nsec', join(keysDir, 'n')));
  add(await signed('nsec3.test.', small, 'nsec3', join(keysDir, 'n3')));
  const store = new ZoneStore();
  store.publish(new ZoneSet(set, 1));
  const rrl = new RateLimiter({ responsesPerSecond: 1000, window: 2, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, exempt: () => false, table: new Int32Array(RRL_ENTRIES * RRL_ENTRY) });
  const engine = new QueryEngine(store, { udpSize: 1232, identity: { idServer: 'fuzz' }, answerCacheEntries: 1000, cookies: { secrets: [new Uint8Array(16).fill(9)], require: false }, rrl });
  const contexts = [
    { transport: 'udp', address: '192.0.2.1', port: 1 },
    { transport: 'tcp', address: '2001:db8::1', port: 2 },
  ] as const;
  let n = 0;
  return {
    name: 'packet → query pipeline',
    seeds: querySeeds(),
    mutate: mutateWire,
    async exec(input) {
      const out = engine.handle(input, contexts[n++ & 1]!);
      const first = out instanceof Promise ? await out : out;
      if (first === null) return;
      const bytes = first instanceof Uint8Array ? first : (() => { throw new Error('the pipeline returned a stream for a query'); })();
      // Every answer is a well-formed message for the same ID (RFC 1035 §4.1.1).
      const m = parseMessage(bytes);
      if (input.length >= 2 && m.id !== ((input[0]! << 8) | input[1]!)) throw new Error(`answer ID ${m.id} for a query with another ID`);
      if ((m.flags & 0x8000) === 0) throw new Error('answer without QR');
    },
    describe: hexOf,
  };
}

const ZONE_ALPHABET = ['$ORIGIN ', '$TTL ', '$INCLUDE ', '$GENERATE 1-5 ', ' IN ', ' A ', ' AAAA ', ' CNAME ', ' TXT ', ' SVCB ', ' HTTPS ', ' DS ', ' NS ', ' MX ', '(', ')', '"', '\\', ';', '\n', ' ', '\t', '.', '@', '*', '0', '1', '255', '65536', 'a', 'ä', '\\# 4 c0000201', 'cf_tags=cf-proxied:true', '${0,3,d}'];

export function zoneTarget(): Target<string> {
  const origin = Name.parse('example.org.');
  return {
    name: 'zone-file parser + snapshot',
    seeds: [ORG, RFC4592, readFileSync(join(REPO_ROOT, 'zones', 'example.com.zone'), 'utf8')],
    mutate(rnd, input, other) {
      if (rnd() < 0.1) {
        const a = input.split('\n');
        const b = other.split('\n');
        return [...a.slice(0, int(rnd, a.length + 1)), ...b.slice(int(rnd, b.length + 1))].join('\n');
      }
      return mutateText(rnd, input, ZONE_ALPHABET, 3);
    },
    exec(text) {
      const parsed = parseZoneText(text, 'fuzz.zone', { origin, zonesDir: FIXTURES, readFile: () => 'x A 192.0.2.1\n' });
      const lines = text.split('\n').length;
      for (const d of parsed.diagnostics) {
        // A bad zone file gets an error with file:line:column inside the file.
        if (d.pos.file === 'fuzz.zone' && (d.pos.line < 1 || d.pos.line > lines || d.pos.col < 1)) throw new Error(`diagnostic at ${d.pos.line}:${d.pos.col} outside the file (${lines} lines): ${d.message}`);
      }
      if (parsed.diagnostics.some((d) => d.severity === 'error')) return;
      buildSnapshot(origin, parsed.records);
    },
    describe: (t) => JSON.stringify(t.length > 4000 ? `${t.slice(0, 4000)}…` : t),
  };
}

/** AXFR/IXFR response messages: a full zone and an incremental stream, as a primary would send them. */
function transferSeeds(): Uint8Array[] {
  const zone = Name.parse('example.com.');
  const soa = (serial: number): Uint8Array => {
    const w = [...Name.parse('ns1.example.com.').toWire(), ...Name.parse('h.example.com.').toWire(), serial >>> 24, (serial >>> 16) & 0xff, (serial >>> 8) & 0xff, serial & 0xff, 0, 0, 14, 16, 0, 0, 7, 8, 0, 9, 58, 128, 0, 0, 1, 44];
    return Uint8Array.from(w);
  };
  const e = (owner: string, type: number, rdata: Uint8Array) => ({ owner: Name.parse(owner), type, class: 1, ttl: 300, rdata: [rdata] });
  const msg = (answer: ReturnType<typeof e>[]) => encodeQuery({ id: 1, flags: 0x8400, question: { name: zone, type: RRType.AXFR, class: 1 }, answer });
  const a = (x: number) => Uint8Array.from([192, 0, 2, x]);
  return [
    msg([e('example.com.', RRType.SOA, soa(5)), e('example.com.', RRType.NS, Name.parse('ns1.example.com.').toWire()), e('www.example.com.', RRType.A, a(1)), e('example.com.', RRType.SOA, soa(5))]),
    msg([e('example.com.', RRType.SOA, soa(7)), e('example.com.', RRType.SOA, soa(5)), e('www.example.com.', RRType.A, a(1)), e('example.com.', RRType.SOA, soa(7)), e('www.example.com.', RRType.A, a(2)), e('example.com.', RRType.SOA, soa(7))]),
    msg([e('example.com.', RRType.SOA, soa(5))]),
  ];
}

export function transferTarget(): Target<Uint8Array> {
  const zone = Name.parse('example.com.');
  const allowed = [WireError, TransferStreamError, NameError, ChangesetError];
  return {
    name: 'IXFR/AXFR client parsers',
    seeds: transferSeeds(),
    mutate: mutateWire,
    exec(input) {
      try {
        const m = decodeMessage(input);
        const ixfr = new IxfrParser({ clientSerial: 5, zone });
        ixfr.pushAll(m.answer);
        if (ixfr.done) ixfr.finish();
        const axfr = new AxfrAssembler({ zone });
        axfr.pushAll(m.answer);
      } catch (e) {
        if (!allowed.some((k) => e instanceof k)) throw e;
      }
    },
    describe: hexOf,
  };
}

export function tsigTarget(): Target<Uint8Array> {
  const key: TsigKey = { name: Name.parse('xfr.example.'), algorithm: 'hmac-sha256', secret: new Uint8Array(32).fill(5) };
  const seeds = transferSeeds().map((m) => signMessage(m, key, { time: 1_700_000_000 }).message);
  return {
    name: 'TSIG verification',
    seeds,
    mutate: mutateWire,
    exec(input) {
      // Never throws; an accepted message must still be one we signed.
      const r = verifyMessage(input, (n) => (n.equals(key.name) ? key : undefined), { now: 1_700_000_000 });
      if (r.ok && !seeds.some((s) => s.length === input.length)) throw new Error('a mutated message verified');
    },
    describe: hexOf,
  };
}

export { pick };
