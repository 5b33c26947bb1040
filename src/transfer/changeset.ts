// Zone changesets for IXFR and the journal: diffing two versions of a zone's records and applying a changeset,
// with typed errors when the histories do not connect (RFC 1995 §4 → the caller falls back to AXFR).

import type { RR } from '../zone/model.js';
import { RRType } from '../wire/constants.js';

/**
 * One version step (RFC 1995 §4 difference sequence). `removed` starts with the old SOA and `added` with the new
 * SOA; the remaining records are in no particular order.
 */
export interface Changeset {
  readonly fromSerial: number;
  readonly toSerial: number;
  readonly removed: readonly RR[];
  readonly added: readonly RR[];
}

export type ChangesetErrorCode = 'absent' | 'present' | 'no-soa' | 'bad-soa';

/** The changeset does not fit the records it is applied to (or the input has no SOA). */
export class ChangesetError extends Error {
  override readonly name = 'ChangesetError';
  constructor(
    readonly code: ChangesetErrorCode,
    message: string,
    readonly record?: RR,
  ) {
    super(message);
  }
}

// Where domain names sit in RDATA for the types whose embedded names are lowercased in canonical form
// (RFC 4034 §6.2, as amended by RFC 6840 §5.1 which drops NSEC). A number skips that many octets, 'N' is an
// uncompressed name, 'C' a <character-string>.
type Field = number | 'N' | 'C';
const NAME_LAYOUT = new Map<number, readonly Field[]>([
  [RRType.NS, ['N']], [RRType.MD, ['N']], [RRType.MF, ['N']], [RRType.CNAME, ['N']], [RRType.MB, ['N']],
  [RRType.MG, ['N']], [RRType.MR, ['N']], [RRType.PTR, ['N']], [RRType.DNAME, ['N']], [RRType.NXT, ['N']],
  [RRType.SOA, ['N', 'N']], [RRType.MINFO, ['N', 'N']], [RRType.RP, ['N', 'N']],
  [RRType.MX, [2, 'N']], [RRType.AFSDB, [2, 'N']], [RRType.RT, [2, 'N']], [RRType.KX, [2, 'N']],
  [RRType.SRV, [6, 'N']], [RRType.PX, [2, 'N', 'N']], [RRType.NAPTR, [4, 'C', 'C', 'C', 'N']],
  [RRType.RRSIG, [18, 'N']], [RRType.SIG, [18, 'N']],
]);

/** Latin1 string of the RDATA with embedded names (per NAME_LAYOUT) ASCII-lowercased. */
function canonicalRdataString(type: number, rdata: Uint8Array): string {
  const raw = Buffer.from(rdata.buffer, rdata.byteOffset, rdata.byteLength).toString('latin1');
  const layout = NAME_LAYOUT.get(type);
  if (!layout) return raw;
  // Find name byte ranges; on malformed data fall back to the raw bytes.
  let p = 0;
  let lowered: string | undefined;
  for (const f of layout) {
    if (typeof f === 'number') p += f;
    else if (f === 'C') p += 1 + (rdata[p] ?? 0);
    else {
      const start = p;
      for (;;) {
        const len = rdata[p];
        if (len === undefined || len > 63) return raw;
        p += 1 + len;
        if (len === 0) break;
      }
      if (p > rdata.length) return raw;
      const seg = raw.slice(start, p);
      const low = seg.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
      if (low !== seg) lowered = (lowered ?? raw).slice(0, start) + low + raw.slice(p);
    }
    if (p > rdata.length) return raw;
  }
  return lowered ?? raw;
}

/** Identity of a record's data: owner key, type, class, canonical RDATA (no TTL). */
export function recordDataKey(rr: RR): string {
  return rr.owner.key + String.fromCharCode(rr.type, rr.class) + canonicalRdataString(rr.type, rr.rdata);
}

/** Identity including the TTL (a TTL change is a remove + add). */
export function recordKey(rr: RR): string {
  return rr.owner.key + String.fromCharCode(rr.type, rr.class, rr.ttl >>> 16, rr.ttl & 0xffff) + canonicalRdataString(rr.type, rr.rdata);
}

/** SERIAL of SOA RDATA (RFC 1035 §3.3.13: MNAME, RNAME, SERIAL, ...). */
export function soaSerial(rdata: Uint8Array): number {
  let p = 0;
  for (let n = 0; n < 2; n++) {
    for (;;) {
      const len = rdata[p];
      if (len === undefined || len > 63) throw new ChangesetError('bad-soa', 'malformed SOA RDATA');
      p += 1 + len;
      if (len === 0) break;
    }
  }
  if (p + 4 > rdata.length) throw new ChangesetError('bad-soa', 'SOA RDATA too short');
  return ((rdata[p]! << 24) | (rdata[p + 1]! << 16) | (rdata[p + 2]! << 8) | rdata[p + 3]!) >>> 0;
}

/**
 * Diff two versions of a zone (RFC 1995 §4): records only in `oldRecords` are removed, records only in
 * `newRecords` added; identity is owner + type + class + canonical RDATA + TTL. Both SOAs always lead their list.
 */
