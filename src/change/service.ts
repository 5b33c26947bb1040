// The one change path of a primary zone: read the zone file as it is now, check and apply a list of operations
// (all or none), bump the SOA serial, write the file back atomically, then have the zone reloaded everywhere
// (which journals the diff for IXFR, sends NOTIFY and swaps in the new snapshot). One audit log line per change.

import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { Logger } from 'pino';
import type { SerialPolicy } from '../config/types.js';
import { Rcode, RRType } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { rdataToText, soaWithSerial, typeMnemonic } from '../wire/rdata/index.js';
import type { RR } from '../zone/model.js';
import { parseZoneFile, type ParseResult } from '../zone/parser.js';
import type { ZoneLimits } from '../zone/limits.js';
import { soaSerial } from '../transfer/changeset.js';
import { nextSerial, serialGt } from '../transfer/serial.js';
import { applyChange, type ChangeOp, type Prereq } from './apply.js';
import { editZoneText, ReadOnlyRecordError } from './zonefile.js';

/** What the change path needs to know about one primary zone. */
export interface ChangeZone {
  readonly origin: Name;
  readonly file: string;
  readonly zonesDir: string;
  readonly serial: SerialPolicy;
  readonly limits: ZoneLimits;
  /** The serial being served now (undefined when the zone is not loaded). */
  readonly servedSerial: number | undefined;
  /** True when the files on disk are not the ones the served version was loaded from (an edit without SIGHUP). */
  readonly changedOnDisk: () => Promise<boolean>;
}

export interface ChangeServiceOptions {
  readonly zone: (origin: Name) => ChangeZone | undefined;
  /**
   * Load the rewritten file and publish it in every serving process; resolves when all of them serve it, with the
   * load error when the file does not load (a zone check or limit the change broke).
   */
  readonly reload: (origin: Name, parsed?: ParseResult) => Promise<string | undefined>;
  readonly logger?: Logger | undefined;
}

export interface ChangeRequest {
  readonly zone: Name;
  readonly prereqs: readonly Prereq[];
  readonly ops: readonly ChangeOp[];
  /** Who asks (for the audit line): `key:<tsig key>` or `addr:<address>`, or a token name. */
  readonly who: string;
}

export interface ChangeOutcome {
  readonly rcode: number;
  readonly message?: string;
  readonly oldSerial?: number;
  readonly newSerial?: number;
  /** Records added and removed (empty when nothing changed). */
  readonly added?: number;
  readonly removed?: number;
  /** Milliseconds spent reading, checking and writing the file, and then reloading it everywhere. */
  readonly fileMs?: number;
  readonly publishMs?: number;
}

function opText(op: ChangeOp): string {
  switch (op.kind) {
    case 'add':
      return `add ${op.rr.owner.toString()} ${op.rr.ttl} ${typeMnemonic(op.rr.type)} ${rdataToText(op.rr.type, op.rr.rdata)}`;
    case 'delete-rr':
      return `delete ${op.owner.toString()} ${typeMnemonic(op.type)} ${rdataToText(op.type, op.rdata)}`;
    case 'delete-rrset':
      return `delete ${op.owner.toString()} ${typeMnemonic(op.type)}`;
    case 'delete-name':
      return `delete ${op.owner.toString()}`;
    default: {
      const never: never = op;
      return never;
    }
  }
}

export class ChangeService {
  /** Changes to one zone run one after the other (RFC 2136 §3.7: serialized as if atomic). */
  private readonly queues = new Map<string, Promise<unknown>>();
  /**
   * The parse of the text each zone's file was last written with: the next change reuses it when the file still
   * holds exactly that text (no $INCLUDE, same limits), and the reload after a write loads it instead of parsing the
   * file again. One parse per change instead of two.
   */
  private readonly lastWritten = new Map<string, { readonly file: string; readonly text: string; readonly limits: ZoneLimits; readonly parsed: ParseResult }>();

  constructor(private readonly opts: ChangeServiceOptions) {}

