// Shared fixtures for answer-shaping tests: zone text → records/snapshots with proxy shaping applied, pool config.

import { Name } from '../../src/wire/name.js';
import { parseIp, type IpAddress } from '../../src/util/ip.js';
import type { ProxyConfig } from '../../src/config/types.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildSnapshot, type ZoneSnapshot } from '../../src/zone/snapshot.js';
import { formatDiagnostic, type RR } from '../../src/zone/model.js';
import { applyFlattenAll, applyProxy } from '../../src/zone/proxy.js';
import { rdataToText } from '../../src/wire/rdata/index.js';
import { typeToString } from '../../src/wire/constants.js';

export function ip(text: string): IpAddress {
  const a = parseIp(text);
  if (!a) throw new Error(`bad address ${text}`);
  return a;
}

export const POOL: ProxyConfig = {
  ipv4: [ip('203.0.113.1'), ip('203.0.113.2')],
  ipv6: [ip('2001:db8:cf::1'), ip('2001:db8:cf::2')],
  https: { alpn: ['h3', 'h2'] },
};

export function parseRecords(origin: string, text: string): readonly RR[] {
  const parsed = parseZoneText(text, 'test.zone', { origin: Name.parse(origin), zonesDir: '/nonexistent' });
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map(formatDiagnostic).join('\n'));
  return parsed.records;
}

/** Parse, apply proxy shaping (and flatten-all), build: throws on any error. */
export function shapedZone(origin: string, text: string, pool: ProxyConfig | undefined = POOL, flattenAll = false): ZoneSnapshot {
  const o = Name.parse(origin);
  const proxied = applyProxy(parseRecords(origin, text), o, pool);
  const errors = proxied.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map(formatDiagnostic).join('\n'));
  const built = buildSnapshot(o, flattenAll ? applyFlattenAll(proxied.records) : proxied.records);
  if (!built.snapshot) throw new Error(built.diagnostics.map(formatDiagnostic).join('\n'));
  return built.snapshot;
}

/** `owner ttl TYPE rdata` presentation of a record. */
export function show(rr: { owner: Name; ttl: number; type: number; rdata: Uint8Array }): string {
  return `${rr.owner.toString()} ${rr.ttl} ${typeToString(rr.type)} ${rdataToText(rr.type, rr.rdata)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// In-process engine queries

import { decodeMessage } from '../../src/wire/decode.js';
import { encodeQuery } from '../../src/wire/encode.js';
import { EdnsOption, RRClass, typeFromString } from '../../src/wire/constants.js';
import type { QueryEngine } from '../../src/query/pipeline.js';
import { ZoneSet, ZoneStore, type ServedZone } from '../../src/zone/store.js';

export interface Answer {
  readonly rcode: number;
  readonly aa: boolean;
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  readonly additional: readonly string[];
  /** `code text` of the EDE option, if any. */
  readonly ede: string | undefined;
}

const CTX = { transport: 'udp' as const, address: '127.0.0.1', port: 5353 };

export function storeOf(...zones: ZoneSnapshot[]): ZoneStore {
  const store = new ZoneStore();
  const m = new Map<string, ServedZone>();
  for (const z of zones) m.set(z.origin.key, { snapshot: z, expired: false });
  store.publish(new ZoneSet(m, 1));
  return store;
}

/** Send one query through the engine (EDNS on, 4096) and decode the reply. */
export async function ask(engine: QueryEngine, name: string, type: string): Promise<Answer> {
  const t = typeFromString(type)!;
  const q = encodeQuery({ id: 4242, flags: 0x0100, question: { name: Name.parse(name), type: t, class: RRClass.IN }, edns: { udpSize: 4096, do: false, options: [] } });
  const out = await engine.handle(q, CTX);
  if (!(out instanceof Uint8Array)) throw new Error('no single answer');
  const m = decodeMessage(out);
  const opt = m.edns?.options.find((o) => o.code === EdnsOption.EDE);
  return {
    rcode: m.rcode,
    aa: (m.flags & 0x0400) !== 0,
    answer: m.answer.map(show),
    authority: m.authority.map(show),
    additional: m.additional.map(show),
    ede: opt ? `${(opt.data[0]! << 8) | opt.data[1]!} ${Buffer.from(opt.data.subarray(2)).toString('utf8')}` : undefined,
  };
}
