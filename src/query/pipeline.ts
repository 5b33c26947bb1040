// The only file that sequences the query stages: decode → classify → route → resolve → shape → finalize → encode,
// with a cache of encoded answers in front (keyed by everything that shapes the bytes).

import type { Logger } from 'pino';
import { decodeQuery, peekPlainQuery, plainQuery } from '../wire/decode.js';
import { encodeResponse, truncatedReply } from '../wire/encode.js';
import { EdeCode, EdnsFlag, EdnsOption, Flag, Rcode, RRClass, RRType } from '../wire/constants.js';
import { sourcePrefix } from './analytics.js';
import type { DecodeResult, EdnsOptionData, Query, Replies, ResponseMessage } from '../wire/message.js';
import type { ZoneStore } from '../zone/store.js';
import { buildResponse } from './answer.js';
import { chaosAnswer, type Identity } from './chaos.js';
import { classify } from './classify.js';
import { resolve, type ResolveOptions } from './resolve.js';
import { FLATTEN_RESOLVE_OPTIONS, Flattener, needsFlattening, type Shaped } from './flatten.js';
import type { FlatteningConfig } from '../flatten/upstream.js';
import { bare, type Response } from '../wire/response.js';
import type { Resolution } from '../zone/resolution.js';
import { refusesRrsigQuery, signResponse, signedAnswerExpiry } from '../dnssec/sign-stage.js';
import type { SigningBudget } from '../dnssec/budget.js';

import { route } from './route.js';
import { checkCookie, COOKIE_REPLY, type CookieCheck, type CookieSettings } from './cookies.js';
import { RrlClass, rrlClassKey, RrlVerdict, type RateLimiter } from './rrl.js';
import { parseIp } from '../util/ip.js';
import { AnswerCache, answerKey, type AnswerKey } from './answer-cache.js';

/** Logical rcode of encoded answers whose wire rcode differs (RFC 9824 compact denial), for the query log (kept only while it is on). */
const logicalRcodes = new WeakMap<Uint8Array, number>();

/**
 * Why the answer is what it is, after the DNS Firewall's responseReason (seed R07): success, rate_limit,
 * invalid_query, upstream_failure, chaos_success; `refused` (outside our zones, or refused by policy) and
 * `unknown` (any other SERVFAIL and the rest) are apexdns's own.
 */
function queryReason(q: Query, rcode: number, limited: boolean, flat: { readonly failed?: boolean } | undefined): string {
  if (limited) return 'rate_limit';
  if (q.question.class === RRClass.CH) return 'chaos_success';
  switch (rcode) {
    case Rcode.NOERROR:
    case Rcode.NXDOMAIN:
      return 'success';
    case Rcode.FORMERR:
    case Rcode.NOTIMP:
      return 'invalid_query';
    case Rcode.REFUSED:
      return 'refused';
    case Rcode.SERVFAIL:
      return flat?.failed === true ? 'upstream_failure' : 'unknown';
    default:
      return 'unknown';
  }
}

/** Flattened answers (bytes as returned): stale or not, and the upstream-fetched target (analytics' origin). */
const flattenedFacts = new WeakMap<Uint8Array, { readonly stale: boolean; readonly origin: string; readonly failed?: boolean }>();

/** What analytics records about a flattened answer (undefined for every other answer). */
export function flattenedAnswer(bytes: Uint8Array): { readonly stale: boolean; readonly origin: string } | undefined {
  return flattenedFacts.get(bytes);
}

/** What the pipeline needs to know about the client (structurally compatible with server/handler ClientInfo). */
export interface QueryContext {
  readonly transport: 'udp' | 'tcp';
  readonly address: string;
  readonly port: number;
  /** The address octets, when the transport has them at hand (cheaper than parsing `address`). */
  octets?(): Uint8Array;
}

