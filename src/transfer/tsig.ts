// TSIG (RFC 8945): signing and verifying raw DNS messages with HMAC keys, error TSIGs for NOTAUTH responses, and
// multi-message (AXFR/IXFR) stream verification.

import { hmac } from '@noble/hashes/hmac.js';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import { Rcode, RRClass, RRType } from '../wire/constants.js';
import { Name } from '../wire/name.js';
import { locateTsig } from '../wire/decode.js';
import { WireError, type TsigInfo } from '../wire/message.js';

/** RFC 8945 §6 algorithm identifiers we implement. */
export type TsigAlgorithm = 'hmac-md5' | 'hmac-sha1' | 'hmac-sha224' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';

export interface TsigKey {
  readonly name: Name;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Uint8Array;
}

type HashFn = CHash;

interface AlgInfo {
  readonly alg: TsigAlgorithm;
  readonly name: Name;
  readonly hash: HashFn;
  readonly outLen: number;
}

// RFC 8945 §6: algorithm names are domain names; HMAC-MD5 keeps its historical RFC 2845 name.
const ALGS: readonly AlgInfo[] = [
  { alg: 'hmac-md5', name: Name.parse('hmac-md5.sig-alg.reg.int.'), hash: md5, outLen: 16 },
  { alg: 'hmac-sha1', name: Name.parse('hmac-sha1.'), hash: sha1, outLen: 20 },
  { alg: 'hmac-sha224', name: Name.parse('hmac-sha224.'), hash: sha224, outLen: 28 },
  { alg: 'hmac-sha256', name: Name.parse('hmac-sha256.'), hash: sha256, outLen: 32 },
  { alg: 'hmac-sha384', name: Name.parse('hmac-sha384.'), hash: sha384, outLen: 48 },
  { alg: 'hmac-sha512', name: Name.parse('hmac-sha512.'), hash: sha512, outLen: 64 },
];
const ALG_BY_ID = new Map<TsigAlgorithm, AlgInfo>(ALGS.map((a) => [a.alg, a]));
const ALG_BY_KEY = new Map<string, AlgInfo>(ALGS.map((a) => [a.name.key, a]));

function algInfo(alg: TsigAlgorithm): AlgInfo {
  const a = ALG_BY_ID.get(alg);
  if (!a) throw new Error(`unknown TSIG algorithm ${alg}`);
  return a;
}

/** The algorithm's wire name, e.g. `hmac-sha256.` (RFC 8945 §6). */
export function tsigAlgorithmName(alg: TsigAlgorithm): Name {
  return algInfo(alg).name;
}

/** Algorithm from its domain name (case-insensitive) or from a short form like `hmac-sha256`/`HMAC-MD5`. */
export function tsigAlgorithmFromName(text: string | Name): TsigAlgorithm | undefined {
  if (typeof text !== 'string') return ALG_BY_KEY.get(text.key)?.alg;
  const t = text.toLowerCase().replace(/\.$/, '');
  for (const a of ALGS) if (a.alg === t || a.name.toString() === t + '.') return a.alg;
  return undefined;
}

/** HMAC output length in octets. */
export function tsigMacLength(alg: TsigAlgorithm): number {
  return algInfo(alg).outLen;
}

/** RFC 8945 §5.2.2.1: the shortest allowed truncated MAC, max(10, half the hash output). */
export function tsigMinMacLength(alg: TsigAlgorithm): number {
  return Math.max(10, Math.ceil(algInfo(alg).outLen / 2));
}

export type TsigErrorName = 'BADSIG' | 'BADKEY' | 'BADTIME' | 'BADTRUNC';

/** RFC 8945 §3 / IANA: TSIG error codes in the TSIG RR's Error field. */
export const TsigErrorCode: { readonly [K in TsigErrorName]: number } = {
  BADSIG: Rcode.BADSIG,
  BADKEY: Rcode.BADKEY,
  BADTIME: Rcode.BADTIME,
  BADTRUNC: Rcode.BADTRUNC,
};

