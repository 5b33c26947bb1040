// Per-zone on-disk journal of changesets (for serving IXFR, RFC 1995): an append-only binary file of
// CRC-checked, length-prefixed changeset records, bounded by count and size, compacted atomically.
//
// File format (all integers big-endian):
//   header : "APXJ" | u16 version (1) | zone name, uncompressed wire form
//   record : u32 payloadLength | u32 crc32(payload) | payload
//   payload: u32 fromSerial | u32 toSerial | u32 removedCount | u32 addedCount | RR*
//   RR     : owner (uncompressed wire) | u16 type | u16 class | u32 ttl | u16 rdlength | rdata
// A record whose length runs past the end of the file or whose CRC does not match is a torn write from a crash:
// it and everything after it are cut off when the journal is opened.

import { open, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { Name, NameError } from '../wire/name.js';
import { NO_META, type RR } from '../zone/model.js';
import type { Changeset } from './changeset.js';

export class JournalError extends Error {
  override readonly name = 'JournalError';
}

const MAGIC = [0x41, 0x50, 0x58, 0x4a]; // "APXJ"
const VERSION = 1;
const REC_HEAD = 8;

export interface JournalOptions {
  /** The zone the journal belongs to; a file for another zone is refused. */
  readonly zone: Name;
  /** Keep at most this many changesets (oldest dropped). Default 100. */
  readonly maxChangesets?: number;
  /** Keep at most this many bytes of records (oldest dropped; the newest changeset is always kept). Default 64 MiB. */
  readonly maxBytes?: number;
}

interface Entry {
  offset: number;
  readonly size: number;
  readonly from: number;
  readonly to: number;
}

function headerBytes(zone: Name): Uint8Array {
  const z = zone.toWire();
  const out = new Uint8Array(6 + z.length);
  out.set(MAGIC, 0);
  out[4] = VERSION >>> 8;
  out[5] = VERSION & 0xff;
  out.set(z, 6);
  return out;
}

/**
 * The CRC-valid records of `buf` from offset `p` on, in file order, and where the valid part ends: the scan stops at
 * a torn or damaged record (apexdns format: 4-octet length, 4-octet CRC-32, payload of at least the two serials).
 */
function scanRecords(buf: Uint8Array, p: number): { readonly entries: Entry[]; readonly end: number } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const entries: Entry[] = [];
  while (p + REC_HEAD <= buf.length) {
    const len = dv.getUint32(p);
    const end = p + REC_HEAD + len;
    if (len < 16 || end > buf.length) break;
    if (crc32(buf.subarray(p + REC_HEAD, end)) !== dv.getUint32(p + 4)) break;
    entries.push({ offset: p, size: REC_HEAD + len, from: dv.getUint32(p + REC_HEAD), to: dv.getUint32(p + REC_HEAD + 4) });
    p = end;
  }
  return { entries, end: p };
}

/** The file at `path` when it starts with the journal header for `zone`; undefined when missing or not ours. */
async function readOwnFile(path: string, zone: Name): Promise<{ readonly buf: Uint8Array; readonly headerLength: number } | undefined> {
  let buf: Uint8Array;
  try {
    buf = await readFile(path);
  } catch {
    return undefined;
  }
  const h = headerBytes(zone);
  if (buf.length < h.length) return undefined;
  for (let i = 0; i < h.length; i++) if (buf[i] !== h[i]) return undefined;
  return { buf, headerLength: h.length };
}

function rrSize(rr: RR): number {
  return rr.owner.wireLength + 10 + rr.rdata.length;
}