export interface EngineOptions {
  /** Our advertised EDNS UDP payload size (RFC 6891 §6.2.5; 1232 per DNS Flag Day 2020). */
  readonly udpSize: number;
  readonly identity: Identity;
  /** Entries in the encoded-answer cache; 0 disables it. */
  readonly answerCacheEntries: number;
  readonly logger?: Logger;
  /** Log one line per query (debug level is not used: this is an explicit operator choice). */
  readonly logQueries?: boolean;
  /** Zone transfers and NOTIFY (src/transfer): consulted for AXFR, IXFR and NOTIFY requests. */
  readonly transfers?: TransferHook;
  /** CNAME flattening of external targets (resolvers, timeouts); default: no resolvers, in-zone targets only. */
  readonly flattening?: FlatteningConfig;
  /** DNS Cookies (RFC 7873, RFC 9018); without them the COOKIE option is ignored. */
  readonly cookies?: CookieSettings;
  /** Response rate limiting of UDP answers (src/query/rrl.ts); none = off. */
  readonly rrl?: RateLimiter;
  /** One-off signatures per second for UDP answers of live-signed zones (src/dnssec/budget.ts); none = unlimited. */
  readonly signingBudget?: SigningBudget;
  /** CNAME/DNAME redirections followed in one answer (config `limits.max-cname-chain`); default MAX_CHAIN. */
  readonly maxCnameChain?: number;
}

function resolveOptionsFor(maxChain: number | undefined): ResolveOptions {
  return maxChain === undefined ? FLATTEN_RESOLVE_OPTIONS : Object.freeze({ ...FLATTEN_RESOLVE_OPTIONS, maxChain });
}

/** The rate-limit bucket of error responses (one per client prefix). */
const ERROR_CLASS = rrlClassKey(RrlClass.Error, '', 0);
/** At most one rate-limit log line per this many ms (per worker). */
const RRL_LOG_INTERVAL_MS = 1000;

const NO_FLATTENING: FlatteningConfig = Object.freeze({ resolvers: [], timeoutMs: 2000, maxChain: 8, staleTtl: 86_400 });

/** The transfer module's entry point: decides on AXFR/IXFR/NOTIFY and produces the (possibly many) messages. */
export interface TransferHook {
  accepts(q: Query): boolean;
  handle(q: Query, buf: Uint8Array, ctx: QueryContext): Replies;
  /**
   * RFC 8945 §5.2 for any other TSIG-signed request: the error answer to send, or how to sign the answer the
   * pipeline builds (RFC 8945 §5.3), within `maxSize` octets.
   */
  tsigCheck?(q: Query, buf: Uint8Array, ctx: QueryContext): { readonly reject: Uint8Array } | { readonly sign: (answer: Uint8Array, maxSize: number) => Uint8Array };
}

/** RFC 1035 §4.2.1: without EDNS, UDP messages are at most 512 octets. */
const CLASSIC_UDP = 512;
const TCP_MAX = 65535;

/**
 * How large an answer may be: 65535 over TCP (RFC 1035 §4.2.2); over UDP the requester's EDNS payload size (never
 * below 512, RFC 6891 §6.2.5) capped by ours, or 512 without EDNS.
 */
function responseLimit(transport: 'udp' | 'tcp', ednsUdpSize: number | undefined, ours: number): number {
  if (transport === 'tcp') return TCP_MAX;
  return ednsUdpSize === undefined ? CLASSIC_UDP : Math.min(Math.max(ednsUdpSize, CLASSIC_UDP), ours);
}

const NOT_AUTHORITATIVE = { code: EdeCode.NOT_AUTHORITATIVE, text: '' };
const NOT_SUPPORTED = { code: EdeCode.NOT_SUPPORTED, text: '' };

export class QueryEngine {
  private readonly cache: AnswerCache;
  readonly flattener: Flattener;
  private cacheGeneration = -1;
  private resolveOptions: ResolveOptions;
  cacheHits = 0;
  cacheMisses = 0;
  /** Whether the last handle() call answered from the answer cache (read right after it returns; analytics). */
  lastCached = false;

