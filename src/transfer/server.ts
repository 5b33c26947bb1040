// Server side of zone transfers (the query pipeline's TransferHook): TSIG checks, transfer/NOTIFY ACLs, AXFR
// streamed from one snapshot, IXFR from the on-disk journal, and NOTIFY accepted for secondary zones.

import type { Logger } from 'pino';
import type { AccessRef, ZoneConfig } from '../config/types.js';
import { parseIp } from '../util/ip.js';
import { cidrContains } from '../util/ip.js';
import { EdnsFlag, Flag, Opcode, Rcode, RRType } from '../wire/constants.js';
import { decodeMessage } from '../wire/decode.js';
import { MessageWriter } from '../wire/encode.js';
import type { Query, Replies } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import type { RR } from '../zone/model.js';
import type { ZoneSnapshot } from '../zone/snapshot.js';
import type { ZoneStore } from '../zone/store.js';
import type { QueryContext, TransferHook } from '../query/pipeline.js';
import type { Changeset } from './changeset.js';
import { soaSerial } from './changeset.js';
import { readJournalSince } from './journal.js';
import { flattensOnTransfer, NO_FLAT, type FlatView } from './outgoing.js';
import { signingOf } from '../dnssec/zone-keys.js';
import { serialCompare } from './serial.js';
import { signMessage, tsigErrorResponse, TsigResponseSigner, verifyMessage, type TsigKey, type VerifyOk } from './tsig.js';
import { transferStats } from './stats.js';

/** What the server needs to know about one configured zone. */
export interface TransferZoneInfo {
  readonly config: ZoneConfig;
  /** The zone's IXFR journal file. */
  readonly journalPath: string;
}

export interface TransferServerOptions {
  readonly store: ZoneStore;
  /** Zone configuration by origin key (`Name.key`); undefined when not configured here. */
  readonly zone: (originKey: string) => TransferZoneInfo | undefined;
  readonly keys: readonly TsigKey[];
  /** A NOTIFY for a secondary zone passed the ACL: run an SOA check (RFC 1996 §3.11). */
  readonly onNotify: (zone: Name, serial: number | undefined, from: string) => void;
  readonly logger?: Logger | undefined;
  /** Largest AXFR/IXFR message (default 65535, RFC 5936 §2.2 "as large as possible"); smaller in tests. */
  readonly maxMessage?: number;
  /** Flattened CNAME replacements of a snapshot (src/transfer/outgoing.ts); default: none (apex CNAMEs left out). */
  readonly flatView?: (snap: ZoneSnapshot, cfg: ZoneConfig) => FlatView | Promise<FlatView>;
  /** UDP payload size advertised in the OPT RR of error replies (config edns.udp-size; default 1232). */
  readonly udpSize?: number;
  /**
   * RFC 2136 UPDATE, after the TSIG check: the RCODE to answer with (src/change/). Absent: UPDATE is left to the
   * pipeline (NOTIMP).
   */
  readonly onUpdate?: ((req: { readonly message: Uint8Array; readonly keyName: Name | undefined; readonly address: string }) => Promise<number>) | undefined;
}

/** Types a live-signed zone never sends out: the secondary signs or serves it unsigned (seed "Zone transfers"). */
const LIVE_SIGNED_DROP: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM]);

/**
 * Warnings any client can trigger with one packet (bad TSIG, a refused NOTIFY or transfer) are sampled: at most one
 * line per kind a second, carrying how many were left out since the last one. Unsampled, a flood of forged requests
 * becomes a flood of log lines (disk, CPU), which is what the RRL log does too (src/query/pipeline.ts).
 */
export class LogSampler {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly intervalMs = 1000) {}

  /** Undefined: leave this line out; a number: log it, with that many left out before it. */
  admit(kind: string, now = Date.now()): number | undefined {
    const e = this.last.get(kind);
    if (e === undefined) {
      // Kinds are event × error name: a handful, so the map stays small.
      this.last.set(kind, { at: now, suppressed: 0 });
      return 0;
    }
    if (now - e.at < this.intervalMs) {
      e.suppressed++;
      return undefined;
    }
    const n = e.suppressed;
    e.at = now;
    e.suppressed = 0;
    return n;
  }
}

/** One writer for all transfer messages: every message is built in one synchronous step, so sharing is safe. */
const writer = new MessageWriter();

/** The `suppressed` log field of a sampled line (absent when nothing was left out). */
function suppressed(n: number): { suppressed?: number } {
  return n > 0 ? { suppressed: n } : {};
}

