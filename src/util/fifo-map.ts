// A Map that can drop its oldest entry in O(1): the bounded caches' eviction order.

/**
 * Insertion-ordered map with a persistent cursor at the oldest entry.
 *
 * Why not `map.delete(map.keys().next().value)`: V8 keeps deleted entries as holes until the table is rehashed, and
 * a fresh iterator walks every hole at the front, so evicting from a full Map of 100k entries that way costs about
 * 40 µs per eviction (measured, Node 20). A cursor that lives across calls skips each hole once. For the same reason
 * callers must not "touch" an entry by deleting and re-adding one key on every hit (each copy stays in the key's
 * hash chain until the next rehash); mark it instead, as SignatureCache does.
 */
export class FifoMap<K, V> {
  private readonly map = new Map<K, V>();
  private cursor: IterableIterator<[K, V]> | undefined;

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Insert at the newest end; an existing key keeps its place (and gets the new value). */
  set(key: K, value: V): void {
    this.map.set(key, value);
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Remove and return the oldest entry (undefined when empty). */
  shift(): [K, V] | undefined {
    let r = (this.cursor ??= this.map.entries()).next();
    if (r.done === true) {
      // An exhausted iterator never sees later insertions: start a new one.
      this.cursor = this.map.entries();
      r = this.cursor.next();
      if (r.done === true) return undefined;
    }
    this.map.delete(r.value[0]);
    return r.value;
  }

  clear(): void {
    this.map.clear();
    this.cursor = undefined;
  }
}