  /** Answers held in this process's answer cache. */
  get cacheEntries(): number {
    return this.cache.size;
  }

  constructor(
    private readonly store: ZoneStore,
    private readonly opts: EngineOptions,
  ) {
    this.flattener = new Flattener(store, { config: opts.flattening ?? NO_FLATTENING, logger: opts.logger });
    this.cache = new AnswerCache(opts.answerCacheEntries);
    this.resolveOptions = resolveOptionsFor(opts.maxCnameChain);
  }

  /** Reload: a new `limits.max-cname-chain` (cached answers go with the new zone set's generation). */
  setMaxCnameChain(max: number | undefined): void {
    this.resolveOptions = resolveOptionsFor(max);
  }

  /** Answer one request. Returns null when the packet must be dropped (RFC 1035 §4.1.1: QR=1, short header). */
  handle(buf: Uint8Array, ctx: QueryContext): Replies {
    const started = this.opts.logQueries ? performance.now() : 0;
    this.lastCached = false;
    // The answer cache comes first: a plain query that was answered before is not even decoded.
    let key: AnswerKey | undefined;
    let cookie: CookieCheck | undefined;
    if (this.opts.answerCacheEntries > 0 && peekPlainQuery(buf) && this.cacheable((cookie = this.peekCookie(buf, ctx)), ctx)) {
      key = answerKey(buf, responseLimit(ctx.transport, plainQuery.edns ? plainQuery.udpSize : undefined, this.opts.udpSize), ctx.transport);
      const generation = this.store.current.generation;
      if (generation !== this.cacheGeneration) {
        this.cache.clear();
        this.cacheGeneration = generation;
      }
      const hit = this.cache.get(key, Date.now());
      if (hit !== undefined) {
        this.cacheHits++;
        this.lastCached = true;
        const out = patchCached(hit.bytes, buf, key.question);
        // The cached answer ends with the COOKIE option data of the request it was made for (see ednsOptions).
        if (cookie !== undefined && cookie.kind !== 'malformed') out.set(cookie.reply, out.length - COOKIE_REPLY);
        const sent = this.limit(out, hit.rrl, ctx, cookie, buf, plainQuery.questionEnd, plainQuery.edns ? (plainQuery.ednsFlags & EdnsFlag.DO) !== 0 : undefined);
        if (sent === null || !this.opts.logQueries) return sent;
        if (hit.logical !== undefined) logicalRcodes.set(out, hit.logical);
        return this.logHit(buf, out, ctx, started, sent !== out);
      }
    }
    const dec = decodeQuery(buf);
    if (dec.kind === 'drop') return null;
    if (dec.kind === 'formerr') return this.limit(this.formerr(dec), ERROR_CLASS, ctx, undefined, buf, 12, undefined);
    const q = dec.query;
    if (this.opts.transfers !== undefined && this.opts.transfers.accepts(q)) return this.opts.transfers.handle(q, buf, ctx);
    const c = cookie ?? this.cookieOf(q, ctx);
    // A signed query (never a plain one, so never from the answer cache): verified first, its answer signed.
    const tsig = q.tsig === undefined ? undefined : this.opts.transfers?.tsigCheck?.(q, buf, ctx);
    if (tsig !== undefined && 'reject' in tsig) return tsig.reject;
    const plain = this.answer(q, buf, ctx, key, c);
    const out = tsig === undefined ? plain : this.signed(plain, tsig.sign, responseLimit(ctx.transport, q.edns?.udpSize, this.opts.udpSize));
    if (out instanceof Promise) {
      return out.then((a) => {
        const o = this.limitAnswer(a, ctx, c, buf, q);
        return o === null || !this.opts.logQueries ? o : this.logQuery(q, o, ctx, started, o !== a.bytes, false, a.bytes, buf.length);
      });
    }
    const sent = this.limitAnswer(out, ctx, c, buf, q);
    return this.opts.logQueries && sent !== null ? this.logQuery(q, sent, ctx, started, sent !== out.bytes, false, out.bytes, buf.length) : sent;
  }

