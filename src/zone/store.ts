// The live set of served zones: an immutable ZoneSet swapped in with one reference assignment, and the
// longest-suffix zone lookup every query starts with.

import { parentKey } from '../wire/name.js';
import type { ZoneSnapshot } from './snapshot.js';

/** What the query path needs to know about one served zone besides its data. */
export interface ServedZone {
  readonly snapshot: ZoneSnapshot;
  /** Set when a secondary zone has expired (RFC 1035 §4.3.5 EXPIRE): answer SERVFAIL. */
  readonly expired: boolean;
}

/** An immutable set of zones. A new one is built for every change and published by `ZoneStore.publish`. */
export class ZoneSet {
  /** Bumped on every publish; keys the encoded-answer cache. */
  readonly generation: number;
  private readonly byKey: ReadonlyMap<string, ServedZone>;

  constructor(zones: ReadonlyMap<string, ServedZone>, generation: number) {
    this.byKey = zones;
    this.generation = generation;
  }

  get size(): number {
    return this.byKey.size;
  }

  zones(): IterableIterator<ServedZone> {
    return this.byKey.values();
  }

  get(originKey: string): ServedZone | undefined {
    return this.byKey.get(originKey);
  }

  /** Longest-suffix match of a lowercased wire-form name key over all zones (the qname itself included). */
  find(nameKey: string): ServedZone | undefined {
    let k: string | undefined = nameKey;
    while (k !== undefined) {
      const z = this.byKey.get(k);
      if (z) return z;
      k = parentKey(k);
    }
    return undefined;
  }

  /** The closest zone strictly above `originKey` (the parent side of a cut, for DS queries, RFC 4035 §3.1.4.1). */
  findParent(originKey: string): ServedZone | undefined {
    const p = parentKey(originKey);
    return p === undefined ? undefined : this.find(p);
  }

  /** A new set with `zone` added or replaced. */
  with(zone: ServedZone): ZoneSet {
    const m = new Map(this.byKey);
    m.set(zone.snapshot.origin.key, zone);
    return new ZoneSet(m, this.generation + 1);
  }

  /** A new set without the zone. */
  without(originKey: string): ZoneSet {
    const m = new Map(this.byKey);
    m.delete(originKey);
    return new ZoneSet(m, this.generation + 1);
  }
}

/** Holder of the current ZoneSet. Readers take `store.current` once per query; writers publish a new set. */
export class ZoneStore {
  current: ZoneSet = new ZoneSet(new Map(), 0);

  /** One reference assignment: atomic with respect to the event loop. */
  publish(next: ZoneSet): void {
    this.current = next;
  }
}
