// Incoming transfer stream parsers: classify an IXFR response (RFC 1995 §4) into up-to-date / full zone /
// changesets, and assemble an AXFR response (RFC 5936 §2.2), record by record across any number of messages.

import { zoneRecord, type RR } from '../zone/model.js';
import type { WireRR } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { RRType } from '../wire/constants.js';
import type { Changeset } from './changeset.js';
import { soaSerial } from './changeset.js';
import { serialGt } from './serial.js';

export type TransferErrorCode = 'not-soa-first' | 'wrong-zone' | 'trailing-data' | 'incomplete' | 'bad-sequence' | 'wrong-start';

/** The transfer stream is malformed; the caller should discard it (and may retry with AXFR). */
export class TransferStreamError extends Error {
  override readonly name = 'TransferStreamError';
  constructor(
    readonly code: TransferErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type IxfrResult =
  /** RFC 1995 §4: a single SOA whose serial is not newer than ours: nothing to do. */
  | { readonly kind: 'uptodate'; readonly soa: RR }
  /** RFC 1995 §2/§4: a single SOA newer than ours (e.g. reply did not fit UDP): retry over TCP or with AXFR. */
  | { readonly kind: 'retry'; readonly soa: RR }
  /** RFC 1995 §4: the server sent the whole zone (AXFR-style); `records` include the SOA once, first. */
  | { readonly kind: 'axfr'; readonly soa: RR; readonly records: readonly RR[] }
  /** RFC 1995 §4: difference sequences, oldest first, chaining from our serial to `soa`'s serial. */
  | { readonly kind: 'ixfr'; readonly soa: RR; readonly changesets: readonly Changeset[] };

type State = 'start' | 'second' | 'axfr' | 'del' | 'add' | 'done';

function mustBeZone(rr: RR, zone: Name | undefined): void {
  if (zone && !rr.owner.equals(zone)) {
    throw new TransferStreamError('wrong-zone', `SOA owner ${rr.owner.toString()} is not the zone ${zone.toString()}`);
  }
}

/**
 * RFC 1995 §4 IXFR response state machine. Feed the answer-section records of every response message with
 * `push`; `done` turns true once the closing SOA arrived; then call `finish`. A response with one SOA only is
 * complete as soon as the transport ends (call `finish` then).
 */
export class IxfrParser {
  private state: State = 'start';
  private first: RR | undefined;
  private firstSerial = 0;
  private records: RR[] = [];
  private changesets: Changeset[] = [];
  private cur: { fromSerial: number; toSerial: number; removed: RR[]; added: RR[] } | undefined;

  constructor(private readonly opts: { readonly clientSerial: number; readonly zone?: Name }) {}

  get done(): boolean {
    return this.state === 'done';
  }

  push(rr: RR): void {
    const isSoa = rr.type === RRType.SOA;
    switch (this.state) {
      case 'start':
        // RFC 1995 §4: the first RR of the answer is the server's current SOA.
        if (!isSoa) throw new TransferStreamError('not-soa-first', 'IXFR response does not start with an SOA');
        mustBeZone(rr, this.opts.zone);
        this.first = rr;
        this.firstSerial = soaSerial(rr.rdata);
        this.state = 'second';
        return;
      case 'second': {
        const first = this.first!;
        if (!isSoa) {
          // RFC 1995 §4: the second RR is not an SOA → the whole zone follows, AXFR-style.
          this.records = [first, rr];
          this.state = 'axfr';
          return;
        }
        mustBeZone(rr, this.opts.zone);
        const s = soaSerial(rr.rdata);
        if (s === this.firstSerial) {
          // SOA, SOA with the same serial: an AXFR-style reply for a zone holding only its SOA.
          this.records = [first];
          this.state = 'done';
          return;
        }
        // RFC 1995 §4: the first difference sequence starts at the client's version.
        if (s !== this.opts.clientSerial >>> 0) {
          throw new TransferStreamError('wrong-start', `IXFR starts at serial ${s}, ours is ${this.opts.clientSerial >>> 0}`);
        }
        this.cur = { fromSerial: s, toSerial: s, removed: [rr], added: [] };
        this.state = 'del';
        return;
      }
      case 'axfr':
        if (isSoa) {
          // RFC 1995 §4 / RFC 5936 §2.2: the full zone ends with the same SOA it started with.
          if (!rr.owner.equals(this.first!.owner) || soaSerial(rr.rdata) !== this.firstSerial) {
            throw new TransferStreamError('bad-sequence', 'second SOA inside an AXFR-style IXFR response differs from the first');
          }
          this.state = 'done';
          return;
        }
        this.records.push(rr);
        return;
      case 'del': {
        const cur = this.cur!;
        if (isSoa) {
          // The new SOA of this difference sequence: additions follow.
          mustBeZone(rr, this.opts.zone);
          cur.toSerial = soaSerial(rr.rdata);
          cur.added.push(rr);
          this.state = 'add';
          return;
        }
        cur.removed.push(rr);
        return;
      }
      case 'add': {
        const cur = this.cur!;
        if (!isSoa) {
          cur.added.push(rr);
          return;
        }
        mustBeZone(rr, this.opts.zone);
        const s = soaSerial(rr.rdata);
        this.changesets.push(cur);
        this.cur = undefined;
        if (cur.toSerial === this.firstSerial) {
          // The closing SOA (RFC 1995 §4): must repeat the server's current version.
          if (s !== this.firstSerial) {
            throw new TransferStreamError('bad-sequence', `expected the closing SOA ${this.firstSerial}, got ${s}`);
          }
          this.state = 'done';
          return;
        }
        // The next difference sequence must start where the previous one ended.
        if (s !== cur.toSerial) {
          throw new TransferStreamError('bad-sequence', `difference sequence starts at ${s}, previous ended at ${cur.toSerial}`);
        }
        this.cur = { fromSerial: s, toSerial: s, removed: [rr], added: [] };
        this.state = 'del';
        return;
      }
      case 'done':
        throw new TransferStreamError('trailing-data', 'records after the closing SOA');
      default: {
        const never: never = this.state;
        throw new Error(`bad state ${String(never)}`);
      }
    }
  }

  pushAll(rrs: readonly WireRR[]): void {
    for (const rr of rrs) this.push(zoneRecord(rr));
  }

  /** Result once the stream has ended; throws TransferStreamError when it is incomplete. */
  finish(): IxfrResult {
    const soa = this.first;
    switch (this.state) {
      case 'start':
        throw new TransferStreamError('incomplete', 'empty IXFR response');
      case 'second': {
        // RFC 1995 §2/§4: a lone SOA; up to date unless the server's serial is newer than ours.
        const newer = serialGt(this.firstSerial, this.opts.clientSerial);
        return newer ? { kind: 'retry', soa: soa! } : { kind: 'uptodate', soa: soa! };
      }
      case 'done':
        if (this.changesets.length > 0) return { kind: 'ixfr', soa: soa!, changesets: this.changesets };
        return { kind: 'axfr', soa: soa!, records: this.records };
      case 'axfr':
      case 'del':
      case 'add':
        throw new TransferStreamError('incomplete', 'transfer ended before the closing SOA');
      default: {
        const never: never = this.state;
        throw new Error(`bad state ${String(never)}`);
      }
    }
  }
}

/**
 * RFC 5936 §2.2 AXFR response assembly: the first RR is the zone's SOA, the last RR repeats it, and nothing
 * follows. `records` hold the SOA once, first.
 */
export class AxfrAssembler {
  private first: RR | undefined;
  private firstSerial = 0;
  private records: RR[] = [];
  private finished = false;

  constructor(private readonly opts: { readonly zone?: Name } = {}) {}

  get done(): boolean {
    return this.finished;
  }

  push(rr: RR): void {
    if (this.finished) throw new TransferStreamError('trailing-data', 'records after the closing SOA');
    if (!this.first) {
      // RFC 5936 §2.2: the first RR must be the SOA of the zone.
      if (rr.type !== RRType.SOA) throw new TransferStreamError('not-soa-first', 'AXFR response does not start with an SOA');
      mustBeZone(rr, this.opts.zone);
      this.first = rr;
      this.firstSerial = soaSerial(rr.rdata);
      this.records.push(rr);
      return;
    }
    if (rr.type === RRType.SOA) {
      // RFC 5936 §2.2: the last RR is the same SOA; a zone has only one SOA.
      if (!rr.owner.equals(this.first.owner) || soaSerial(rr.rdata) !== this.firstSerial) {
        throw new TransferStreamError('bad-sequence', 'closing SOA differs from the opening SOA');
      }
      this.finished = true;
      return;
    }
    this.records.push(rr);
  }

  pushAll(rrs: readonly WireRR[]): void {
    for (const rr of rrs) this.push(zoneRecord(rr));
  }

  finish(): { readonly soa: RR; readonly records: readonly RR[] } {
    if (!this.first || !this.finished) throw new TransferStreamError('incomplete', 'AXFR ended before the closing SOA');
    return { soa: this.first, records: this.records };
  }
}