  private signed(a: Answered | Promise<Answered>, sign: (answer: Uint8Array, maxSize: number) => Uint8Array, maxSize: number): Answered | Promise<Answered> {
    if (a instanceof Promise) return a.then((x) => ({ ...x, bytes: sign(x.bytes, maxSize) }));
    return { ...a, bytes: sign(a.bytes, maxSize) };
  }

  private limitAnswer(a: Answered, ctx: QueryContext, cookie: CookieCheck | undefined, buf: Uint8Array, q: Query): Uint8Array | null {
    const e = q.edns;
    return this.limit(a.bytes, a.rrl, ctx, cookie, buf, q.questionOffset + q.questionLength, e === undefined ? undefined : (e.flags & EdnsFlag.DO) !== 0);
  }

  private rrlLogged = 0;

  /**
   * Response rate limiting (src/query/rrl.ts): UDP answers only; a TCP client or one with a valid server cookie
   * has shown that its address is not spoofed and is never limited. A limited answer is dropped, or every
   * `slip`-th one replaced by an empty truncated answer (`dnssecOk`: the request's DO bit, undefined without EDNS).
   */
  private limit(bytes: Uint8Array, rrlKey: number, ctx: QueryContext, cookie: CookieCheck | undefined, buf: Uint8Array, questionEnd: number, dnssecOk: boolean | undefined): Uint8Array | null {
    const rrl = this.opts.rrl;
    if (rrl === undefined || ctx.transport === 'tcp' || cookie?.kind === 'valid') return bytes;
    const verdict = rrl.check(clientOctets(ctx), rrlKey, Math.floor(Date.now() / 1000));
    if (verdict === RrlVerdict.Send) return bytes;
    const now = Date.now();
    if (this.opts.logger !== undefined && now - this.rrlLogged >= RRL_LOG_INTERVAL_MS) {
      this.rrlLogged = now;
      // Sampled: one line per interval, with the totals so far (seed R07 reason `rate_limit`).
      this.opts.logger.info({ client: ctx.address, reason: 'rate_limit', action: verdict === RrlVerdict.Slip ? 'slip' : 'drop', dropped: rrl.dropped, slipped: rrl.slipped }, 'rate limited');
    }
    if (verdict === RrlVerdict.Drop) return null;
    return truncatedReply(buf, questionEnd, dnssecOk === undefined ? undefined : { udpSize: this.opts.udpSize, do: dnssecOk });
  }

  /** The query log line for a cached answer (the request is decoded only for the log). */
  private logHit(buf: Uint8Array, out: Uint8Array, ctx: QueryContext, started: number, limited: boolean): Uint8Array {
    const dec = decodeQuery(buf);
    if (dec.kind === 'query') this.logQuery(dec.query, out, ctx, started, limited, true, out, buf.length);
    return out;
  }

  /**
   * The per-query log line (seed R01/R06 fields, as the analytics dimensions) with a `reason` modelled on the
   * DNS Firewall's responseReason (seed R07). `answer`: the answer made before rate limiting replaced it.
   */
  private logQuery(q: Query, out: Uint8Array, ctx: QueryContext, started: number, limited: boolean, cached: boolean, answer: Uint8Array, querySize: number): Uint8Array {
    if (this.opts.logger) {
      const rcode = logicalRcodes.get(answer) ?? answer[3]! & 0x0f;
      const flat = cached ? undefined : flattenedFacts.get(answer);
      const zone = this.store.current.find(q.question.name.key)?.snapshot.origin.toString();
      this.opts.logger.info(
        {
          qname: q.question.name.toString(), qtype: q.question.type, rcode, client: ctx.address, protocol: ctx.transport, ms: +(performance.now() - started).toFixed(3),
          zone: zone ?? null, cached, ipVersion: ctx.address.includes(':') ? 6 : 4, source: sourcePrefix(ctx.address), querySize, responseSize: out.length,
          ...(flat !== undefined ? { origin: flat.origin, stale: flat.stale } : {}),
          reason: queryReason(q, rcode, limited, flat),
        },
        'query',
      );
    }
    return out;
  }