export function diffRecords(oldRecords: Iterable<RR>, newRecords: Iterable<RR>): Changeset {
  const steps = diffSteps(oldRecords, newRecords);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * diffRecords for large zones: the same result, computed in slices with a macrotask break between them so a
 * serving process keeps answering queries while a million-record reload is diffed.
 */
export async function diffRecordsAsync(oldRecords: Iterable<RR>, newRecords: Iterable<RR>): Promise<Changeset> {
  const steps = diffSteps(oldRecords, newRecords);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((res) => setImmediate(res));
  }
}

/** Records handled between two breaks of diffRecordsAsync. */
const DIFF_SLICE = 32_768;

function sameRdata(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Two owners' record lists are the same when equal record by record (the common case of an untouched name). */
function sameGroup(a: readonly RR[], b: readonly RR[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (x.type !== y.type || x.class !== y.class || x.ttl !== y.ttl || !sameRdata(x.rdata, y.rdata) || x.owner.key !== y.owner.key) return false;
  }
  return true;
}

const NONE: readonly RR[] = [];

/** Keyed diff of one owner's records (duplicates dropped), appended to `added` / `removed`. */
function diffGroup(og: readonly RR[], ng: readonly RR[], added: RR[], removed: RR[]): void {
  const oldKeys = new Set<string>();
  for (const r of og) oldKeys.add(recordKey(r));
  const newKeys = new Set<string>();
  for (const r of ng) {
    const k = recordKey(r);
    if (newKeys.has(k)) continue;
    newKeys.add(k);
    if (!oldKeys.has(k)) added.push(r);
  }
  const seen = new Set<string>();
  for (const r of og) {
    const k = recordKey(r);
    if (seen.has(k)) continue;
    seen.add(k);
    if (!newKeys.has(k)) removed.push(r);
  }
}

/**
 * The diff as a generator that yields between slices. Records are grouped by owner (`Name.key`: existing strings,
 * so the maps hash nothing new); an owner whose records are byte-identical in both versions costs one comparison,
 * and only changed owners get the keyed, canonical-form comparison.
 */
function* diffSteps(oldRecords: Iterable<RR>, newRecords: Iterable<RR>): Generator<void, Changeset> {
  let oldSoa: RR | undefined;
  let newSoa: RR | undefined;
  const group = function* (records: Iterable<RR>, into: Map<string, RR[]>, isOld: boolean): Generator<void> {
    let n = 0;
    for (const r of records) {
      if (++n % DIFF_SLICE === 0) yield;
      if (r.type === RRType.SOA) {
        if (isOld) oldSoa ??= r;
        else newSoa ??= r;
        continue;
      }
      const g = into.get(r.owner.key);
      if (g === undefined) into.set(r.owner.key, [r]);
      else g.push(r);
    }
  };
  const oldBy = new Map<string, RR[]>();
  const newBy = new Map<string, RR[]>();
  yield* group(oldRecords, oldBy, true);
  if (!oldSoa) throw new ChangesetError('no-soa', 'old records have no SOA');
  yield* group(newRecords, newBy, false);
  if (!newSoa) throw new ChangesetError('no-soa', 'new records have no SOA');
  const added: RR[] = [newSoa];
  const removed: RR[] = [oldSoa];
  let n = 0;
  for (const [k, ng] of newBy) {
    if (++n % DIFF_SLICE === 0) yield;
    const og = oldBy.get(k);
    if (og !== undefined && sameGroup(og, ng)) continue;
    diffGroup(og ?? NONE, ng, added, removed);
  }
  for (const [k, og] of oldBy) {
    if (++n % DIFF_SLICE === 0) yield;
    if (!newBy.has(k)) diffGroup(og, NONE, added, removed);
  }
  return { fromSerial: soaSerial(oldSoa.rdata), toSerial: soaSerial(newSoa.rdata), removed, added };
}

/**
 * Apply a changeset: every removed record must be present (same data and TTL), every added record must be absent
 * (same data, any TTL) once the removals are done. Otherwise throws ChangesetError: the versions do not connect
 * and the caller should fall back to a full transfer (RFC 1995 §4). Untouched records keep their order; additions
 * come last. Only owners named in the changeset are examined closely, so this is cheap on large zones.
 */
export function applyChangeset(records: readonly RR[], cs: Changeset): RR[] {
  const touched = new Set<string>();
  const toRemove = new Map<string, number>();
  for (const r of cs.removed) {
    touched.add(r.owner.key);
    const k = recordKey(r);
    toRemove.set(k, (toRemove.get(k) ?? 0) + 1);
  }
  for (const r of cs.added) touched.add(r.owner.key);
  const out: RR[] = [];
  const present = new Set<string>();
  for (const r of records) {
    if (!touched.has(r.owner.key)) {
      out.push(r);
      continue;
    }
    const k = recordKey(r);
    const n = toRemove.get(k);
    if (n !== undefined && n > 0) {
      toRemove.set(k, n - 1);
      continue;
    }
    present.add(recordDataKey(r));
    out.push(r);
  }
  for (const r of cs.removed) {
    const n = toRemove.get(recordKey(r));
    if (n !== undefined && n > 0) {
      throw new ChangesetError('absent', `record to remove is absent: ${r.owner.toString()} type ${r.type}`, r);
    }
  }
  for (const r of cs.added) {
    const dk = recordDataKey(r);
    if (present.has(dk)) {
      throw new ChangesetError('present', `record to add is already present: ${r.owner.toString()} type ${r.type}`, r);
    }
    present.add(dk);
    out.push(r);
  }
  return out;
}