function errorName(code: number): TsigErrorName | undefined {
  switch (code) {
    case Rcode.BADSIG:
      return 'BADSIG';
    case Rcode.BADKEY:
      return 'BADKEY';
    case Rcode.BADTIME:
      return 'BADTIME';
    case Rcode.BADTRUNC:
      return 'BADTRUNC';
    default:
      return undefined;
  }
}

/** The fields of a received TSIG RR (RFC 8945 §4.2). */
export interface TsigRecord {
  readonly keyName: Name;
  readonly algorithmName: Name;
  readonly time: number;
  readonly fudge: number;
  readonly mac: Uint8Array;
  readonly originalId: number;
  readonly error: number;
  readonly otherData: Uint8Array;
  /** Offset of the TSIG RR in the message (= length of the message without it). */
  readonly offset: number;
}

export interface SignOptions {
  /** Time Signed, seconds since the epoch; default now. */
  readonly time?: number;
  /** RFC 8945 §10: 300 s recommended. */
  readonly fudge?: number;
  /** For a response: the MAC of the request (as received, possibly truncated) (RFC 8945 §5.3). */
  readonly requestMac?: Uint8Array;
  /** Multi-message responses (RFC 8945 §5.3.1): the MAC of the previous signed message; implies timersOnly. */
  readonly previousMac?: Uint8Array;
  /** Unsigned messages sent since the previous signed one (RFC 8945 §5.3.1 "DNS Messages"). */
  readonly unsignedMessages?: readonly Uint8Array[];
  /** Digest only Time Signed and Fudge instead of all TSIG variables (RFC 8945 §5.3.1). */
  readonly timersOnly?: boolean;
  readonly error?: number;
  readonly otherData?: Uint8Array;
  /** Truncate the MAC to this many octets (RFC 8945 §5.2.2.1, allowed from tsigMinMacLength). */
  readonly macLength?: number;
}

export interface SignResult {
  /** The message with the TSIG RR appended and ARCOUNT incremented. */
  readonly message: Uint8Array;
  /** The (possibly truncated) MAC placed in the TSIG RR. */
  readonly mac: Uint8Array;
}

export interface VerifyOptions {
  /** Current time in seconds; default now. */
  readonly now?: number;
  /** Verifying a response: the MAC of our request (RFC 8945 §5.3). */
  readonly requestMac?: Uint8Array;
  /** Verifying a later message of a multi-message response: the previous MAC (RFC 8945 §5.3.1). */
  readonly previousMac?: Uint8Array;
  /** Unsigned messages received since the previous signed one (RFC 8945 §5.3.1). */
  readonly unsignedMessages?: readonly Uint8Array[];
  /** Digest only the timers (implied by previousMac). */
  readonly timersOnly?: boolean;
  /** Local policy (RFC 8945 §5.2.4): shortest truncated MAC accepted; shorter but RFC-valid MACs give BADTRUNC. */
  readonly minMacLength?: number;
}

export interface VerifyOk {
  readonly ok: true;
  readonly key: TsigKey;
  readonly mac: Uint8Array;
  readonly time: number;
  readonly fudge: number;
  readonly originalId: number;
  /** The TSIG Error field (non-zero in a signed BADTIME/BADTRUNC error response). */
  readonly tsigError: number;
  readonly otherData: Uint8Array;
  /** The message without its TSIG RR, ARCOUNT decremented (ID as received). */
  readonly message: Uint8Array;
}

export type VerifyErrorName = TsigErrorName | 'FORMERR' | 'UNSIGNED';

export interface VerifyFail {
  readonly ok: false;
  /** UNSIGNED: the message has no TSIG RR at all (not an error for an optional-TSIG request). */
  readonly error: VerifyErrorName;
  readonly detail: string;
  /** The parsed TSIG RR when there was one, for building the error response. */
  readonly tsig?: TsigRecord;
  readonly keyName?: Name;
  readonly mac?: Uint8Array;
  readonly time?: number;
  /** The key, when the failure happened after the key was found (BADSIG/BADTIME/BADTRUNC). */
  readonly key?: TsigKey;
  /** True when the error came from the peer: an unsigned error TSIG (MAC size 0, Error set; RFC 8945 §5.3.2). */
  readonly peerError?: boolean;
}