  /** The COOKIE option of a plain query that peekPlainQuery accepted, checked (undefined: none, or cookies are off). */
  private peekCookie(buf: Uint8Array, ctx: QueryContext): CookieCheck | undefined {
    if (this.opts.cookies === undefined || plainQuery.cookieAt < 0) return undefined;
    return checkCookie(buf, plainQuery.cookieAt, plainQuery.cookieLength, clientOctets(ctx), Math.floor(Date.now() / 1000), this.opts.cookies);
  }

  /** The COOKIE option of a decoded query, checked; more than one COOKIE option is malformed (RFC 7873 §5.2.2). */
  private cookieOf(q: Query, ctx: QueryContext): CookieCheck | undefined {
    if (this.opts.cookies === undefined || q.edns === undefined) return undefined;
    let found: EdnsOptionData | undefined;
    for (const o of q.edns.options) {
      if (o.code !== EdnsOption.COOKIE) continue;
      if (found !== undefined) return { kind: 'malformed' };
      found = o;
    }
    if (found === undefined) return undefined;
    return checkCookie(found.data, 0, found.data.length, clientOctets(ctx), Math.floor(Date.now() / 1000), this.opts.cookies);
  }

  /** Whether a request with this cookie is answered normally (and so may come from the answer cache). */
  private cacheable(cookie: CookieCheck | undefined, ctx: QueryContext): boolean {
    if (cookie === undefined || cookie.kind === 'valid') return true;
    if (cookie.kind === 'malformed') return false;
    return !(this.opts.cookies!.require && ctx.transport === 'udp');
  }