/** Client address bytes; IPv4-mapped IPv6 (RFC 4291 §2.5.5.2) becomes IPv4. */
function clientBytes(address: string): Uint8Array | undefined {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return parseIp(m ? m[1]! : address)?.bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * True when some reference admits the client. A peer admits its own address, and when it has a key only requests
 * signed with that key; an ACL entry needs its prefix (if any) and its key (if any) to match.
 */
export function accessAllowed(refs: readonly AccessRef[], address: string, keyName: Name | undefined): boolean {
  const bytes = clientBytes(address);
  for (const r of refs) {
    switch (r.kind) {
      case 'peer': {
        const p = r.peer;
        if (!bytes || !sameBytes(p.address.bytes, bytes)) continue;
        if (p.tsig && (!keyName || !p.tsig.name.equals(keyName))) continue;
        return true;
      }
      case 'acl': {
        const a = r.acl;
        if (a.address && (!bytes || !cidrContains(a.address, bytes))) continue;
        if (a.key && (!keyName || !a.key.name.equals(keyName))) continue;
        if (!a.address && !a.key) continue;
        return true;
      }
      default: {
        const never: never = r;
        return never;
      }
    }
  }
  return false;
}

/**
 * The records a transfer carries, in order after the leading SOA (content rules of seed "Set up outgoing zone
 * transfers"). Proxied names already carry the pool addresses in the snapshot. A CNAME at the apex, or any CNAME
 * under flatten-all-cnames, goes out as its flattened A/AAAA records from `flat`; when it could not be flattened
 * the apex CNAME is left out (RFC 2181 §10.1: a CNAME cannot sit next to the apex SOA/NS) and others go out as CNAMEs.
 */
export function* transferRecords(snap: ZoneSnapshot, cfg: ZoneConfig | undefined, flat: FlatView = NO_FLAT): Generator<RR> {
  const live = cfg?.dnssec?.mode === 'live';
  const ours = live ? ownDnskeys(snap) : undefined;
  for (const r of snap.records) {
    if (r.type === RRType.SOA) continue;
    if (r.type === RRType.CNAME && flattensOnTransfer(r, snap, cfg)) {
      const rep = flat.get(r.owner.key);
      if (rep !== undefined) yield* rep;
      else if (!r.owner.equals(snap.origin)) yield r;
      continue;
    }
    if (live && LIVE_SIGNED_DROP.has(r.type)) continue;
    // Live signing: DNSKEYs of other signers (zone file or primary, RFC 8901 model 2) go out; our own keys and the
    // CDS/CDNSKEY made from them do not (a live-signed zone's CDS/CDNSKEY are always ours: the file's are dropped).
    if (live && (r.type === RRType.CDS || r.type === RRType.CDNSKEY)) continue;
    if (live && r.type === RRType.DNSKEY && ours?.has(bytesKey(r.rdata))) continue;
    yield r;
  }
}

/** The DNSKEY RDATA of our own keys in a live-signed snapshot (as latin1 strings). */
function ownDnskeys(snap: ZoneSnapshot): ReadonlySet<string> | undefined {
  const s = signingOf(snap);
  if (s?.kind !== 'live') return undefined;
  return new Set([s.signer.ksk, s.signer.zsk, ...s.keys].map((k) => bytesKey(k.dnskeyRdata)));
}

function bytesKey(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export class TransferServer implements TransferHook {
  private readonly keyMap: ReadonlyMap<string, TsigKey>;
  private readonly maxMessage: number;
  private readonly sampler = new LogSampler();

  constructor(private readonly opts: TransferServerOptions) {
    this.keyMap = new Map(opts.keys.map((k) => [k.name.key, k]));
    this.maxMessage = Math.min(opts.maxMessage ?? 65535, 65535);
  }

  accepts(q: Query): boolean {
    // RFC 1996 NOTIFY, RFC 5936 AXFR, RFC 1995 IXFR.
    if (q.opcode === Opcode.NOTIFY) return true;
    // RFC 2136 UPDATE, when the change path is wired in.
    if (q.opcode === Opcode.UPDATE) return this.opts.onUpdate !== undefined;
    if (q.opcode !== Opcode.QUERY) return false;
    // A TSIG-signed SOA query is a secondary's refresh check (RFC 1034 §4.3.5): the answer must be signed too.
    if (q.tsig !== undefined && q.question.type === RRType.SOA) return true;
    return q.question.type === RRType.AXFR || q.question.type === RRType.IXFR;
  }

  /**
   * RFC 8945 §5.2 for an ordinary signed query: an unknown key, a bad MAC or time is answered NOTAUTH with the
   * TSIG error (§5.2.1–§5.2.3); a good one gets its answer signed over the request MAC (§5.3). An answer that no
   * longer fits once signed goes out truncated and signed, so the client retries over TCP.
   */
  tsigCheck(q: Query, buf: Uint8Array, ctx: QueryContext): { readonly reject: Uint8Array } | { readonly sign: (answer: Uint8Array, maxSize: number) => Uint8Array } {
    const v = verifyMessage(buf, (n) => this.keyMap.get(n.key));
    if (!v.ok) {
      const left = this.opts.logger && this.sampler.admit(`tsig-failed ${v.error}`);
      if (left !== undefined) {
        this.opts.logger?.warn({ event: 'query.tsig-failed', qname: q.question.name.toString(), client: ctx.address, error: v.error, key: v.keyName?.toString(), detail: v.detail, ...suppressed(left) }, 'TSIG verification failed');
      }
      return { reject: v.error === 'UNSIGNED' ? this.bare(q, buf, Rcode.REFUSED) : tsigErrorResponse(this.bare(q, buf, Rcode.NOTAUTH), v).message };
    }
    return {
      sign: (answer, maxSize) => {
        const signed = this.sign(answer, v);
        if (signed.length <= maxSize || answer.length < 4) return signed;
        const tc = this.bare(q, buf, answer[3]! & 0x0f, (answer[2]! & 0x04) !== 0);
        tc[2]! |= 0x02;
        return this.sign(tc, v);
      },
    };
  }

  handle(q: Query, buf: Uint8Array, ctx: QueryContext): Replies {
    const log = this.opts.logger;
    const zoneName = q.question.name;
    const what = q.opcode === Opcode.UPDATE ? 'update' : q.opcode === Opcode.NOTIFY ? 'notify' : q.question.type === RRType.AXFR ? 'axfr' : q.question.type === RRType.SOA ? 'soa' : 'ixfr';
    // RFC 8945 §5.2: verify a signed request before anything else.
    let verified: VerifyOk | undefined;
    if (q.tsig) {
      const v = verifyMessage(buf, (n) => this.keyMap.get(n.key));
      if (!v.ok) {
        const left = log && this.sampler.admit(`tsig-failed ${v.error}`);
        if (left !== undefined) {
          log?.warn({ event: 'transfer.tsig-failed', zone: zoneName.toString(), request: what, client: ctx.address, error: v.error, key: v.keyName?.toString(), detail: v.detail, ...suppressed(left) }, 'TSIG verification failed');
        }
        if (v.error === 'UNSIGNED') return this.bare(q, buf, Rcode.REFUSED);
        return tsigErrorResponse(this.bare(q, buf, Rcode.NOTAUTH), v).message;
      }
      verified = v;
    }
    const reply = (rcode: number, aa = false): Uint8Array => this.sign(this.bare(q, buf, rcode, aa), verified);
    const onUpdate = this.opts.onUpdate;
    if (q.opcode === Opcode.UPDATE && onUpdate) {
      // RFC 2136 §3.8: the answer carries the zone section; signed when the request was (RFC 8945 §5.3).
      const message = verified ? verified.message : buf;
      return onUpdate({ message, keyName: verified?.key.name, address: ctx.address }).then(
        (rcode) => reply(rcode),
        (e: unknown) => {
          log?.error({ event: 'update.failed', zone: zoneName.toString(), client: ctx.address, error: (e as Error).message }, 'UPDATE failed');
          return reply(Rcode.SERVFAIL);
        },
      );
    }
    const info = this.opts.zone(zoneName.key);
    const served = this.opts.store.current.get(zoneName.key);
    if (q.opcode === Opcode.NOTIFY) {
      // RFC 1996 §3.10: NOTIFY only from the zone's primaries or allowed sources.
      if (!info || info.config.type !== 'secondary') return reply(Rcode.NOTAUTH);
      const refs: AccessRef[] = [...info.config.primaries.map((peer) => ({ kind: 'peer' as const, peer })), ...info.config.allowNotify];
      if (!accessAllowed(refs, ctx.address, verified?.key.name)) {
        const left = log && this.sampler.admit('notify.refused');
        if (left !== undefined) log?.warn({ event: 'notify.refused', zone: zoneName.toString(), client: ctx.address, key: verified?.key.name.toString(), ...suppressed(left) }, 'NOTIFY refused by ACL');
        return reply(Rcode.REFUSED);
      }
      let serial: number | undefined;
      if (q.counts.an > 0) {
        try {
          const soa = decodeMessage(verified ? verified.message : buf).answer.find((r) => r.type === RRType.SOA);
          if (soa) serial = soaSerial(soa.rdata);
        } catch {
          // RFC 1996 §3.7: the SOA in a NOTIFY is only a hint.
        }
      }
      transferStats.notifyReceived++;
      log?.info({ event: 'notify.received', zone: zoneName.toString(), client: ctx.address, serial }, 'NOTIFY received');
      this.opts.onNotify(zoneName, serial, ctx.address);
      // RFC 1996 §3.8: answer with the same question, QR and AA.
      return reply(Rcode.NOERROR, true);
    }
    if (what === 'soa') {
      // Signed refresh check: the apex SOA, authoritative, signed over the request MAC (RFC 8945 §5.3).
      if (!served) return reply(Rcode.REFUSED);
      if (served.expired) return reply(Rcode.SERVFAIL);
      const w = writer;
      w.begin(q.id, Flag.QR | Flag.AA | (q.flags & Flag.RD), 65535);
      w.rawQuestion(buf.subarray(q.questionOffset, q.questionOffset + q.questionLength));
      w.addRRset('answer', served.snapshot.soa);
      return this.sign(w.finish(), verified);
    }
    if (!info || !served) return reply(Rcode.NOTAUTH);
    if (!accessAllowed(info.config.allowTransfer, ctx.address, verified?.key.name)) {
      const left = log && this.sampler.admit('transfer.refused');
      if (left !== undefined) log?.warn({ event: 'transfer.refused', zone: zoneName.toString(), request: what, client: ctx.address, key: verified?.key.name.toString(), ...suppressed(left) }, 'transfer refused by ACL');
      return reply(Rcode.REFUSED);
    }
    if (served.expired) return reply(Rcode.SERVFAIL);
    const snap = served.snapshot;
    if (what === 'axfr') {
      // RFC 5936 §4.2: AXFR is defined over TCP only.
      if (ctx.transport !== 'tcp') return reply(Rcode.REFUSED);
      transferStats.axfrOut++;
      log?.info({ event: 'transfer.out', zone: zoneName.toString(), type: 'AXFR', client: ctx.address, serial: snap.soaInfo.serial }, 'AXFR out');
      const flat = this.opts.flatView?.(snap, info.config) ?? NO_FLAT;
      if (!(flat instanceof Promise)) return this.stream(q, buf, verified, [fullZone(snap, info.config, flat)]);
      const self = this;
      return (async function* (): AsyncGenerator<Uint8Array> {
        const view = await flat;
        yield* self.stream(q, buf, verified, [fullZone(snap, info.config, view)]);
      })();
    }
    // IXFR: RFC 1995 §3 the client's SOA is in the authority section.
    let clientSerial: number | undefined;
    try {
      const soa = decodeMessage(verified ? verified.message : buf).authority.find((r) => r.type === RRType.SOA);
      if (soa) clientSerial = soaSerial(soa.rdata);
    } catch {
      clientSerial = undefined;
    }
    if (clientSerial === undefined) return reply(Rcode.FORMERR);
    const current = snap.soaInfo.serial;
    const cmp = serialCompare(clientSerial, current);
    const soaRR = soaRecord(snap);
    // RFC 1995 §2: the client is current (or ahead): a single SOA.
    if (cmp === 0 || cmp === 1) {
      return this.stream(q, buf, verified, [[soaRR][Symbol.iterator]()]);
    }
    // RFC 1995 §2: over UDP, when the answer may not fit, the single current SOA makes the client retry over TCP.
    if (ctx.transport !== 'tcp') return this.stream(q, buf, verified, [[soaRR][Symbol.iterator]()]);
    const self = this;
    return (async function* (): AsyncGenerator<Uint8Array> {
      const chain = await readJournalSince(info.journalPath, snap.origin, clientSerial);
      const last = chain?.[chain.length - 1];
      if (!chain || !last || last.toSerial !== current) {
        // RFC 1995 §4: history unknown or too old: the whole zone, AXFR-style.
        transferStats.axfrOut++;
        log?.info({ event: 'transfer.out', zone: zoneName.toString(), type: 'IXFR-AXFR', client: ctx.address, from: clientSerial, serial: current }, 'IXFR out as full zone');
        const view = await (self.opts.flatView?.(snap, info.config) ?? NO_FLAT);
        yield* self.stream(q, buf, verified, [fullZone(snap, info.config, view)]);
        return;
      }
      transferStats.ixfrOut++;
      log?.info({ event: 'transfer.out', zone: zoneName.toString(), type: 'IXFR', client: ctx.address, from: clientSerial, serial: current, changesets: chain.length }, 'IXFR out');
      yield* self.stream(q, buf, verified, [incremental(soaRR, chain)]);
    })();
  }

  /** Header + echoed question, no records; an OPT RR when the request had one. */
  private bare(q: Query, buf: Uint8Array, rcode: number, aa = false): Uint8Array {
    const w = writer;
    w.begin(q.id, Flag.QR | ((q.opcode & 0xf) << 11) | (aa ? Flag.AA : 0) | (q.flags & Flag.RD) | (rcode & 0xf), 65535);
    w.rawQuestion(buf.subarray(q.questionOffset, q.questionOffset + q.questionLength));
    // RFC 6891 §7: "If an OPT record is present in a received request, compliant responders MUST include an OPT
    // record in their respective responses." (DO echoed, RFC 3225 §3). A TSIG RR, if any, is appended after it.
    if (q.edns) w.opt({ udpSize: this.opts.udpSize ?? 1232, do: (q.edns.flags & EdnsFlag.DO) !== 0, options: [] }, (rcode >>> 4) & 0xff);
    return w.finish();
  }

  private sign(msg: Uint8Array, v: VerifyOk | undefined): Uint8Array {
    // RFC 8945 §5.3: a signed request gets a response signed over the request MAC.
    return v ? signMessage(msg, v.key, { requestMac: v.mac }).message : msg;
  }

  /**
   * Pack the records into as few messages as fit (RFC 5936 §2.2), each signed in turn (RFC 8945 §5.3.1). The
   * question goes into the first message only (RFC 5936 §2.2.1). Lazily produced: the zone is never copied.
   */
  private *stream(q: Query, buf: Uint8Array, v: VerifyOk | undefined, sources: readonly Iterator<RR>[]): Generator<Uint8Array> {
    const signer = v ? new TsigResponseSigner(v.key, v.mac) : undefined;
    // RFC 6891 §7: a request with an OPT RR gets one in every response message (before the TSIG RR, RFC 8945 §5.3).
    const edns = q.edns ? { udpSize: this.opts.udpSize ?? 1232, do: (q.edns.flags & EdnsFlag.DO) !== 0, options: [] } : undefined;
    // Room for the TSIG RR: owner + fixed fields + algorithm name + MAC (≤ 64) + other data (6); and for the OPT.
    const reserve = (v ? v.key.name.wireLength + 10 + 16 + 10 + 64 + 6 + 32 : 0) + (edns ? 11 : 0);
    const raw = buf.subarray(q.questionOffset, q.questionOffset + q.questionLength);
    const word = Flag.QR | Flag.AA | ((q.opcode & 0xf) << 11);
    const w = writer;
    let first = true;
    let pending: RR | undefined;
    for (const src of sources) {
      for (;;) {
        w.begin(q.id, word, this.maxMessage, reserve);
        if (first) w.rawQuestion(raw);
        let n = 0;
        for (;;) {
          const rr = pending ?? next(src);
          pending = undefined;
          if (!rr) break;
          if (!w.addRR('answer', rr.owner, rr.type, rr.class, rr.ttl, rr.rdata)) {
            if (n === 0) throw new Error(`record ${rr.owner.toString()} type ${rr.type} does not fit in a transfer message`);
            pending = rr;
            break;
          }
          n++;
        }
        if (n === 0 && !first) break;
        first = false;
        if (edns) w.opt(edns, 0);
        const msg = w.finish();
        yield signer ? signer.sign(msg) : msg;
        if (!pending) break;
      }
    }
  }
}

function next(it: Iterator<RR>): RR | undefined {
  const r = it.next();
  return r.done ? undefined : r.value;
}

function soaRecord(snap: ZoneSnapshot): RR {
  const s = snap.soa;
  return { owner: s.owner, type: s.type, class: s.class, ttl: s.ttl, rdata: s.rdata[0]!, meta: s.meta[0]! };
}

/** RFC 5936 §2.2: SOA, every other record, SOA. */
function* fullZone(snap: ZoneSnapshot, cfg: ZoneConfig, flat: FlatView): Generator<RR> {
  const soa = soaRecord(snap);
  yield soa;
  yield* transferRecords(snap, cfg, flat);
  yield soa;
}

/** RFC 1995 §4: current SOA, then per changeset old SOA + deletions, new SOA + additions, then current SOA. */
function* incremental(soa: RR, chain: readonly Changeset[]): Generator<RR> {
  yield soa;
  for (const cs of chain) {
    yield* cs.removed;
    yield* cs.added;
  }
  yield soa;
}
