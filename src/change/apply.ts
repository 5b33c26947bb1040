// The one change path's core: prerequisites and operations checked against a zone's records as they are now,
// applied all or nothing, producing the new record list and the diff (RFC 2136 §3.2 and §3.4 semantics).

import { RRClass, RRType, Rcode } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { NO_META, type RR } from '../zone/model.js';
import { recordDataKey, soaSerial } from '../transfer/changeset.js';
import { serialGt } from '../transfer/serial.js';

/** A prerequisite (RFC 2136 §2.4). */
export type Prereq =
  /** §2.4.1 RRset exists (value independent). */
  | { readonly kind: 'rrset-exists'; readonly owner: Name; readonly type: number }
  /** §2.4.2 RRset exists (value dependent): the RRset is exactly these RDATAs. */
  | { readonly kind: 'rrset-equals'; readonly owner: Name; readonly type: number; readonly rdata: readonly Uint8Array[] }
  /** §2.4.3 RRset does not exist. */
  | { readonly kind: 'rrset-absent'; readonly owner: Name; readonly type: number }
  /** §2.4.4 Name is in use. */
  | { readonly kind: 'name-in-use'; readonly owner: Name }
  /** §2.4.5 Name is not in use. */
  | { readonly kind: 'name-absent'; readonly owner: Name };

/** A change operation (RFC 2136 §2.5). */
export type ChangeOp =
  /** §2.5.1 Add to an RRset (a duplicate RDATA replaces the record, e.g. a new TTL). */
  | { readonly kind: 'add'; readonly rr: RR }
  /** §2.5.2 Delete an RRset. */
  | { readonly kind: 'delete-rrset'; readonly owner: Name; readonly type: number }
  /** §2.5.3 Delete all RRsets from a name. */
  | { readonly kind: 'delete-name'; readonly owner: Name }
  /** §2.5.4 Delete an RR from an RRset (TTL ignored). */
  | { readonly kind: 'delete-rr'; readonly owner: Name; readonly type: number; readonly rdata: Uint8Array };

/** Why a change was not applied: the RFC 2136 RCODE and a message for the log / API. */
export interface ChangeFailure {
  readonly ok: false;
  readonly rcode: number;
  readonly message: string;
}

export interface ChangeApplied {
  readonly ok: true;
  /** The zone's records after the change (untouched records keep their identity and order, additions last). */
  readonly records: readonly RR[];
  /** Records of the old list that are gone (their `meta.pos` says where they were written). */
  readonly removed: readonly RR[];
  /** New records (no source position). */
  readonly added: readonly RR[];
}

export type ChangeResult = ChangeApplied | ChangeFailure;

function fail(rcode: number, message: string): ChangeFailure {
  return { ok: false, rcode, message };
}

/** Types that may share a name with a CNAME (RFC 2181 §10.1, RFC 4035 §2.5: the DNSSEC records). */
const CNAME_COMPANIONS: ReadonlySet<number> = new Set([RRType.CNAME, RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.KEY]);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function rrsetKey(owner: Name, type: number): string {
  return `${owner.key}/${type}`;
}

/**
 * Check `prereqs` against `records` (RFC 2136 §3.2), then apply `ops` in order (§3.4.2) on a working copy. Nothing
 * is changed when a prerequisite fails. Operations RFC 2136 says to ignore (a CNAME next to other data, deleting
 * the apex SOA or the last apex NS, an SOA whose serial does not increase) are ignored. Records are of class IN.
 */