  /** `key`: the answer cache's key when the request is a plain query (then it was looked up and missed). */
  private answer(q: Query, buf: Uint8Array, ctx: QueryContext, key: AnswerKey | undefined, cookie: CookieCheck | undefined): Answered | Promise<Answered> {
    const edns = q.edns;
    // The question entry as received: echoed verbatim so the QNAME keeps its case (RFC 1035 §7.1, 0x20).
    const rawQuestion = buf.subarray(q.questionOffset, q.questionOffset + q.questionLength);
    // RFC 6891 §6.1.3: we implement version 0 only; higher versions get BADVERS with our OPT (version 0).
    if (edns && edns.version > 0) return { bytes: this.finalize(q, rawQuestion, bare(Rcode.BADVERS), TCP_MAX), rrl: ERROR_CLASS };
    const maxSize = responseLimit(ctx.transport, edns?.udpSize, this.opts.udpSize);
    // RFC 7873 §5.2.2: a malformed COOKIE option is FORMERR.
    if (cookie?.kind === 'malformed') return { bytes: this.finalize(q, rawQuestion, bare(Rcode.FORMERR), maxSize), rrl: ERROR_CLASS };
    const reply = cookie?.reply;
    // RFC 7873 §5.2.3/§5.2.4: a server that requires cookies answers BADCOOKIE with a fresh cookie (UDP only: a TCP
    // client has shown it is not spoofed).
    if (cookie !== undefined && !this.cacheable(cookie, ctx)) return { bytes: this.finalize(q, rawQuestion, bare(Rcode.BADCOOKIE), maxSize, reply), rrl: ERROR_CLASS };

    const kind = classify(q);
    if (kind !== 'normal') {
      const res = this.special(q, kind);
      const rrl = res.rcode === Rcode.NOERROR ? rrlClassKey(RrlClass.Answer, q.question.name.key, q.question.type) : ERROR_CLASS;
      return { bytes: this.finalize(q, rawQuestion, res, maxSize, reply), rrl };
    }
    if (key !== undefined) this.cacheMisses++;

    const set = this.store.current;
    const routed = route(set, q.question.name, q.question.type);
    let res: Response;
    // Answers for names that may exist only once (NXDOMAIN, wildcard expansions: what a random-subdomain flood asks)
    // go to the cache's repeats segment, and only when asked again (src/query/answer-cache.ts).
    let oneOff = false;
    let rrl = ERROR_CLASS;
    // RFC 8914 §4.21: EDE 20 "Not Authoritative" explains the REFUSED for names outside our zones.
    if (!routed) res = bare(Rcode.REFUSED, false, NOT_AUTHORITATIVE);
    else if (routed.expired) res = bare(Rcode.SERVFAIL);
    // RFC 8914 §4.22: RRSIGs of a live-signed zone exist only per answer; refused as Knot's onlinesign and PowerDNS do.
    else if (q.question.type === RRType.RRSIG && refusesRrsigQuery(routed.snapshot)) res = bare(Rcode.REFUSED, false, NOT_SUPPORTED);
    else {
      const r = resolve(routed.snapshot, q.question.name, q.question.type, this.resolveOptions);
      if (needsFlattening(r)) {
        // Answer shaping (seed "CNAME flattening"): synchronous from served zones or the flattening cache.
        const shaped = this.flattener.shape(r, q.question.name, q.question.type);
        if (!(shaped instanceof Promise)) return this.finishShaped(q, rawQuestion, shaped, maxSize, key, set.generation, reply, ctx.transport);
        // A copy: the request's buffer may be reused before the upstream answers (Buffer#slice would share it).
        const question = new Uint8Array(rawQuestion);
        const later = key === undefined ? undefined : { ...key, question };
        return shaped.then((s) => this.finishShaped(q, question, s, maxSize, later, set.generation, reply, ctx.transport));
      }
      res = this.dnssec(q, r, buildResponse(r), ctx.transport);
      rrl = rrlKeyOf(r, q);
      if (res.truncated) return { bytes: this.truncated(q, rawQuestion), rrl };
      oneOff = r.kind === 'nxdomain' || ((r.kind === 'answer' || r.kind === 'nodata') && r.wildcard !== undefined);
    }

    const bytes = this.finalize(q, rawQuestion, res, maxSize, reply);
    if (key !== undefined) {
      // Signed answers leave the cache well before their RRSIGs expire (src/dnssec/sign-stage.ts).
      const now = Date.now();
      const until = signedAnswerExpiry(res, now);
      if (until > now) this.cache.set(key, bytes, until, res.logicalRcode, oneOff, rrl);
    }
    return { bytes, rrl };
  }

  /** Encode a flattened answer; cache the bytes only while the flattened data is fresh (never stale or SERVFAIL). */
  private finishShaped(q: Query, rawQuestion: Uint8Array, shaped: Shaped, maxSize: number, key: AnswerKey | undefined, generation: number, cookie: Uint8Array | undefined, transport: 'udp' | 'tcp'): Answered {
    let res: Response;
    if (shaped.res === undefined) res = bare(Rcode.SERVFAIL, false, shaped.ede);
    else {
      const built = this.dnssec(q, shaped.res, buildResponse(shaped.res), transport);
      if (built.truncated) return { bytes: this.truncated(q, rawQuestion), rrl: rrlKeyOf(shaped.res, q) };
      res = shaped.ede ? { ...built, ede: shaped.ede } : built;
    }
    const bytes = this.finalize(q, rawQuestion, res, maxSize, cookie);
    if (shaped.origin !== undefined) flattenedFacts.set(bytes, { stale: shaped.ede?.code === EdeCode.STALE_ANSWER, origin: shaped.origin });
    else if (shaped.res === undefined && this.opts.logQueries) flattenedFacts.set(bytes, { stale: false, origin: '', failed: true });
    const until = Math.min(shaped.cacheUntil, signedAnswerExpiry(res, Date.now()));
    const rrl = shaped.res === undefined ? ERROR_CLASS : rrlKeyOf(shaped.res, q);
    if (key !== undefined && generation === this.cacheGeneration && until > Date.now()) this.cache.set(key, bytes, until, res.logicalRcode, false, rrl);
    return { bytes, rrl };
  }