  /** Apply one change (see the file header). Never throws: failures are an RCODE and a message. */
  change(req: ChangeRequest): Promise<ChangeOutcome> {
    const key = req.zone.key;
    const run = (this.queues.get(key) ?? Promise.resolve()).then(() => this.run(req));
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  private async run(req: ChangeRequest): Promise<ChangeOutcome> {
    const log = this.opts.logger;
    const zone = req.zone.toString();
    const out = await this.apply(req).catch((e: unknown): ChangeOutcome => ({ rcode: Rcode.SERVFAIL, message: (e as Error).message }));
    // Audit (issue 13): who, zone, operations, old and new serial; one line per change.
    const fields = { event: 'zone.change', zone, who: req.who, ops: req.ops.map(opText), prereqs: req.prereqs.length, rcode: out.rcode, oldSerial: out.oldSerial, newSerial: out.newSerial, message: out.message, fileMs: out.fileMs, publishMs: out.publishMs };
    if (out.rcode === Rcode.NOERROR) log?.info(fields, 'zone changed');
    else if (out.rcode === Rcode.SERVFAIL) log?.error(fields, 'zone change failed');
    else log?.info(fields, 'zone change refused');
    return out;
  }

  private async apply(req: ChangeRequest): Promise<ChangeOutcome> {
    const z = this.opts.zone(req.zone);
    if (!z) return { rcode: Rcode.NOTAUTH, message: `zone ${req.zone.toString()} is not a primary zone here` };
    // No lost edits: the file is read and parsed as it is now; an edit made without SIGHUP is applied on top of.
    if (await z.changedOnDisk()) this.opts.logger?.warn({ event: 'zone.changed-on-disk', zone: req.zone.toString(), file: z.file }, 'zone file changed on disk since it was loaded; applying the change on top of the file as it is now');
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      // Octets as latin1 characters: the file is written back byte for byte where it is not changed.
      const text = await readFile(z.file, 'latin1');
      const opts = { origin: z.origin, zonesDir: z.zonesDir, maxRecords: z.limits.maxRecords, maxFileSize: z.limits.maxFileSize, maxIncludeDepth: z.limits.maxIncludeDepth };
      const last = this.lastWritten.get(z.origin.key);
      const parsed = last && last.file === z.file && last.text === text && last.limits === z.limits && last.parsed.files.length === 1 ? last.parsed : await parseZoneFile(z.file, opts);
      const err = parsed.diagnostics.find((d) => d.severity === 'error');
      if (err) return { rcode: Rcode.SERVFAIL, message: `${z.file} does not parse as it is on disk now (${err.pos.file}:${err.pos.line}: ${err.message}); fix it and reload before changing the zone` };
      const soa = parsed.records.find((r) => r.type === RRType.SOA && r.owner.equals(z.origin));
      if (!soa) return { rcode: Rcode.SERVFAIL, message: `${z.file} has no SOA record at the apex` };
      const oldServed = z.servedSerial ?? soaSerial(soa.rdata);
      const res = applyChange(z.origin, parsed.records, req.prereqs, req.ops);
      if (!res.ok) return { rcode: res.rcode, message: res.message, oldSerial: oldServed };
      // Nothing changed (RFC 2136 §3.4.2: e.g. adding a present record): NOERROR, no new serial (as BIND and Knot).
      if (res.added.length === 0 && res.removed.length === 0) return { rcode: Rcode.NOERROR, oldSerial: oldServed, newSerial: oldServed, added: 0, removed: 0 };
      // Serial: per the zone's policy, `keep` counting as `increment` for dynamic changes (issue 13); from the
      // greater of the served serial, the file's, and one the change itself set (RFC 1982).
      const fileSerial = soaSerial(soa.rdata);
      const base = serialGt(fileSerial, oldServed) ? fileSerial : oldServed;
      const newSoaRr = res.added.find((r) => r.type === RRType.SOA);
      const bumped = nextSerial(base, z.serial === 'keep' ? 'increment' : z.serial, new Date());
      const serial = newSoaRr && serialGt(soaSerial(newSoaRr.rdata), bumped) ? soaSerial(newSoaRr.rdata) : bumped;
      const added = res.added.map((r): RR => (r === newSoaRr ? { ...r, rdata: soaWithSerial(r.rdata, serial) } : r));
      let next: string;
      try {
        next = editZoneText({ file: z.file, text, origin: z.origin, records: parsed.records, removed: res.removed, added, ...(newSoaRr ? {} : { soa: { record: soa, serial } }) });
      } catch (e) {
        if (e instanceof ReadOnlyRecordError) return { rcode: Rcode.REFUSED, message: e.message, oldSerial: oldServed };
        throw e;
      }
      // Written atomically (temp file in the same directory, fsync, rename, fsync the directory). An edit that
      // landed between our read and now is not overwritten: start over on the new text (a few times).
      if ((await readFile(z.file, 'latin1')) !== text) {
        if (attempt < 3) continue;
        return { rcode: Rcode.SERVFAIL, message: `${z.file} keeps changing on disk; change not applied` };
      }
      await writeFileAtomic(z.file, Buffer.from(next, 'latin1'));
      const after = await parseZoneFile(z.file, opts);
      const clean = !after.diagnostics.some((d) => d.severity === 'error');
      if (clean) this.lastWritten.set(z.origin.key, { file: z.file, text: next, limits: z.limits, parsed: after });
      else this.lastWritten.delete(z.origin.key);
      const written = performance.now();
      const error = await this.opts.reload(z.origin, clean ? after : undefined);
      if (error !== undefined) {
        this.lastWritten.delete(z.origin.key);
        // The new file does not load (e.g. limits.max-rrset): put the old one back; nothing changed.
        await writeFileAtomic(z.file, Buffer.from(text, 'latin1'));
        await this.opts.reload(z.origin);
        return { rcode: Rcode.REFUSED, message: `the changed zone does not load: ${error}`, oldSerial: oldServed };
      }
      const ms = (a: number, b: number): number => Math.round((b - a) * 10) / 10;
      return { rcode: Rcode.NOERROR, oldSerial: oldServed, newSerial: serial, added: res.added.length, removed: res.removed.length, fileMs: ms(started, written), publishMs: ms(written, performance.now()) };
    }
  }
}
