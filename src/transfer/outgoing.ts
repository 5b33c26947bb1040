// Outgoing transfer content for CNAMEs (seed "Set up outgoing zone transfers"): a DNS-only apex CNAME goes out as
// its flattened addresses, other CNAMEs too under flatten-all-cnames. Computed once per served snapshot.

import type { Logger } from 'pino';
import type { ZoneConfig } from '../config/types.js';
import { RRType } from '../wire/constants.js';
import { FLATTEN_RESOLVE_OPTIONS, needsFlattening, type Flattener } from '../query/flatten.js';
import { resolve } from '../query/resolve.js';
import type { RR, RRset } from '../zone/model.js';
import type { ZoneSnapshot } from '../zone/snapshot.js';

/**
 * Replacement records per CNAME owner (`Name.key`) for the CNAMEs that go out flattened. An owner that is a
 * candidate but could not be flattened (upstream unreachable, loop) is absent: see transferRecords for the rule.
 */
export type FlatView = ReadonlyMap<string, readonly RR[]>;

/** Shared empty view: zones without CNAMEs to flatten. */
export const NO_FLAT: FlatView = new Map();

/** The address types a flattened CNAME is transferred as (seed: "the flattened IP addresses"). */
const ADDRESS_TYPES: readonly number[] = [RRType.A, RRType.AAAA];

/** True when a CNAME goes out as addresses: at the apex always, elsewhere under flatten-all-cnames (seed). */
export function flattensOnTransfer(rr: RR, snap: ZoneSnapshot, cfg: ZoneConfig | undefined): boolean {
  return rr.type === RRType.CNAME && (cfg?.flattenAllCnames === true || rr.owner.equals(snap.origin));
}

/**
 * Computes and remembers FlatViews. Flattening goes through the same Flattener code as queries (its own instance,
 * hence its own cache): targets in served zones are resolved from the current zone set, others through the
 * configured flattening resolvers. The view of a snapshot is fixed when first computed (at publication), so the
 * AXFR content and the journal's IXFR diffs agree; upstream address changes go out with the next zone change.
 */
export class OutgoingFlattener {
  private readonly views = new WeakMap<ZoneSnapshot, FlatView | Promise<FlatView>>();

  constructor(
    private flattener: Flattener,
    private readonly logger?: Logger | undefined,
  ) {}

  /** SIGHUP with new flattening settings: views computed from now on use `f` (computed ones stay as they are). */
  use(f: Flattener): void {
    this.flattener = f;
  }

  /** The view of `snap` (synchronous once computed). */
  view(snap: ZoneSnapshot, cfg: ZoneConfig | undefined): FlatView | Promise<FlatView> {
    const have = this.views.get(snap);
    if (have !== undefined) return have;
    const owners: RR[] = [];
    for (const r of snap.records) if (flattensOnTransfer(r, snap, cfg)) owners.push(r);
    if (owners.length === 0) {
      this.views.set(snap, NO_FLAT);
      return NO_FLAT;
    }
    const p = this.compute(snap, owners).then((v) => {
      this.views.set(snap, v);
      return v;
    });
    this.views.set(snap, p);
    return p;
  }

  private async compute(snap: ZoneSnapshot, cnames: readonly RR[]): Promise<FlatView> {
    const out = new Map<string, readonly RR[]>();
    for (const c of cnames) {
      const owner = c.owner;
      // Flatten exactly this CNAME (whatever its query-time mark), chasing everything behind it as queries do.
      const isFlat = (s: RRset): boolean => s.owner.key === owner.key || (FLATTEN_RESOLVE_OPTIONS.isFlattened?.(s) ?? false);
      const records: RR[] = [];
      let failed = false;
      for (const qtype of ADDRESS_TYPES) {
        const res = resolve(snap, owner, qtype, { isFlattened: isFlat });
        if (!needsFlattening(res)) {
          failed = true;
          continue;
        }
        const shaped = await this.flattener.shape(res, owner, qtype);
        const r = shaped.res;
        if (r === undefined) {
          failed = true;
          this.logger?.warn({ event: 'transfer.flatten-failed', zone: snap.origin.toString(), name: owner.toString(), qtype, error: shaped.ede?.text }, 'CNAME could not be flattened for outgoing transfers');
          continue;
        }
        if (r.kind !== 'answer') continue;
        const set = r.rrsets[0]!;
        for (let i = 0; i < set.rdata.length; i++) {
          records.push({ owner, type: qtype, class: c.class, ttl: set.ttl, rdata: set.rdata[i]!, meta: c.meta });
        }
      }
      // Both families failed: no replacement (the apex CNAME is then left out, others go out as CNAMEs).
      if (records.length > 0 || !failed) out.set(owner.key, records);
    }
    return out;
  }
}