  /** DNSSEC stage (src/dnssec/sign-stage.ts): RRSIGs and denial proofs for DO=1 queries to signed zones. */
  private dnssec(q: Query, r: Resolution, res: Response, transport: 'udp' | 'tcp'): Response {
    const e = q.edns;
    if (e === undefined || (e.flags & EdnsFlag.DO) === 0) return res;
    const budget = transport === 'udp' ? this.opts.signingBudget : undefined;
    return signResponse(r, res, { co: (e.flags & EdnsFlag.CO) !== 0, now: Math.floor(Date.now() / 1000), qtype: q.question.type, ...(budget !== undefined ? { budget } : {}) });
  }

  /** An empty TC=1 answer to `q` (RFC 1035 §4.1.1): the client asks again over TCP. Never cached. */
  private truncated(q: Query, rawQuestion: Uint8Array): Uint8Array {
    // A request header (ID, opcode, RD, CD) and the question as received: what truncatedReply echoes.
    const request = new Uint8Array(12 + rawQuestion.length);
    const word = (q.opcode << 11) | (q.flags & (Flag.RD | Flag.CD));
    request.set([q.id >>> 8, q.id & 0xff, word >>> 8, word & 0xff]);
    request.set(rawQuestion, 12);
    return truncatedReply(request, request.length, q.edns === undefined ? undefined : { udpSize: this.opts.udpSize, do: (q.edns.flags & EdnsFlag.DO) !== 0 });
  }

  private special(q: Query, kind: Exclude<ReturnType<typeof classify>, 'normal'>): Response {
    switch (kind) {
      case 'chaos':
        return chaosAnswer(this.opts.identity, q.question.name, q.question.type);
      case 'axfr':
      case 'ixfr':
      case 'notify':
        // Handled by the transfer hook in handle() when one is configured; without it transfers and NOTIFY are
        // refused (closed by default).
        return bare(Rcode.REFUSED);
      case 'notimp':
        return bare(Rcode.NOTIMP);
      case 'refused':
        return bare(Rcode.REFUSED);
      default: {
        const never: never = kind;
        return never;
      }
    }
  }

  /** Header flags, EDNS (RFC 6891 §7: OPT in the response iff the query had one), NSID, EDE, COOKIE, encode. */
  private finalize(q: Query, rawQuestion: Uint8Array, res: Response, maxSize: number, cookie?: Uint8Array): Uint8Array {
    // RFC 1035 §4.1.1: RD is copied; RFC 4035 §3.2.2: CD is copied.
    let flags = q.flags & (Flag.RD | Flag.CD);
    if (res.aa) flags |= Flag.AA;
    const msg: ResponseMessage = {
      id: q.id,
      opcode: q.opcode,
      flags,
      rcode: res.rcode,
      rawQuestion,
      answer: res.answer,
      authority: res.authority,
      additional: res.additional,
      ...(res.requiredAdditional !== undefined ? { requiredAdditional: res.requiredAdditional } : {}),
      ...(q.edns ? { edns: { udpSize: this.opts.udpSize, do: (q.edns.flags & EdnsFlag.DO) !== 0, co: (q.edns.flags & EdnsFlag.CO) !== 0, options: this.ednsOptions(q, res, cookie) } } : {}),
    };
    const bytes = encodeResponse(msg, maxSize);
    // Only the query log reads it; a WeakMap entry per answer is garbage only a full GC clears.
    if (res.logicalRcode !== undefined && this.opts.logQueries) logicalRcodes.set(bytes, res.logicalRcode);
    return bytes;
  }