/** Encode one changeset as a complete journal record (length + CRC + payload). */
export function encodeChangesetRecord(cs: Changeset): Uint8Array {
  let size = 16;
  for (const r of cs.removed) size += rrSize(r);
  for (const r of cs.added) size += rrSize(r);
  const buf = new Uint8Array(REC_HEAD + size);
  const dv = new DataView(buf.buffer);
  let p = REC_HEAD;
  dv.setUint32(p, cs.fromSerial >>> 0);
  dv.setUint32(p + 4, cs.toSerial >>> 0);
  dv.setUint32(p + 8, cs.removed.length);
  dv.setUint32(p + 12, cs.added.length);
  p += 16;
  const put = (rr: RR): void => {
    for (const l of rr.owner.labels) {
      buf[p++] = l.length;
      for (let i = 0; i < l.length; i++) buf[p++] = l.charCodeAt(i);
    }
    buf[p++] = 0;
    dv.setUint16(p, rr.type);
    dv.setUint16(p + 2, rr.class);
    dv.setUint32(p + 4, rr.ttl >>> 0);
    dv.setUint16(p + 8, rr.rdata.length);
    p += 10;
    buf.set(rr.rdata, p);
    p += rr.rdata.length;
  };
  for (const r of cs.removed) put(r);
  for (const r of cs.added) put(r);
  dv.setUint32(0, size);
  dv.setUint32(4, crc32(buf.subarray(REC_HEAD)));
  return buf;
}

/** Decode a record payload (without length and CRC). */
function decodePayload(buf: Uint8Array, start: number, end: number): Changeset {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fromSerial = dv.getUint32(start);
  const toSerial = dv.getUint32(start + 4);
  const nr = dv.getUint32(start + 8);
  const na = dv.getUint32(start + 12);
  let p = start + 16;
  const read = (): RR => {
    let owner: Name;
    try {
      owner = Name.fromWire(buf, p);
    } catch (e) {
      if (e instanceof NameError) throw new JournalError(`bad owner name in a changeset: ${e.message}`);
      throw e;
    }
    p += owner.wireLength;
    if (p + 10 > end) throw new JournalError('record runs past its changeset');
    const type = dv.getUint16(p);
    const cls = dv.getUint16(p + 2);
    const ttl = dv.getUint32(p + 4);
    const len = dv.getUint16(p + 8);
    p += 10;
    if (p + len > end) throw new JournalError('RDATA runs past its changeset');
    const rdata = Uint8Array.prototype.slice.call(buf, p, p + len);
    p += len;
    return { owner, type, class: cls, ttl, rdata, meta: NO_META };
  };
  const removed: RR[] = [];
  const added: RR[] = [];
  for (let i = 0; i < nr; i++) removed.push(read());
  for (let i = 0; i < na; i++) added.push(read());
  if (p !== end) throw new JournalError('changeset payload length mismatch');
  return { fromSerial, toSerial, removed, added };
}