export type VerifyResult = VerifyOk | VerifyFail;

/** Thrown by findTsig when a message is not a parseable DNS message or its TSIG RR is misplaced/malformed. */
export class TsigFormatError extends Error {
  override readonly name = 'TsigFormatError';
}
/** Copy bytes; Buffer#slice would return a view, and we must never write into the caller's buffer. */
function copyBytes(buf: Uint8Array, start?: number, end?: number): Uint8Array {
  return Uint8Array.prototype.slice.call(buf, start, end);
}

/**
 * Find the TSIG RR: it must be the last record of the additional section and the only TSIG (RFC 8945 §5.1, else
 * FORMERR); located by the wire layer's reader (src/wire/decode.ts locateTsig). Returns undefined when there is none.
 */
export function findTsig(msg: Uint8Array): TsigRecord | undefined {
  let t: TsigInfo | undefined;
  try {
    t = locateTsig(msg);
  } catch (e) {
    if (e instanceof WireError) throw new TsigFormatError(e.message);
    throw e;
  }
  if (t === undefined) return undefined;
  // RFC 8945 §4.2: CLASS ANY.
  if (t.class !== RRClass.ANY) throw new TsigFormatError('TSIG class is not ANY');
  return { keyName: t.name, algorithmName: t.algorithm, time: t.timeSigned, fudge: t.fudge, mac: t.mac, originalId: t.originalId, error: t.error, otherData: t.otherData, offset: t.offset };
}