  private ednsOptions(q: Query, res: Response, cookie: Uint8Array | undefined): readonly EdnsOptionData[] {
    const out: EdnsOptionData[] = [];
    // RFC 5001 §2.1: NSID is returned only when requested.
    if (this.opts.identity.nsid && q.edns!.options.some((o) => o.code === EdnsOption.NSID)) out.push({ code: EdnsOption.NSID, data: this.opts.identity.nsid });
    if (res.ede) {
      const text = Buffer.from(res.ede.text, 'utf8');
      const data = new Uint8Array(2 + text.length);
      data[0] = res.ede.code >> 8;
      data[1] = res.ede.code & 0xff;
      data.set(text, 2);
      out.push({ code: EdnsOption.EDE, data });
    }
    // RFC 7873 §5.2: the client cookie and our server cookie. Always the last option: a cached answer's final
    // COOKIE_REPLY octets are overwritten with the next requester's (see handle()).
    if (cookie !== undefined) out.push({ code: EdnsOption.COOKIE, data: cookie });
    return out;
  }

  private formerr(dec: DecodeResult & { kind: 'formerr' }): Uint8Array {
    const msg: ResponseMessage = {
      id: dec.id,
      opcode: dec.opcode,
      flags: dec.flags & (Flag.RD | Flag.CD),
      rcode: Rcode.FORMERR,
      ...(dec.question ? { question: dec.question } : {}),
      answer: [],
      authority: [],
      additional: [],
    };
    return encodeResponse(msg, CLASSIC_UDP);
  }
}

/** An encoded answer and the rate-limit bucket key of its class. */
interface Answered {
  readonly bytes: Uint8Array;
  readonly rrl: number;
}

/**
 * The rate-limit class of a resolved answer (the ISC RRL classes): answers per QNAME/QTYPE, NXDOMAIN and NODATA per
 * zone (a random-subdomain flood shares one bucket), referrals per delegation point.
 */
function rrlKeyOf(r: Resolution, q: Query): number {
  switch (r.kind) {
    case 'nxdomain':
    case 'nodata':
      return rrlClassKey(RrlClass.Negative, r.zone.origin.key, 0);
    case 'referral':
      return rrlClassKey(RrlClass.Referral, r.cut.name.key, 0);
    case 'answer':
    case 'external':
    case 'loop':
    case 'yxdomain':
      return rrlClassKey(RrlClass.Answer, q.question.name.key, q.question.type);
    default: {
      const never: never = r;
      return never;
    }
  }
}

/** The last address text parsed, and its octets (node:dgram and TCP clients give text only). */
let lastText = '';
let lastOctets: Uint8Array = new Uint8Array(4);

/**
 * The 4 or 16 octets of the client's address (RFC 9018 §4.4 hashes them into the server cookie; rate limiting keys
 * buckets by their prefix). An IPv4 client seen on a dual-stack socket (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is IPv4.
 */
function clientOctets(ctx: QueryContext): Uint8Array {
  if (ctx.octets !== undefined) {
    const o = ctx.octets();
    const mapped = o.length === 16 && o[10] === 0xff && o[11] === 0xff && o.subarray(0, 10).every((b) => b === 0);
    return mapped ? o.subarray(12) : o;
  }
  const text = ctx.address;
  if (text !== lastText) {
    lastOctets = parseIp(text)?.bytes ?? new Uint8Array(4);
    lastText = text;
  }
  return lastOctets;
}

/** Copy a cached answer, then write the request's ID and question bytes (QNAME case, RFC 1035 §7.1) into it. */
function patchCached(cached: Uint8Array, request: Uint8Array, rawQuestion: Uint8Array): Uint8Array {
  // allocUnsafe: pooled and not zero-filled; every byte is written just below.
  const out = Buffer.allocUnsafe(cached.length);
  out.set(cached);
  out[0] = request[0]!;
  out[1] = request[1]!;
  out.set(rawQuestion, 12);
  return out;
}