export function applyChange(origin: Name, records: readonly RR[], prereqs: readonly Prereq[], ops: readonly ChangeOp[]): ChangeResult {
  // Index: RRsets by owner+type, owners in use.
  const byRrset = new Map<string, RR[]>();
  const owners = new Map<string, Set<number>>();
  for (const r of records) {
    const k = rrsetKey(r.owner, r.type);
    const l = byRrset.get(k);
    if (l) l.push(r);
    else byRrset.set(k, [r]);
    let t = owners.get(r.owner.key);
    if (!t) owners.set(r.owner.key, (t = new Set()));
    t.add(r.type);
  }
  for (const p of prereqs) {
    if (!p.owner.isSubdomainOf(origin)) return fail(Rcode.NOTZONE, `prerequisite name ${p.owner.toString()} is outside the zone`);
    switch (p.kind) {
      case 'rrset-exists':
        // RFC 2136 §3.2.1, §3.2.5: an absent RRset is NXRRSET.
        if (!byRrset.has(rrsetKey(p.owner, p.type))) return fail(Rcode.NXRRSET, `RRset ${p.owner.toString()} type ${p.type} does not exist`);
        break;
      case 'rrset-absent':
        if (byRrset.has(rrsetKey(p.owner, p.type))) return fail(Rcode.YXRRSET, `RRset ${p.owner.toString()} type ${p.type} exists`);
        break;
      case 'name-in-use':
        if (!owners.has(p.owner.key)) return fail(Rcode.NXDOMAIN, `name ${p.owner.toString()} is not in use`);
        break;
      case 'name-absent':
        if (owners.has(p.owner.key)) return fail(Rcode.YXDOMAIN, `name ${p.owner.toString()} is in use`);
        break;
      case 'rrset-equals': {
        // RFC 2136 §3.2.3: the RRset must match exactly (set comparison, TTL ignored).
        const have = byRrset.get(rrsetKey(p.owner, p.type)) ?? [];
        const wantKeys = new Set(p.rdata.map((d) => recordDataKey({ owner: p.owner, type: p.type, class: RRClass.IN, ttl: 0, rdata: d, meta: NO_META })));
        const haveKeys = new Set(have.map(recordDataKey));
        if (wantKeys.size !== haveKeys.size || [...wantKeys].some((k) => !haveKeys.has(k))) return fail(Rcode.NXRRSET, `RRset ${p.owner.toString()} type ${p.type} does not have the given value`);
        break;
      }
      default: {
        const never: never = p;
        return never;
      }
    }
  }

  // Working copy: records by RRset key, in original order; removals mark the original record.
  const work = new Map<string, RR[]>();
  for (const [k, l] of byRrset) work.set(k, l.slice());
  // Types present per owner, kept in step with `work` (cheap on large zones: only touched owners are looked at).
  const types = new Map<string, Set<number>>();
  for (const [o, t] of owners) types.set(o, new Set(t));
  const typesAt = (owner: Name): number[] => [...(types.get(owner.key) ?? [])];
  const put = (owner: Name, type: number, l: RR[]): void => {
    work.set(rrsetKey(owner, type), l);
    let t = types.get(owner.key);
    if (!t) types.set(owner.key, (t = new Set()));
    t.add(type);
  };
  const drop = (owner: Name, type: number): void => {
    work.delete(rrsetKey(owner, type));
    types.get(owner.key)?.delete(type);
  };
  const isApex = (n: Name): boolean => n.equals(origin);
  for (const op of ops) {
    const owner = op.kind === 'add' ? op.rr.owner : op.owner;
    if (!owner.isSubdomainOf(origin)) return fail(Rcode.NOTZONE, `name ${owner.toString()} is outside the zone`);
    switch (op.kind) {
      case 'add': {
        const rr = op.rr;
        const k = rrsetKey(rr.owner, rr.type);
        const others = typesAt(rr.owner);
        // RFC 2136 §3.4.2.2: a CNAME next to non-CNAME data, or data next to a CNAME, is ignored (RFC 2181 §10.1).
        if (rr.type === RRType.CNAME && others.some((t) => !CNAME_COMPANIONS.has(t))) break;
        if (!CNAME_COMPANIONS.has(rr.type) && others.includes(RRType.CNAME)) break;
        const cur = work.get(k) ?? [];
        if (rr.type === RRType.SOA) {
          // §3.4.2.2: an SOA is added only at the apex, replacing the old one when its serial is greater.
          if (!isApex(rr.owner) || cur.length === 0 || !serialGt(soaSerial(rr.rdata), soaSerial(cur[0]!.rdata))) break;
          put(rr.owner, rr.type, [rr]);
          break;
        }
        if (rr.type === RRType.CNAME) {
          // A CNAME RRset holds one record (RFC 1034 §3.6.2): the new one replaces it.
          put(rr.owner, rr.type, [rr]);
          break;
        }
        const dup = cur.findIndex((r) => sameBytes(r.rdata, rr.rdata) || recordDataKey(r) === recordDataKey(rr));
        // §3.4.2.2: a duplicate RDATA replaces the zone record (a TTL change); identical records change nothing.
        if (dup >= 0) {
          if (cur[dup]!.ttl === rr.ttl) break;
          const next = cur.slice();
          next[dup] = rr;
          put(rr.owner, rr.type, next);
        } else put(rr.owner, rr.type, [...cur, rr]);
        break;
      }
      case 'delete-rrset': {
        // §3.4.2.3: the apex SOA and NS RRsets are never deleted this way.
        if (isApex(op.owner) && (op.type === RRType.SOA || op.type === RRType.NS)) break;
        drop(op.owner, op.type);
        break;
      }
      case 'delete-name': {
        for (const t of typesAt(op.owner)) {
          // §3.4.2.3: at the apex, everything but the SOA and NS RRsets.
          if (isApex(op.owner) && (t === RRType.SOA || t === RRType.NS)) continue;
          drop(op.owner, t);
        }
        break;
      }
      case 'delete-rr': {
        // §3.4.2.4: the SOA is never deleted; the last apex NS is kept.
        if (op.type === RRType.SOA) break;
        const k = rrsetKey(op.owner, op.type);
        const cur = work.get(k);
        if (!cur) break;
        const key = recordDataKey({ owner: op.owner, type: op.type, class: RRClass.IN, ttl: 0, rdata: op.rdata, meta: NO_META });
        const next = cur.filter((r) => recordDataKey(r) !== key);
        if (next.length === cur.length) break;
        if (isApex(op.owner) && op.type === RRType.NS && next.length === 0) break;
        if (next.length === 0) drop(op.owner, op.type);
        else put(op.owner, op.type, next);
        break;
      }
      default: {
        const never: never = op;
        return never;
      }
    }
  }

  // Diff by identity: an original record still present is kept; everything else is new.
  const original = new Set<RR>(records);
  const kept = new Set<RR>();
  const added: RR[] = [];
  const fresh: RR[] = [];
  for (const l of work.values()) for (const r of l) (original.has(r) ? kept.add(r) : fresh.push(r));
  // A record deleted and added back as it was (the same data and TTL; e.g. a retransmitted "delete, add" UPDATE)
  // is no change: the original stays, with its file line, and a zone whose data is the same keeps its serial
  // (RFC 2136 §3.6: the serial follows changes to the zone).
  const keyOf = (r: RR): string => `${recordDataKey(r)}|${r.ttl}`;
  const gone = new Map<string, RR[]>();
  for (const r of records) {
    if (kept.has(r)) continue;
    const l = gone.get(keyOf(r));
    if (l) l.push(r);
    else gone.set(keyOf(r), [r]);
  }
  for (const r of fresh) {
    const back = gone.get(keyOf(r))?.pop();
    if (back !== undefined) kept.add(back);
    else added.push(r);
  }
  // New records in the order they were asked for (the file gets them in that order).
  const order = new Map<RR, number>();
  ops.forEach((o, i) => o.kind === 'add' && order.set(o.rr, i));
  added.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const removed = records.filter((r) => !kept.has(r));
  const out = records.filter((r) => kept.has(r));
  out.push(...added);
  return { ok: true, records: out, removed, added };
}
