// Load-time answer shaping: proxied A/AAAA/CNAME records replaced by the proxy pool (plus synthesized HTTPS), and
// the flatten-all-cnames zone setting turned into per-record flatten marks (seed "Proxy status", "CNAME flattening").

import { RRClass, RRType, typeToString } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { rdataTargetName } from '../wire/rdata/index.js';
import type { IpAddress } from '../util/ip.js';
import type { Diagnostic, RR, RecordMeta, SourcePos } from './model.js';

export interface HttpsTemplateConfig {
  /** ALPN ids for the synthesized HTTPS record (RFC 9460 §7.1.1), in order. */
  readonly alpn: readonly string[];
}

/** The pool that answers for proxied names. */
export interface ProxyConfig {
  readonly ipv4: readonly IpAddress[];
  readonly ipv6: readonly IpAddress[];
  /** Synthesize HTTPS records for proxied names; undefined = off. */
  readonly https: HttpsTemplateConfig | undefined;
}

/** Seed "Proxy status": proxied records are answered with TTL 300 ("Auto"), whatever the record says. */
export const PROXIED_TTL = 300;

/** RFC 9460 §14.3.2 SvcParamKeys used in the synthesized record. */
const KEY_ALPN = 1;
const KEY_IPV4HINT = 4;
const KEY_IPV6HINT = 6;

/** Seed "Proxy status" (C01): only these types can be proxied. */
const PROXIABLE: ReadonlySet<number> = new Set([RRType.A, RRType.AAAA, RRType.CNAME]);
/** RFC 4035 §2.5: DNSSEC records may share a node with a CNAME. */
const CNAME_COMPANIONS: ReadonlySet<number> = new Set([RRType.CNAME, RRType.RRSIG, RRType.NSEC, RRType.A, RRType.AAAA]);

const UNKNOWN_POS: SourcePos = { file: '(zone)', line: 0, col: 0 };

export interface ProxyResult {
  readonly records: RR[];
  readonly diagnostics: Diagnostic[];
}

interface ProxiedNode {
  readonly owner: Name;
  /** Meta of the first proxied record there: kept (comment, tags, position) on the replacement records. */
  readonly meta: RecordMeta;
  hasCname: boolean;
  hasHttps: boolean;
  emitted: boolean;
  otherTypes: number[];
}

/**
 * Replace proxied records by the pool. At every node where an A, AAAA or CNAME carries `cf-proxied:true`, all A,
 * AAAA and CNAME records are dropped and the pool's A and AAAA RRsets (TTL 300, owner = the node, so a `*` node stays
 * a wildcard) take their place; with `pool.https` an HTTPS `1 . alpn=… ipv4hint=… ipv6hint=…` RRset is added where the
 * node has none of its own. The origin addresses do not survive in the output at all, so no answer (ANY, additional
 * data, NSEC bitmaps, transfers) can reveal them. Pure: the input is not modified.
 */