async function fsyncDir(path: string): Promise<void> {
  const h = await open(dirname(path), 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Write a file atomically: temp file, fsync, rename over the target, fsync the directory. */
async function atomicWrite(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const h = await open(tmp, 'w');
  try {
    for (const part of parts) await h.write(part);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, path);
  await fsyncDir(path);
}

/**
 * A zone's changeset journal. Open with `Journal.open`; operations are serialized internally. The journal keeps a
 * single chain: each appended changeset must start at the serial the previous one ended at, otherwise the old
 * history is discarded (it can no longer be connected to the current zone).
 */
export class Journal {
  private entries: Entry[] = [];
  private bytes = 0;
  private fileEnd: number;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly header: Uint8Array;
  private readonly maxChangesets: number;
  private readonly maxBytes: number;

  private constructor(
    readonly path: string,
    opts: JournalOptions,
  ) {
    this.header = headerBytes(opts.zone);
    this.fileEnd = this.header.length;
    this.maxChangesets = opts.maxChangesets ?? 100;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    if (this.maxChangesets < 1 || this.maxBytes < 1) throw new JournalError('journal bounds must be positive');
  }

  /** Open (or create) the journal file, dropping a torn last record left by a crash. */
  static async open(path: string, opts: JournalOptions): Promise<Journal> {
    const j = new Journal(path, opts);
    await j.load();
    return j;
  }

  /** Number of changesets kept. */
  get length(): number {
    return this.entries.length;
  }

  /** Serial the oldest kept changeset starts from; undefined when empty. */
  get firstSerial(): number | undefined {
    return this.entries[0]?.from;
  }

  /** Serial the newest kept changeset ends at; undefined when empty. */
  get lastSerial(): number | undefined {
    return this.entries[this.entries.length - 1]?.to;
  }

  /** Bytes of records kept (excluding the file header). */
  get size(): number {
    return this.bytes;
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async load(): Promise<void> {
    let buf: Uint8Array;
    try {
      buf = await readFile(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await atomicWrite(this.path, [this.header]);
      return;
    }
    const h = this.header;
    if (buf.length < h.length) {
      // A crash while creating the file: start over if what is there is a prefix of our header.
      for (let i = 0; i < buf.length; i++) if (buf[i] !== h[i]) throw new JournalError(`${this.path} is not a journal for this zone`);
      await atomicWrite(this.path, [h]);
      return;
    }
    for (let i = 0; i < 4; i++) if (buf[i] !== h[i]) throw new JournalError(`${this.path} is not an apexdns journal`);
    if (buf[4] !== h[4] || buf[5] !== h[5]) throw new JournalError(`${this.path}: unsupported journal version`);
    for (let i = 6; i < h.length; i++) if (buf[i] !== h[i]) throw new JournalError(`${this.path} is a journal for another zone`);
    const { entries, end: p } = scanRecords(buf, h.length);
    if (p !== buf.length) {
      // Torn tail (crash mid-append): cut it so later appends start on a record boundary.
      await truncate(this.path, p);
      await fsyncDir(this.path);
    }
    // Keep only the newest contiguous chain (append guarantees one; be defensive).
    let start = 0;
    for (let i = 1; i < entries.length; i++) if (entries[i]!.from !== entries[i - 1]!.to) start = i;
    this.entries = entries.slice(start);
    this.bytes = this.entries.reduce((s, e) => s + e.size, 0);
    this.fileEnd = p;
    if (start > 0) await this.compact(this.entries.length);
  }

  /** Append a changeset (fsynced). A changeset that does not continue the chain replaces the history. */
  append(cs: Changeset): Promise<void> {
    return this.run(async () => {
      const last = this.entries[this.entries.length - 1];
      if (last && last.to !== cs.fromSerial >>> 0) await this.resetFile();
      const rec = encodeChangesetRecord(cs);
      const fh = await open(this.path, 'a');
      try {
        await fh.write(rec);
        await fh.sync();
      } finally {
        await fh.close();
      }
      this.entries.push({ offset: this.fileEnd, size: rec.length, from: cs.fromSerial >>> 0, to: cs.toSerial >>> 0 });
      this.fileEnd += rec.length;
      this.bytes += rec.length;
      if (this.entries.length > this.maxChangesets || this.bytes > this.maxBytes) {
        let keep = 0;
        let b = 0;
        for (let i = this.entries.length - 1; i >= 0; i--) {
          const nb = b + this.entries[i]!.size;
          if (keep >= 1 && (keep + 1 > this.maxChangesets || nb > this.maxBytes)) break;
          keep++;
          b = nb;
        }
        await this.compact(keep);
      }
    });
  }

  /**
   * The changesets leading from `serial` to the newest version, oldest first: [] when `serial` is the newest
   * version, undefined when the journal does not reach back to `serial` (the caller sends the full zone, RFC 1995
   * §4). With an empty journal every serial gives undefined; compare with the zone's serial first.
   */
  changesetsSince(serial: number): Promise<Changeset[] | undefined> {
    return this.run(async () => {
      const s = serial >>> 0;
      if (this.entries.length === 0) return undefined;
      if (this.lastSerial === s) return [];
      const i = this.entries.findIndex((e) => e.from === s);
      if (i < 0) return undefined;
      const first = this.entries[i]!;
      const buf = await this.readRange(first.offset, this.fileEnd);
      const out: Changeset[] = [];
      for (let k = i; k < this.entries.length; k++) {
        const e = this.entries[k]!;
        const at = e.offset - first.offset;
        out.push(decodePayload(buf, at + REC_HEAD, at + e.size));
      }
      return out;
    });
  }

  /** Drop all history. */
  clear(): Promise<void> {
    return this.run(() => this.resetFile());
  }

  private async resetFile(): Promise<void> {
    await atomicWrite(this.path, [this.header]);
    this.entries = [];
    this.bytes = 0;
    this.fileEnd = this.header.length;
  }

  private async readRange(from: number, to: number): Promise<Uint8Array> {
    const fh = await open(this.path, 'r');
    try {
      const buf = new Uint8Array(to - from);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, from + got);
        if (bytesRead === 0) throw new JournalError('journal file shorter than its index');
        got += bytesRead;
      }
      return buf;
    } finally {
      await fh.close();
    }
  }

  /** Rewrite the file atomically keeping the newest `keep` changesets. */
  private async compact(keep: number): Promise<void> {
    const kept = this.entries.slice(this.entries.length - keep);
    const start = kept[0]?.offset ?? this.fileEnd;
    const body = await this.readRange(start, this.fileEnd);
    await atomicWrite(this.path, [this.header, body]);
    const shift = start - this.header.length;
    for (const e of kept) e.offset -= shift;
    this.entries = kept;
    this.bytes = body.length;
    this.fileEnd = this.header.length + body.length;
  }

  /** Remove the journal file (e.g. when the zone is deleted). */
  async destroy(): Promise<void> {
    await this.run(async () => {
      await rm(this.path, { force: true });
      this.entries = [];
      this.bytes = 0;
    });
  }
}

/** True when a journal file exists at `path`. */
export async function journalExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Read-only view for serving IXFR from any process (cluster workers do not own the journal): the changesets from
 * `serial` up to the newest one, oldest first, or undefined when the file is missing, belongs to another zone, or
 * does not reach back to `serial`. A torn or half-written tail record is ignored, never repaired here.
 */
export async function readJournalSince(path: string, zone: Name, serial: number): Promise<Changeset[] | undefined> {
  const file = await readOwnFile(path, zone);
  if (file === undefined) return undefined;
  const { buf } = file;
  const { entries } = scanRecords(buf, file.headerLength);
  const s = serial >>> 0;
  let i = -1;
  // The newest chain containing `serial` as a start point.
  for (let k = entries.length - 1; k >= 0; k--) {
    if (entries[k]!.from === s) {
      i = k;
      break;
    }
  }
  if (i < 0) return undefined;
  const out: Changeset[] = [];
  for (let k = i; k < entries.length; k++) {
    const e = entries[k]!;
    if (k > i && e.from !== entries[k - 1]!.to) return undefined;
    out.push(decodePayload(buf, e.offset + REC_HEAD, e.offset + e.size));
  }
  return out;
}

/**
 * A whole zone as one CRC-checked record in the journal format (changeset with no removals), used to persist a
 * secondary zone exactly as transferred (TTLs and RDATA byte for byte) for a fast restart.
 */
export function encodeZoneImage(zone: Name, serial: number, records: readonly RR[]): readonly Uint8Array[] {
  return [headerBytes(zone), encodeChangesetRecord({ fromSerial: serial, toSerial: serial, removed: [], added: records })];
}

/** Read a zone image written by encodeZoneImage; undefined when missing, for another zone, or damaged. */
export async function readZoneImage(path: string, zone: Name): Promise<{ readonly serial: number; readonly records: readonly RR[] } | undefined> {
  const file = await readOwnFile(path, zone);
  if (file === undefined) return undefined;
  const { buf } = file;
  // Exactly one valid record, filling the rest of the file.
  const { entries, end } = scanRecords(buf, file.headerLength);
  const rec = entries[0];
  if (rec === undefined || entries.length !== 1 || end !== buf.length) return undefined;
  try {
    const cs = decodePayload(buf, rec.offset + REC_HEAD, end);
    return { serial: cs.toSerial, records: cs.added };
  } catch {
    return undefined;
  }
}

/** Atomic file replacement (temp file, fsync, rename, fsync the directory): readers see the old or the new file. */
export { atomicWrite };
