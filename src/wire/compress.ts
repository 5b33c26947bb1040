// Name compression for the message writer (RFC 1035 §4.1.4): a table from name-suffix hashes to message offsets
// that allocates nothing per message or per name.

import { foldOctet } from './name.js';

/** RFC 1035 §4.1.4: pointers carry a 14-bit offset. */
export const POINTER_LIMIT = 0x4000;
/** Table slots: twice the offsets one message can register (each takes at least 2 octets below 0x4000). */
const SLOTS = POINTER_LIMIT;
const MASK = SLOTS - 1;
/** Registration stops short of a full table, so a probe always ends at an empty slot. */
const MAX_USED = (SLOTS * 3) / 4;
/** RFC 1035 §2.3.4: at most 255 octets, so at most 127 labels. */
const MAX_NAME = 255;

/**
 * Which suffixes of the names written so far sit where. Keys are 30-bit hashes of the lowercased suffix (RFC 4343:
 * names compare case-insensitively) and every hit is checked against the octets in the message, so a hash collision
 * only costs a missed pointer. A generation stamp per slot empties the table for the next message in O(1).
 *
 * Use: stage a name (stageLabels / stageWire), then write() it compressed or register() it where it already is.
 */
export class Compressor {
  private readonly keys = new Int32Array(SLOTS);
  private readonly offsets = new Int32Array(SLOTS);
  private readonly stamps = new Int32Array(SLOTS);
  private gen = 1;
  /** Slots in use in this message (tombstones included). */
  private used = 0;
  /** Slots filled in this message, in order, for rollback. */
  private readonly log = new Int32Array(SLOTS);
  private logLen = 0;

  /** The staged name: wire form (original case), label start offsets, and the hash of the suffix at each label. */
  private readonly name = new Uint8Array(MAX_NAME + 1);
  private readonly starts = new Int32Array(128);
  private readonly hashes = new Int32Array(128);
  private labelCount = 0;

  /** Forget every registration: a new message starts. */
  reset(): void {
    this.used = 0;
    this.logLen = 0;
    if (++this.gen >= 0x3fffffff) {
      this.stamps.fill(0);
      this.gen = 1;
    }
  }

  /** A point to roll back to. */
  get mark(): number {
    return this.logLen;
  }

  /** Drop the registrations made since `mark` (their octets are being taken out of the message). */
  rollback(mark: number): void {
    while (this.logLen > mark) this.keys[this.log[--this.logLen]!] = -1; // a tombstone: probes go on past it
  }

  /** Stage a name given as labels (original case, latin1 strings; root = no labels). */
  stageLabels(labels: readonly string[]): void {
    const n = this.name;
    let p = 0;
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i]!;
      this.starts[i] = p;
      n[p++] = l.length;
      for (let k = 0; k < l.length; k++) n[p++] = l.charCodeAt(k);
    }
    n[p] = 0;
    this.labelCount = labels.length;
    this.hashSuffixes();
  }

  /** Stage the uncompressed name at `start` of `src`; the caller has checked its labels (≤ 63, ≤ 255 octets). */
  stageWire(src: Uint8Array, start: number): void {
    const n = this.name;
    let p = 0;
    let count = 0;
    for (;;) {
      const l = src[start + p]!;
      n[p] = l;
      if (l === 0) break;
      this.starts[count++] = p;
      for (let k = 1; k <= l; k++) n[p + k] = src[start + p + k]!;
      p += l + 1;
    }
    this.labelCount = count;
    this.hashSuffixes();
  }

  /** FNV-1a from the root up, so the hash of each suffix extends the hash of the next shorter one. */
  private hashSuffixes(): void {
    const n = this.name;
    let h = 0x811c9dc5;
    for (let i = this.labelCount - 1; i >= 0; i--) {
      const s = this.starts[i]!;
      const end = s + n[s]!;
      for (let p = s; p <= end; p++) h = Math.imul(h ^ foldOctet(n[p]!), 0x01000193);
      this.hashes[i] = h & 0x3fffffff;
    }
  }

  /**
   * Write the staged name into `buf` at `pos`: its labels up to the longest suffix already in the message, then a
   * pointer to that suffix (or the root octet). Suffixes written out become targets while below 0x4000. Returns the
   * position after the name.
   */
  write(buf: Uint8Array, pos: number): number {
    const count = this.labelCount;
    let match = count;
    let target = -1;
    for (let i = 0; i < count; i++) {
      target = this.find(i, buf);
      if (target >= 0) {
        match = i;
        break;
      }
    }
    const n = this.name;
    for (let i = 0; i < match; i++) {
      if (pos < POINTER_LIMIT) this.insert(this.hashes[i]!, pos);
      const s = this.starts[i]!;
      const end = s + n[s]!;
      for (let p = s; p <= end; p++) buf[pos++] = n[p]!;
    }
    if (target < 0) {
      buf[pos++] = 0;
    } else {
      buf[pos++] = 0xc0 | (target >>> 8);
      buf[pos++] = target & 0xff;
    }
    return pos;
  }

  /** Register the staged name as written uncompressed at `at` in `buf` (the echoed question). */
  register(at: number, buf: Uint8Array): void {
    for (let i = 0; i < this.labelCount; i++) {
      const off = at + this.starts[i]!;
      if (off >= POINTER_LIMIT) return;
      if (this.find(i, buf) < 0) this.insert(this.hashes[i]!, off);
    }
  }

  /** Offset of a name in `buf` equal to the staged suffix from label `i`, or -1. */
  private find(i: number, buf: Uint8Array): number {
    const h = this.hashes[i]!;
    for (let slot = h & MASK; this.stamps[slot] === this.gen; slot = (slot + 1) & MASK) {
      if (this.keys[slot] === h && this.sameSuffix(i, buf, this.offsets[slot]!)) return this.offsets[slot]!;
    }
    return -1;
  }

  private insert(h: number, offset: number): void {
    if (this.used >= MAX_USED) return;
    let slot = h & MASK;
    while (this.stamps[slot] === this.gen) slot = (slot + 1) & MASK;
    this.stamps[slot] = this.gen;
    this.keys[slot] = h;
    this.offsets[slot] = offset;
    this.used++;
    this.log[this.logLen++] = slot;
  }

  /** True when the name at `off` in `buf` (following our own backward pointers) is the staged suffix from label `i`. */
  private sameSuffix(i: number, buf: Uint8Array, off: number): boolean {
    const n = this.name;
    let p = this.starts[i]!;
    let o = off;
    for (let hops = 0; ; ) {
      let l = buf[o]!;
      while (l >= 0xc0) {
        if (++hops > 127) return false;
        o = ((l & 0x3f) << 8) | buf[o + 1]!;
        l = buf[o]!;
      }
      if (l !== n[p]) return false;
      if (l === 0) return true;
      for (let k = 1; k <= l; k++) if (foldOctet(buf[o + k]!) !== foldOctet(n[p + k]!)) return false;
      o += l + 1;
      p += l + 1;
    }
  }
}