export function applyProxy(records: readonly RR[], origin: Name, pool: ProxyConfig | undefined): ProxyResult {
  const diagnostics: Diagnostic[] = [];
  const nodes = new Map<string, ProxiedNode>();
  let firstProxied: RR | undefined;
  let proxiedCount = 0;

  for (const rr of records) {
    if (!rr.meta.proxied) continue;
    if (!PROXIABLE.has(rr.type)) {
      // Seed "Proxy status": "Only A, AAAA, and CNAME DNS records … can be proxied."
      diagnostics.push({
        severity: 'error',
        pos: rr.meta.pos ?? UNKNOWN_POS,
        message: `cf-proxied:true on a ${typeToString(rr.type)} record at ${rr.owner.toString()}: only A, AAAA and CNAME records can be proxied`,
      });
      continue;
    }
    proxiedCount++;
    firstProxied ??= rr;
    if (!nodes.has(rr.owner.key)) {
      nodes.set(rr.owner.key, { owner: rr.owner, meta: rr.meta, hasCname: false, hasHttps: false, emitted: false, otherTypes: [] });
    }
  }

  if (proxiedCount > 0 && !pool) {
    const more = proxiedCount > 1 ? ` (and ${proxiedCount - 1} more proxied record${proxiedCount > 2 ? 's' : ''})` : '';
    diagnostics.push({
      severity: 'error',
      pos: firstProxied!.meta.pos ?? UNKNOWN_POS,
      message: `${typeToString(firstProxied!.type)} record at ${firstProxied!.owner.toString()} is proxied (cf-proxied:true)${more}, but no proxy pool is configured: add a global or per-zone "proxy:" block with ipv4/ipv6 addresses`,
    });
  }
  if (nodes.size === 0 || !pool || diagnostics.some((d) => d.severity === 'error')) {
    return { records: [...records], diagnostics };
  }

  // What else lives at each proxied node (CNAME conflicts, own HTTPS records).
  for (const rr of records) {
    const n = nodes.get(rr.owner.key);
    if (!n) continue;
    if (rr.type === RRType.CNAME) n.hasCname = true;
    else if (rr.type === RRType.HTTPS) n.hasHttps = true;
    if (!CNAME_COMPANIONS.has(rr.type) && !n.otherTypes.includes(rr.type)) n.otherTypes.push(rr.type);
  }
  for (const n of nodes.values()) {
    // RFC 2181 §10.1: a CNAME cannot coexist with other data; replacing it by addresses must not hide that error.
    // The apex is exempt: an apex CNAME is legal in apexdns zone files (seed "CNAME flattening").
    if (n.hasCname && n.owner.key !== origin.key && n.otherTypes.length > 0) {
      diagnostics.push({
        severity: 'error',
        pos: n.meta.pos ?? UNKNOWN_POS,
        message: `CNAME and other data at ${n.owner.toString()} (${n.otherTypes.map(typeToString).join(', ')}); RFC 2181 §10.1`,
      });
    }
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { records: [...records], diagnostics };

  const httpsRdata = pool.https ? httpsTemplate(pool) : undefined;
  const out: RR[] = [];
  for (const rr of records) {
    const n = nodes.get(rr.owner.key);
    if (!n || !PROXIABLE.has(rr.type)) {
      out.push(rr);
      continue;
    }
    // Seed "Proxy status" mixing rule: one proxied A/AAAA makes every A/AAAA at the name proxied; a proxied CNAME is
    // always flattened (seed "Set up CNAME flattening"). Either way the node answers with the pool.
    if (n.emitted) continue;
    n.emitted = true;
    const meta: RecordMeta = { ...n.meta, proxied: true, flatten: false };
    for (const a of pool.ipv4) out.push({ owner: n.owner, type: RRType.A, class: RRClass.IN, ttl: PROXIED_TTL, rdata: a.bytes, meta });
    for (const a of pool.ipv6) out.push({ owner: n.owner, type: RRType.AAAA, class: RRClass.IN, ttl: PROXIED_TTL, rdata: a.bytes, meta });
    // Seed "Proxy status": HTTPS records generated on the fly for proxied names, unless the zone has its own.
    if (httpsRdata && !n.hasHttps) out.push({ owner: n.owner, type: RRType.HTTPS, class: RRClass.IN, ttl: PROXIED_TTL, rdata: httpsRdata, meta });
  }

  // Seed "Troubleshooting email issues": mail sent to a proxied host reaches the proxy, which does not relay SMTP.
  for (const rr of records) {
    if (rr.type !== RRType.MX && rr.type !== RRType.SRV) continue;
    const target = rdataTargetName(rr.type, rr.rdata);
    if (!target) continue;
    const n = nodes.get(target.key);
    if (!n) continue;
    diagnostics.push({
      severity: 'warning',
      pos: rr.meta.pos ?? UNKNOWN_POS,
      message: `${typeToString(rr.type)} record at ${rr.owner.toString()} points to ${target.toString()}, which is proxied: mail and other non-HTTP traffic to it will reach the proxy pool, not the origin; make ${target.toString()} DNS-only (seed "Troubleshooting email issues")`,
    });
  }
  return { records: out, diagnostics };
}

/**
 * The flatten-all-cnames zone setting (seed "Set up CNAME flattening"): every CNAME gets the flatten mark, so the
 * query path needs no per-zone configuration. Returns the input array when there is nothing to change.
 */
export function applyFlattenAll(records: readonly RR[]): readonly RR[] {
  if (!records.some((r) => r.type === RRType.CNAME && !r.meta.flatten)) return records;
  return records.map((r) => (r.type === RRType.CNAME && !r.meta.flatten ? { ...r, meta: { ...r.meta, flatten: true } } : r));
}

/**
 * RFC 9460 §2.2 / §7: ServiceMode HTTPS RDATA `1 . alpn=<list> ipv4hint=<pool v4> ipv6hint=<pool v6>`, SvcParams in
 * strictly increasing key order (§2.2); a hint whose pool family is empty is left out.
 */
export function httpsTemplate(pool: ProxyConfig): Uint8Array {
  const bytes: number[] = [0, 1, 0]; // SvcPriority 1, TargetName "." (root, RFC 9460 §2.5.2: the owner itself)
  const param = (key: number, value: readonly number[]): void => {
    bytes.push(key >> 8, key & 0xff, value.length >> 8, value.length & 0xff, ...value);
  };
  const alpn: number[] = [];
  for (const id of pool.https?.alpn ?? []) {
    const b = Buffer.from(id, 'utf8');
    // RFC 9460 §7.1.1: alpn-ids are length-prefixed (1..255 octets, checked by the config).
    alpn.push(b.length, ...b);
  }
  if (alpn.length > 0) param(KEY_ALPN, alpn);
  if (pool.ipv4.length > 0) param(KEY_IPV4HINT, pool.ipv4.flatMap((a) => [...a.bytes]));
  if (pool.ipv6.length > 0) param(KEY_IPV6HINT, pool.ipv6.flatMap((a) => [...a.bytes]));
  return Uint8Array.from(bytes);
}