function u16be(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

function u48be(n: number): Uint8Array {
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  return Uint8Array.of((hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
}

function keyBytes(name: Name): Uint8Array {
  // Canonical (lowercase, uncompressed) wire form = the name's key string (RFC 8945 §4.3.3).
  const k = name.key;
  const out = new Uint8Array(k.length);
  for (let i = 0; i < k.length; i++) out[i] = k.charCodeAt(i);
  return out;
}

interface DigestInput {
  readonly prefixMac?: Uint8Array;
  readonly unsigned?: readonly Uint8Array[];
  /** Message bytes without TSIG; header patched with `id` and `arcount`. */
  readonly body: Uint8Array;
  readonly bodyLen: number;
  readonly id: number;
  readonly arcount: number;
  readonly timersOnly: boolean;
  readonly keyName: Name;
  readonly alg: AlgInfo;
  readonly time: number;
  readonly fudge: number;
  readonly error: number;
  readonly otherData: Uint8Array;
}

/** Compute the full MAC over the RFC 8945 §4.3 digest components. */
function computeMac(secret: Uint8Array, d: DigestInput): Uint8Array {
  const h = hmac.create(d.alg.hash, secret);
  // RFC 8945 §4.3.1/§5.3.1: Request MAC or prior MAC, each as MAC Size + MAC.
  if (d.prefixMac) {
    h.update(u16be(d.prefixMac.length));
    h.update(d.prefixMac);
  }
  // RFC 8945 §5.3.1: unsigned messages since the last signed one.
  if (d.unsigned) for (const m of d.unsigned) h.update(m);
  // RFC 8945 §4.3.2: the message before the TSIG was added, with the original ID.
  const head = copyBytes(d.body, 0, 12);
  head[0] = d.id >>> 8;
  head[1] = d.id & 0xff;
  head[10] = d.arcount >>> 8;
  head[11] = d.arcount & 0xff;
  h.update(head);
  h.update(d.body.subarray(12, d.bodyLen));
  if (d.timersOnly) {
    // RFC 8945 §4.3.3 / §5.3.1: TSIG timers only.
    h.update(u48be(d.time));
    h.update(u16be(d.fudge));
  } else {
    // RFC 8945 §4.3.3: TSIG variables.
    h.update(keyBytes(d.keyName));
    h.update(u16be(RRClass.ANY));
    h.update(Uint8Array.of(0, 0, 0, 0));
    h.update(keyBytes(d.alg.name));
    h.update(u48be(d.time));
    h.update(u16be(d.fudge));
    h.update(u16be(d.error));
    h.update(u16be(d.otherData.length));
    h.update(d.otherData);
  }
  return h.digest();
}

/** Build TSIG RR bytes (RFC 8945 §4.2): owner = key name, class ANY, TTL 0, uncompressed names. */
function buildTsigRR(keyName: Name, alg: AlgInfo, time: number, fudge: number, mac: Uint8Array, originalId: number, error: number, other: Uint8Array): Uint8Array {
  const owner = keyName.toWire();
  const algName = alg.name.toWire();
  const rdlen = algName.length + 10 + mac.length + 6 + other.length;
  const out = new Uint8Array(owner.length + 10 + rdlen);
  let p = 0;
  out.set(owner, p);
  p += owner.length;
  out.set(u16be(RRType.TSIG), p);
  out.set(u16be(RRClass.ANY), p + 2);
  // TTL 0 at p+4..p+7
  out.set(u16be(rdlen), p + 8);
  p += 10;
  out.set(algName, p);
  p += algName.length;
  out.set(u48be(time), p);
  out.set(u16be(fudge), p + 6);
  out.set(u16be(mac.length), p + 8);
  p += 10;
  out.set(mac, p);
  p += mac.length;
  out.set(u16be(originalId), p);
  out.set(u16be(error), p + 2);
  out.set(u16be(other.length), p + 4);
  out.set(other, p + 6);
  return out;
}

function appendRR(msg: Uint8Array, rr: Uint8Array): Uint8Array {
  const out = new Uint8Array(msg.length + rr.length);
  out.set(msg, 0);
  out.set(rr, msg.length);
  const ar = ((out[10]! << 8) | out[11]!) + 1;
  out[10] = (ar >>> 8) & 0xff;
  out[11] = ar & 0xff;
  return out;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Sign a message: append a TSIG RR (RFC 8945 §4) and increment ARCOUNT. */
export function signMessage(msg: Uint8Array, key: TsigKey, opts: SignOptions = {}): SignResult {
  if (msg.length < 12) throw new Error('message shorter than a DNS header');
  const alg = algInfo(key.algorithm);
  const time = opts.time ?? nowSeconds();
  const fudge = opts.fudge ?? 300;
  const error = opts.error ?? 0;
  const other = opts.otherData ?? new Uint8Array(0);
  const id = (msg[0]! << 8) | msg[1]!;
  const arcount = (msg[10]! << 8) | msg[11]!;
  const timersOnly = opts.timersOnly ?? opts.previousMac !== undefined;
  const prefixMac = opts.previousMac ?? opts.requestMac;
  const full = computeMac(key.secret, {
    ...(prefixMac ? { prefixMac } : {}),
    ...(opts.unsignedMessages ? { unsigned: opts.unsignedMessages } : {}),
    body: msg, bodyLen: msg.length, id, arcount, timersOnly, keyName: key.name, alg, time, fudge, error, otherData: other,
  });
  let mac = full;
  if (opts.macLength !== undefined) {
    // RFC 8945 §5.2.2.1: truncation keeps the leading octets, never below max(10, L/2).
    if (opts.macLength > full.length || opts.macLength < tsigMinMacLength(key.algorithm)) {
      throw new RangeError(`MAC length ${opts.macLength} not allowed for ${key.algorithm}`);
    }
    mac = full.slice(0, opts.macLength);
  }
  const rr = buildTsigRR(key.name, alg, time, fudge, mac, id, error, other);
  return { message: appendRR(msg, rr), mac };
}

/** Constant-time comparison of equal-length byte arrays. */
function ctEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

function fail(error: VerifyErrorName, detail: string, tsig?: TsigRecord, key?: TsigKey, peerError?: boolean): VerifyFail {
  if (!tsig) return { ok: false, error, detail };
  return {
    ok: false, error, detail, tsig, keyName: tsig.keyName, mac: tsig.mac, time: tsig.time,
    ...(key ? { key } : {}), ...(peerError ? { peerError } : {}),
  };
}

/**
 * Verify the TSIG of a message (RFC 8945 §5.2 for requests, §5.3/§5.4 for responses). Checks in RFC order: key
 * and algorithm (BADKEY), MAC size (FORMERR), MAC (BADSIG), time (BADTIME), local truncation policy (BADTRUNC).
 */
export function verifyMessage(msg: Uint8Array, keys: (name: Name) => TsigKey | undefined, opts: VerifyOptions = {}): VerifyResult {
  let tsig: TsigRecord | undefined;
  try {
    tsig = findTsig(msg);
  } catch (e) {
    return fail('FORMERR', e instanceof Error ? e.message : String(e));
  }
  if (!tsig) return fail('UNSIGNED', 'no TSIG record');
  // RFC 8945 §5.2.1: unknown key, or a key with another algorithm → BADKEY.
  const key = keys(tsig.keyName);
  const alg = ALG_BY_KEY.get(tsig.algorithmName.key);
  if (!key || !alg || key.algorithm !== alg.alg || !key.name.equals(tsig.keyName)) {
    return fail('BADKEY', `unknown key ${tsig.keyName.toString()} / algorithm ${tsig.algorithmName.toString()}`, tsig);
  }
  const macSize = tsig.mac.length;
  // RFC 8945 §5.3.2: an unsigned error reply from the peer (MAC size 0, Error set).
  if (macSize === 0 && tsig.error !== 0) {
    return fail(errorName(tsig.error) ?? 'BADSIG', `peer reported TSIG error ${tsig.error}`, tsig, key, true);
  }
  // RFC 8945 §5.2.2.1: MAC longer than the hash, or shorter than max(10, L/2) → FORMERR.
  if (macSize > alg.outLen) return fail('FORMERR', `MAC size ${macSize} above ${alg.outLen}`, tsig, key);
  if (macSize < tsigMinMacLength(alg.alg)) return fail('FORMERR', `MAC size ${macSize} below the minimum`, tsig, key);
  const timersOnly = opts.timersOnly ?? opts.previousMac !== undefined;
  const prefixMac = opts.previousMac ?? opts.requestMac;
  const arcount = ((msg[10]! << 8) | msg[11]!) - 1;
  const full = computeMac(key.secret, {
    ...(prefixMac ? { prefixMac } : {}),
    ...(opts.unsignedMessages ? { unsigned: opts.unsignedMessages } : {}),
    body: msg, bodyLen: tsig.offset, id: tsig.originalId, arcount, timersOnly, keyName: tsig.keyName, alg,
    time: tsig.time, fudge: tsig.fudge, error: tsig.error, otherData: tsig.otherData,
  });
  // RFC 8945 §5.2.2: compare (the truncated prefix of) the computed MAC in constant time → BADSIG.
  if (!ctEqual(full.subarray(0, macSize), tsig.mac)) return fail('BADSIG', 'MAC does not match', tsig, key);
  // RFC 8945 §5.2.3: the local time must lie within Time Signed ± Fudge → BADTIME.
  const now = opts.now ?? nowSeconds();
  if (Math.abs(now - tsig.time) > tsig.fudge) {
    return fail('BADTIME', `time signed ${tsig.time} is ${now - tsig.time}s away from now (fudge ${tsig.fudge})`, tsig, key);
  }
  // RFC 8945 §5.2.4: a truncated MAC shorter than local policy allows → BADTRUNC.
  if (macSize < alg.outLen && opts.minMacLength !== undefined && macSize < opts.minMacLength) {
    return fail('BADTRUNC', `truncated MAC of ${macSize} octets below local minimum ${opts.minMacLength}`, tsig, key);
  }
  const stripped = copyBytes(msg, 0, tsig.offset);
  stripped[10] = (arcount >>> 8) & 0xff;
  stripped[11] = arcount & 0xff;
  return {
    ok: true, key, mac: tsig.mac, time: tsig.time, fudge: tsig.fudge, originalId: tsig.originalId, tsigError: tsig.error,
    otherData: tsig.otherData, message: stripped,
  };
}

export interface ErrorResponseOptions {
  readonly now?: number;
  readonly fudge?: number;
}

export interface ErrorResponse {
  /** The response with RCODE set and (unless FORMERR) the TSIG RR appended. */
  readonly message: Uint8Array;
  /** The TSIG RR bytes appended (empty for FORMERR). */
  readonly rr: Uint8Array;
}

/**
 * Turn a response (header + question, built by the caller) into the RFC 8945 §5.2 error reply for a failed
 * verification: RCODE NOTAUTH plus a TSIG RR whose Error field says why. BADKEY/BADSIG get an unsigned TSIG
 * (MAC size 0, §5.3.2); BADTIME/BADTRUNC are signed with the request's key over the request MAC, and BADTIME
 * carries the request's Time Signed and the server time in Other Data (§5.2.3). FORMERR gets RCODE FORMERR and
 * no TSIG (§5.1). The response's ID should be the request's ID.
 */
export function tsigErrorResponse(response: Uint8Array, failure: VerifyFail, opts: ErrorResponseOptions = {}): ErrorResponse {
  if (response.length < 12) throw new Error('response shorter than a DNS header');
  if (failure.error === 'UNSIGNED') throw new Error('no TSIG error for an unsigned request');
  const setRcode = (rc: number): Uint8Array => {
    const out = copyBytes(response);
    out[3] = (out[3]! & 0xf0) | rc;
    return out;
  };
  const tsig = failure.tsig;
  if (failure.error === 'FORMERR' || !tsig) {
    return { message: setRcode(Rcode.FORMERR), rr: new Uint8Array(0) };
  }
  const now = opts.now ?? nowSeconds();
  const fudge = opts.fudge ?? 300;
  const body = setRcode(Rcode.NOTAUTH);
  const code = TsigErrorCode[failure.error];
  const alg = ALG_BY_KEY.get(tsig.algorithmName.key);
  const key = failure.key;
  if (failure.error === 'BADKEY' || failure.error === 'BADSIG' || !key || !alg) {
    // RFC 8945 §5.3.2: key/MAC errors get an unsigned TSIG (MAC size 0), echoing the request's key and algorithm.
    const algForRR: AlgInfo = alg ?? { alg: 'hmac-sha256', name: tsig.algorithmName, hash: sha256, outLen: 0 };
    const rr = buildTsigRR(tsig.keyName, algForRR, now, fudge, new Uint8Array(0), tsig.originalId, code, new Uint8Array(0));
    return { message: appendRR(body, rr), rr };
  }
  // RFC 8945 §5.2.3: BADTIME keeps the request's Time Signed and puts the server's time (48 bits) in Other Data.
  const isBadTime = failure.error === 'BADTIME';
  const signed = signMessage(body, key, {
    time: isBadTime ? tsig.time : now,
    fudge,
    requestMac: tsig.mac,
    error: code,
    ...(isBadTime ? { otherData: u48be(now) } : {}),
  });
  return { message: signed.message, rr: signed.message.subarray(body.length) };
}

/**
 * Build a key from configuration text: name (domain), algorithm (short or domain form), base64 secret.
 * Throws an Error naming the bad field.
 */
export function tsigKeyFromConfig(cfg: { readonly name: string; readonly algorithm: string; readonly secret: string }): TsigKey {
  const alg = tsigAlgorithmFromName(cfg.algorithm);
  if (!alg) throw new Error(`unsupported TSIG algorithm "${cfg.algorithm}"`);
  const b64 = cfg.secret.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new Error(`TSIG secret of ${cfg.name} is not base64`);
  const secret = new Uint8Array(Buffer.from(b64, 'base64'));
  if (secret.length === 0) throw new Error(`TSIG secret of ${cfg.name} is empty`);
  return Object.freeze({ name: Name.parse(cfg.name.endsWith('.') ? cfg.name : cfg.name + '.'), algorithm: alg, secret });
}

/**
 * Server side of a multi-message response (AXFR/IXFR out, RFC 8945 §5.3.1): the first message is signed over the
 * request MAC with all TSIG variables, every later one over the previous MAC with the timers only. Signs every
 * message (the RFC allows gaps; peers such as BIND also sign each one).
 */
export class TsigResponseSigner {
  private prev: Uint8Array;
  private first = true;

  constructor(
    private readonly key: TsigKey,
    requestMac: Uint8Array,
    private readonly opts: { readonly now?: () => number; readonly fudge?: number } = {},
  ) {
    this.prev = requestMac;
  }

  /** Sign the next message of the stream; returns it with the TSIG RR appended. */
  sign(msg: Uint8Array): Uint8Array {
    const base = {
      ...(this.opts.now ? { time: this.opts.now() } : {}),
      ...(this.opts.fudge !== undefined ? { fudge: this.opts.fudge } : {}),
    };
    const r = this.first ? signMessage(msg, this.key, { ...base, requestMac: this.prev }) : signMessage(msg, this.key, { ...base, previousMac: this.prev });
    this.first = false;
    this.prev = r.mac;
    return r.message;
  }
}

export type StreamResult =
  | { readonly ok: true; readonly signed: boolean; readonly message: Uint8Array; readonly tsigError: number }
  | VerifyFail;

/**
 * Client-side verifier for a multi-message response (AXFR/IXFR over TCP, RFC 8945 §5.3.1): the first message is
 * verified with the request MAC and full TSIG variables, later signed messages with the prior MAC and timers
 * only, covering any unsigned messages in between. At most 99 unsigned messages may come in a row; the first
 * and the last message must be signed (check with `finish()`).
 */
export class TsigStream {
  private prevMac: Uint8Array;
  private first = true;
  private pending: Uint8Array[] = [];
  private failed = false;

  constructor(
    private readonly key: TsigKey,
    requestMac: Uint8Array,
    private readonly opts: { readonly now?: () => number; readonly maxUnsigned?: number; readonly minMacLength?: number } = {},
  ) {
    this.prevMac = requestMac;
  }

  /** Verify the next message. After a failure the stream stays failed. */
  push(msg: Uint8Array): StreamResult {
    if (this.failed) return fail('BADSIG', 'stream already failed');
    const lookup = (n: Name): TsigKey | undefined => (n.equals(this.key.name) ? this.key : undefined);
    const base = {
      ...(this.opts.now ? { now: this.opts.now() } : {}),
      ...(this.opts.minMacLength !== undefined ? { minMacLength: this.opts.minMacLength } : {}),
    };
    const r = this.first
      ? verifyMessage(msg, lookup, { ...base, requestMac: this.prevMac })
      : verifyMessage(msg, lookup, { ...base, previousMac: this.prevMac, unsignedMessages: this.pending });
    if (r.ok) {
      this.first = false;
      this.prevMac = r.mac;
      this.pending = [];
      return { ok: true, signed: true, message: r.message, tsigError: r.tsigError };
    }
    if (r.error === 'UNSIGNED' && !this.first) {
      // RFC 8945 §5.3.1: up to 99 intermediary messages may be unsigned.
      const max = this.opts.maxUnsigned ?? 99;
      if (this.pending.length >= max) {
        this.failed = true;
        return fail('BADSIG', `more than ${max} unsigned messages in a row`);
      }
      this.pending.push(msg);
      return { ok: true, signed: false, message: msg, tsigError: 0 };
    }
    this.failed = true;
    if (r.error === 'UNSIGNED') return fail('BADSIG', 'first message of the response is not signed');
    return r;
  }

  /** True when the stream so far is valid and ends with a signed message (RFC 8945 §5.3.1). */
  finish(): boolean {
    return !this.failed && !this.first && this.pending.length === 0;
  }
}
