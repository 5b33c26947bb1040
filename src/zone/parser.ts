// BIND-style zone master-file parser (RFC 1035 §5, RFC 2308 §4 $TTL, BIND $GENERATE, RFC 3597 generic forms,
// Cloudflare `cf_tags=` comments): text → records with wire RDATA plus positioned diagnostics.

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { RRClass, RRType, classToString, typeFromString, typeToString } from '../wire/constants.js';
import { Name, NameError } from '../wire/name.js';
import { RdataError, type RdataToken } from '../wire/rdata-api.js';
import { rdataFromText } from '../wire/rdata/index.js';
import { parseRecordComment } from './cf-attrs.js';
import { Lexer, type LexComment, type LexRecord } from './lexer.js';
import type { Diagnostic, RR, RecordMeta, RecordTag, SourcePos } from './model.js';
import { AUTO_TTL_MARKER, AUTO_TTL_SECONDS, MAX_TTL, parseTtl } from './ttl.js';
import { TimeSlice } from './slice.js';
import { byteText, DEFAULT_ZONE_LIMITS } from './limits.js';

export interface ParseOptions {
  /** Zone origin; the initial $ORIGIN. */
  readonly origin: Name;
  /** $INCLUDE paths must resolve inside this directory (after realpath); else error. */
  readonly zonesDir: string;
  /** Used when no $TTL and no explicit TTL (BIND: SOA MINIMUM after warning); default 3600. */
  readonly defaultTtl?: number;
  /** Default 10. */
  readonly maxIncludeDepth?: number;
  /** Stop with an error after this many records (including $GENERATE output); default 10,000,000. */
  readonly maxRecords?: number;
  /** Refuse to read more than this many bytes of zone text (the main file and every $INCLUDE); default 512 MiB. */
  readonly maxFileSize?: number;
}

export interface ParseResult {
  readonly records: readonly RR[];
  readonly diagnostics: readonly Diagnostic[];
  /** Every file read, for change detection. */
  readonly files: readonly string[];
}

/** At most this many errors (and, separately, warnings) are reported; parsing stops at the error cap. */
export const MAX_DIAGNOSTICS = 100;
/** Largest number of records one $GENERATE may produce. */
export const MAX_GENERATE_RECORDS = 65536;

const DEFAULT_TTL = 3600;
const EMPTY_TAGS: readonly RecordTag[] = Object.freeze([]);
const PAUSE: IoRequest = Object.freeze({ op: 'pause' });

/** Requests the sync/async drivers fulfil for the generator core. */
type IoRequest =
  /** Read a file, unless it is larger than `maxBytes` (then the reply is a TooLarge error and nothing is read). */
  | { readonly op: 'read'; readonly path: string; readonly maxBytes: number }
  | { readonly op: 'realpath'; readonly path: string }
  /** A chance to let the event loop run (the async driver yields; the sync one carries on). */
  | { readonly op: 'pause' };
type IoReply = string | Error;

/** A file that would take the zone past its byte budget (limits.max-file-size); it was not read. */
class TooLarge extends Error {
  constructor(readonly size: number) {
    super(`file is ${size} bytes`);
  }
}
type Core = Generator<IoRequest, void, IoReply>;

/** Mutable state of one parse (shared by a file and everything it includes). */
interface State {
  readonly opts: ParseOptions;
  readonly zonesDirReal: string;
  readonly maxIncludeDepth: number;
  readonly maxRecords: number;
  readonly maxFileSize: number;
  /** Bytes of zone text read so far (main file and includes). */
  bytes: number;
  readonly records: RR[];
  readonly diagnostics: Diagnostic[];
  readonly files: string[];
  /** Real paths of the files being parsed (include cycle detection). */
  readonly stack: string[];
  errors: number;
  warnings: number;
  stop: boolean;
  /** $TTL value (RFC 2308 §4); stays set after an $INCLUDE returns, as in BIND. */
  dollarTtl: number | undefined;
  /** TTL of the previous record, for RFC 1035 §5.1 inheritance when there is no $TTL. */
  lastTtl: number | undefined;
  warnedInheritedTtl: boolean;
  /** Owner of the previous record (RFC 1035 §5.1 blank owner), or undefined. */
  lastOwner: Name | undefined;
  /** The previous owner failed to parse: blank-owner records are skipped silently instead of cascading. */
  ownerBroken: boolean;
  lastOwnerText: string;
  lastOwnerOrigin: Name | undefined;
}

/** Per-file context. `origin` is local: an $INCLUDE never changes the includer's origin (RFC 1035 §5.1). */
interface FileCtx {
  readonly st: State;
  readonly file: string;
  readonly depth: number;
  origin: Name;
}

function addDiag(st: State, severity: 'error' | 'warning', file: string, line: number, col: number, message: string): void {
  if (severity === 'error') {
    if (st.errors >= MAX_DIAGNOSTICS) {
      st.stop = true;
      return;
    }
    st.errors++;
    if (st.errors >= MAX_DIAGNOSTICS) st.stop = true;
  } else {
    if (st.warnings >= MAX_DIAGNOSTICS) return;
    st.warnings++;
  }
  st.diagnostics.push({ severity, pos: { file, line, col }, message });
}

function errAt(ctx: FileCtx, at: { readonly line: number; readonly col: number }, message: string): void {
  addDiag(ctx.st, 'error', ctx.file, at.line, at.col, message);
}

function warnAt(ctx: FileCtx, at: { readonly line: number; readonly col: number }, message: string): void {
  addDiag(ctx.st, 'warning', ctx.file, at.line, at.col, message);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel);
}

// RFC 6895 §3.1 / RFC 1035 §3.2.3: meta-types and QTYPEs never appear as zone data (OPT: RFC 6891 §6.1.1;
// NXNAME: RFC 9824 §3).
function isMetaType(t: number): boolean {
  return t === RRType.OPT || t === RRType.NXNAME || (t >= 249 && t <= 255);
}

/** Result of reading `[ttl] [class] type` after the owner. */
interface RrHead {
  readonly ttl: number | undefined;
  readonly ttlTok: RdataToken | undefined;
  readonly type: number;
  readonly flatten: boolean;
  /** Index of the first RDATA token. */
  readonly next: number;
}

/**
 * Read TTL and class in either order (RFC 1035 §5.1: `[<TTL>] [<class>]` or `[<class>] [<TTL>]`), then the type
 * (mnemonic, RFC 3597 §5 TYPEnnn, or ALIAS/ANAME). Reports and returns undefined on error.
 */
function readHead(ctx: FileCtx, rec: LexRecord, toks: readonly RdataToken[], start: number): RrHead | undefined {
  let k = start;
  let ttl: number | undefined;
  let ttlTok: RdataToken | undefined;
  let cls: number | undefined;
  for (let n = 0; n < 2 && k < toks.length; n++) {
    const t = toks[k]!;
    if (t.quoted) break;
    if (cls === undefined) {
      const c = classOf(t.text);
      if (c !== undefined) {
        cls = c;
        // Zone data is class IN only; RFC 3597 §5 CLASS1 is the same class.
        if (c !== RRClass.IN) {
          errAt(ctx, t, `class ${classToString(c)} is not supported: zone data must be class IN`);
          return undefined;
        }
        k++;
        continue;
      }
    }
    if (ttl === undefined) {
      const v = parseTtl(t.text);
      if (v !== undefined) {
        ttl = v;
        ttlTok = t;
        k++;
        continue;
      }
    }
    break;
  }
  const tt = toks[k];
  if (tt === undefined) {
    errAt(ctx, { line: rec.endLine, col: rec.endCol }, 'missing record type');
    return undefined;
  }
  const up = tt.quoted ? '' : tt.text.toUpperCase();
  let type: number | undefined;
  let flatten = false;
  if (up === 'ALIAS' || up === 'ANAME') {
    // Not real types: stored as a CNAME marked for flattening.
    type = RRType.CNAME;
    flatten = true;
  } else {
    type = up === '' ? undefined : typeFromString(up);
  }
  if (type === undefined) {
    const c = tt.text.charCodeAt(0);
    if (!tt.quoted && c >= 0x30 && c <= 0x39 && ttl === undefined) errAt(ctx, tt, `bad TTL "${tt.text}"`);
    else errAt(ctx, tt, `unknown RR type "${tt.text}"`);
    return undefined;
  }
  if (isMetaType(type)) {
    errAt(ctx, tt, `${typeToString(type)} is a meta type and cannot appear in zone data`);
    return undefined;
  }
  return { ttl, ttlTok, type, flatten, next: k + 1 };
}

function classOf(text: string): number | undefined {
  const c0 = text.charCodeAt(0) | 0x20;
  // Quick reject: class mnemonics start with c, h or i.
  if (c0 !== 0x63 && c0 !== 0x68 && c0 !== 0x69) return undefined;
  const up = text.toUpperCase();
  if (up === 'IN') return RRClass.IN;
  if (up === 'CH') return RRClass.CH;
  if (up === 'HS') return RRClass.HS;
  if (up === 'CS') return RRClass.CS;
  const m = /^CLASS(\d{1,5})$/.exec(up);
  if (m) {
    const v = Number(m[1]);
    if (v <= 0xffff) return v;
  }
  return undefined;
}

/** Clamp a TTL above RFC 2181 §8's 2^31-1 to 0 with a warning, as BIND does. */
function checkTtl(ctx: FileCtx, v: number, at: { readonly line: number; readonly col: number }): number {
  if (v > MAX_TTL) {
    warnAt(ctx, at, `TTL ${v} is above ${MAX_TTL}; using 0 (RFC 2181 §8)`);
    return 0;
  }
  return v;
}

/** Build the record's meta from its comments (Cloudflare cf_tags) and the ALIAS/ANAME flag. */
function buildMeta(ctx: FileCtx, comments: readonly LexComment[], flattenType: boolean, pos: SourcePos): RecordMeta {
  if (comments.length === 0) return { tags: EMPTY_TAGS, proxied: false, flatten: flattenType, pos };
  let comment: string | undefined;
  let tags: RecordTag[] | undefined;
  let proxied = false;
  let flatten = flattenType;
  for (const c of comments) {
    const r = parseRecordComment(fromByteString(c.text));
    for (const e of r.errors) errAt(ctx, c, e);
    if (r.comment !== undefined) comment = comment === undefined ? r.comment : `${comment} ${r.comment}`;
    if (r.tags.length > 0) (tags ??= []).push(...r.tags);
    if (r.proxiedExplicit) proxied = r.proxied;
    if (r.flatten) flatten = true;
  }
  const meta = { tags: tags ?? EMPTY_TAGS, proxied, flatten, pos };
  return comment === undefined ? meta : { comment, ...meta };
}

/** Resolve the TTL of a record without an explicit one. */
function defaultTtlFor(ctx: FileCtx, type: number, rdata: Uint8Array, at: SourcePos): number {
  const st = ctx.st;
  if (st.dollarTtl !== undefined) return st.dollarTtl;
  if (st.lastTtl !== undefined) {
    // RFC 1035 §5.1: an omitted TTL is the last explicitly stated one (BIND: "RFC1035 TTL semantics").
    if (!st.warnedInheritedTtl) {
      st.warnedInheritedTtl = true;
      warnAt(ctx, at, 'no $TTL: using the TTL of the previous record (RFC 1035 §5.1)');
    }
    return st.lastTtl;
  }
  if (type === RRType.SOA && rdata.length >= 4) {
    // BIND: without $TTL the SOA takes its MINIMUM field (RFC 1035 §3.3.13, the last 32 bits of the RDATA).
    const p = rdata.length - 4;
    const min = ((rdata[p]! << 24) | (rdata[p + 1]! << 16) | (rdata[p + 2]! << 8) | rdata[p + 3]!) >>> 0;
    warnAt(ctx, at, `no TTL specified: using the SOA MINIMUM ${min}`);
    return checkTtl(ctx, min, at);
  }
  const d = st.opts.defaultTtl ?? DEFAULT_TTL;
  warnAt(ctx, at, `no TTL specified: using the default ${d}`);
  return d;
}

/** Encode RDATA and append one record. Returns false when it failed (already reported). */
function emitRecord(
  ctx: FileCtx,
  owner: Name,
  head: RrHead,
  rdataToks: readonly RdataToken[],
  endPos: { readonly line: number; readonly col: number },
  typeTok: RdataToken,
  comments: readonly LexComment[],
  pos: SourcePos,
): boolean {
  const st = ctx.st;
  let rdata: Uint8Array;
  try {
    rdata = rdataFromText(head.type, rdataToks, ctx.origin);
  } catch (e) {
    if (e instanceof RdataError) {
      const i = e.tokenIndex;
      const at = i >= 0 && i < rdataToks.length ? rdataToks[i]! : i >= rdataToks.length ? endPos : (rdataToks[0] ?? typeTok);
      errAt(ctx, at, `${typeToString(head.type)}: ${e.message}`);
    } else {
      errAt(ctx, rdataToks[0] ?? typeTok, `${typeToString(head.type)}: ${errorText(e)}`);
    }
    return false;
  }
  let ttl: number;
  if (head.ttl !== undefined) {
    ttl = checkTtl(ctx, head.ttl, head.ttlTok ?? pos);
    st.lastTtl = ttl;
  } else {
    ttl = defaultTtlFor(ctx, head.type, rdata, pos);
    if (st.lastTtl === undefined && st.dollarTtl === undefined) st.lastTtl = ttl;
  }
  // Seed: TTL 1 means "Auto", i.e. 300 seconds.
  if (ttl === AUTO_TTL_MARKER) ttl = AUTO_TTL_SECONDS;
  if (st.records.length >= st.maxRecords) {
    errAt(ctx, pos, `zone has more than ${st.maxRecords} records (limits.max-records)`);
    st.stop = true;
    return false;
  }
  st.records.push({ owner, type: head.type, class: RRClass.IN, ttl, rdata, meta: buildMeta(ctx, comments, head.flatten, pos) });
  return true;
}

/** Parse a name token relative to the current origin; reports and returns undefined on error. */
function parseNameTok(ctx: FileCtx, t: RdataToken, what: string): Name | undefined {
  if (t.quoted) {
    errAt(ctx, t, `${what} must not be quoted`);
    return undefined;
  }
  try {
    return Name.parse(t.text, ctx.origin);
  } catch (e) {
    errAt(ctx, t, `bad ${what} "${t.text}": ${e instanceof NameError ? e.message : errorText(e)}`);
    return undefined;
  }
}

function processRecord(ctx: FileCtx, rec: LexRecord): void {
  const st = ctx.st;
  const toks = rec.tokens;
  const first = toks[0]!;
  let owner: Name | undefined;
  let k: number;
  if (rec.blankOwner) {
    // RFC 1035 §5.1: a blank owner field means the previous owner.
    if (st.lastOwner === undefined) {
      if (!st.ownerBroken) errAt(ctx, first, 'no previous owner name for a line starting with a blank');
      return;
    }
    owner = st.lastOwner;
    k = 0;
  } else {
    k = 1;
    if (!first.quoted && first.text === st.lastOwnerText && st.lastOwnerOrigin === ctx.origin && st.lastOwner !== undefined) {
      owner = st.lastOwner; // same spelling, same origin: reuse the parsed name
    } else {
      owner = parseNameTok(ctx, first, 'owner name');
      if (owner === undefined) {
        st.lastOwner = undefined;
        st.ownerBroken = true;
        st.lastOwnerText = '';
        return;
      }
      st.lastOwner = owner;
      st.ownerBroken = false;
      st.lastOwnerText = first.text;
      st.lastOwnerOrigin = ctx.origin;
    }
  }
  const head = readHead(ctx, rec, toks, k);
  if (head === undefined) return;
  const typeTok = toks[head.next - 1]!;
  emitRecord(ctx, owner, head, toks.slice(head.next), { line: rec.endLine, col: rec.endCol }, typeTok, rec.comments, {
    file: ctx.file,
    line: first.line,
    col: first.col,
  });
}

/** Report tokens after the last expected one. Returns true when there were none. */
function noExtra(ctx: FileCtx, toks: readonly RdataToken[], from: number): boolean {
  const t = toks[from];
  if (t === undefined) return true;
  errAt(ctx, t, `extra text "${t.text}"`);
  return false;
}

function* processDirective(ctx: FileCtx, rec: LexRecord): Core {
  const st = ctx.st;
  const toks = rec.tokens;
  const d = toks[0]!;
  const name = d.text.toUpperCase();
  const arg = toks[1];
  const end = { line: rec.endLine, col: rec.endCol };
  switch (name) {
    case '$ORIGIN': {
      // RFC 1035 §5.1: `$ORIGIN <domain-name>`; a relative name is completed with the current origin.
      if (arg === undefined) return errAt(ctx, end, '$ORIGIN needs a domain name');
      const o = parseNameTok(ctx, arg, '$ORIGIN name');
      if (o === undefined || !noExtra(ctx, toks, 2)) return;
      ctx.origin = o;
      return;
    }
    case '$TTL': {
      // RFC 2308 §4: `$TTL <TTL>` sets the default TTL of records without one.
      if (arg === undefined) return errAt(ctx, end, '$TTL needs a TTL value');
      const v = arg.quoted ? undefined : parseTtl(arg.text);
      if (v === undefined) return errAt(ctx, arg, `bad TTL "${arg.text}"`);
      if (!noExtra(ctx, toks, 2)) return;
      st.dollarTtl = checkTtl(ctx, v, arg);
      return;
    }
    case '$INCLUDE':
      yield* processInclude(ctx, rec);
      return;
    case '$GENERATE':
      processGenerate(ctx, rec);
      return;
    default:
      errAt(ctx, d, `unknown directive "${d.text}"`);
  }
}

function* processInclude(ctx: FileCtx, rec: LexRecord): Core {
  const st = ctx.st;
  const toks = rec.tokens;
  // RFC 1035 §5.1: `$INCLUDE <file-name> [<domain-name>]`.
  const fileTok = toks[1];
  if (fileTok === undefined) return errAt(ctx, { line: rec.endLine, col: rec.endCol }, '$INCLUDE needs a file name');
  let origin = ctx.origin;
  const originTok = toks[2];
  if (originTok !== undefined) {
    const o = parseNameTok(ctx, originTok, '$INCLUDE origin');
    if (o === undefined) return;
    origin = o;
  }
  if (!noExtra(ctx, toks, 3)) return;
  if (fileTok.text.length === 0 || fileTok.text.includes('\0')) return errAt(ctx, fileTok, 'bad $INCLUDE file name');
  if (ctx.depth + 1 > st.maxIncludeDepth) {
    return errAt(ctx, fileTok, `$INCLUDE nested more than ${st.maxIncludeDepth} levels deep (limits.max-include-depth)`);
  }
  // Relative include paths are relative to the including file's directory.
  const lexical = path.resolve(path.dirname(path.resolve(ctx.file)), fileTok.text);
  const rp = yield { op: 'realpath', path: lexical };
  const real = typeof rp === 'string' ? rp : lexical;
  if (!isInside(st.zonesDirReal, real)) {
    return errAt(ctx, fileTok, `$INCLUDE "${fileTok.text}" resolves outside the zones directory ${st.zonesDirReal}`);
  }
  if (st.stack.includes(real)) return errAt(ctx, fileTok, `$INCLUDE cycle: "${fileTok.text}" is already being read`);
  const text = yield { op: 'read', path: real, maxBytes: st.maxFileSize - st.bytes };
  if (text instanceof TooLarge || (typeof text === 'string' && st.bytes + text.length > st.maxFileSize)) {
    // Checked before the file is read (its size on disk), and again on what was read (a file that grew).
    st.stop = true;
    const size = text instanceof TooLarge ? text.size : text.length;
    return errAt(ctx, fileTok, `$INCLUDE "${fileTok.text}" (${size} bytes) takes the zone past ${byteText(st.maxFileSize)} (limits.max-file-size)`);
  }
  if (typeof text !== 'string') return errAt(ctx, fileTok, `cannot read $INCLUDE file "${fileTok.text}": ${text.message}`);
  st.bytes += text.length;
  st.files.push(real);
  st.stack.push(real);
  // RFC 1035 §5.1: the included file starts with the given origin; ours is restored afterwards (separate ctx).
  yield* parseText(st, text, real, ctx.depth + 1, origin);
  st.stack.pop();
}

// ---- $GENERATE (BIND extension) -------------------------------------------------------------------------

type GenBase = 'd' | 'o' | 'x' | 'X' | 'n' | 'N';
interface GenSubst {
  readonly offset: number;
  readonly width: number;
  readonly base: GenBase;
}
type GenPart = string | GenSubst;

const MAX_GEN_WIDTH = 255;

/**
 * Compile a $GENERATE template (BIND: `$` is the iterator, `${offset[,width[,base]]}` modifies it, `$$` and `\$`
 * give a literal `$`; other backslash escapes are kept for the name/RDATA parser). Returns an error string on bad
 * syntax.
 */
function compileTemplate(s: string): GenPart[] | string {
  const parts: GenPart[] = [];
  let lit = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const next = s[i + 1];
      if (next === '$') {
        lit += '$';
        i++;
      } else if (next !== undefined) {
        lit += c + next;
        i++;
      } else lit += c;
      continue;
    }
    if (c !== '$') {
      lit += c;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      lit += '$';
      i++;
      continue;
    }
    if (lit.length > 0) parts.push(lit);
    lit = '';
    if (next !== '{') {
      parts.push({ offset: 0, width: 0, base: 'd' });
      continue;
    }
    const close = s.indexOf('}', i + 2);
    if (close < 0) return 'unterminated "${" modifier';
    const body = s.slice(i + 2, close);
    const m = /^([+-]?\d{1,10})(?:,(\d{1,3})(?:,([doxXnN]))?)?$/.exec(body);
    if (!m) return `bad modifier "\${${body}}": expected \${offset[,width[,base]]} with base d, o, x, X, n or N`;
    const offset = Number(m[1]);
    const width = m[2] === undefined ? 0 : Number(m[2]);
    if (Math.abs(offset) > 0x7fffffff) return `modifier offset ${m[1]} out of range`;
    if (width > MAX_GEN_WIDTH) return `modifier width ${width} is above ${MAX_GEN_WIDTH}`;
    parts.push({ offset, width, base: (m[3] ?? 'd') as GenBase });
    i = close;
  }
  if (lit.length > 0 || parts.length === 0) parts.push(lit);
  return parts;
}

const HEX_LOWER = '0123456789abcdef';
const HEX_UPPER = '0123456789ABCDEF';

/** BIND nibble form: hex digits least-significant first, dot-separated; `width` counts characters incl. dots. */
function nibbles(u: number, width: number, digits: string): string {
  let out = '';
  let w = width;
  let v = u;
  do {
    out += digits[v & 0xf];
    v = Math.floor(v / 16);
    if (w > 0) w--;
    if (w > 0 || v !== 0) {
      out += '.';
      if (w > 0) w--;
    }
  } while (v !== 0 || w > 0);
  return out;
}

function formatSubst(p: GenSubst, iter: number): string {
  const v = iter + p.offset;
  switch (p.base) {
    case 'd': {
      if (v < 0) return '-' + String(-v).padStart(p.width - 1, '0');
      return String(v).padStart(p.width, '0');
    }
    case 'o':
      return (v >>> 0).toString(8).padStart(p.width, '0');
    case 'x':
      return (v >>> 0).toString(16).padStart(p.width, '0');
    case 'X':
      return (v >>> 0).toString(16).toUpperCase().padStart(p.width, '0');
    case 'n':
      return nibbles(v >>> 0, p.width, HEX_LOWER);
    case 'N':
      return nibbles(v >>> 0, p.width, HEX_UPPER);
  }
}

function expand(parts: readonly GenPart[], iter: number): string {
  let s = '';
  for (const p of parts) s += typeof p === 'string' ? p : formatSubst(p, iter);
  return s;
}

/** `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs` (BIND ARM, "The $GENERATE Directive"). */
function processGenerate(ctx: FileCtx, rec: LexRecord): void {
  const st = ctx.st;
  const toks = rec.tokens;
  const end = { line: rec.endLine, col: rec.endCol };
  const rangeTok = toks[1];
  const lhsTok = toks[2];
  if (rangeTok === undefined || lhsTok === undefined) return errAt(ctx, end, '$GENERATE needs a range, an owner, a type and RDATA');
  const m = /^(\d{1,10})-(\d{1,10})(?:\/(\d{1,10}))?$/.exec(rangeTok.quoted ? '' : rangeTok.text);
  const start = m ? Number(m[1]) : NaN;
  const stop = m ? Number(m[2]) : NaN;
  const step = m?.[3] === undefined ? 1 : Number(m[3]);
  // BIND: start, stop and step are 0..2^31-1, start <= stop, step >= 1.
  if (!m || start > 0x7fffffff || stop > 0x7fffffff || step > 0x7fffffff || start > stop || step < 1) {
    return errAt(ctx, rangeTok, `bad $GENERATE range "${rangeTok.text}": expected start-stop[/step] with start <= stop`);
  }
  const count = Math.floor((stop - start) / step) + 1;
  if (count > MAX_GENERATE_RECORDS) {
    return errAt(ctx, rangeTok, `$GENERATE range "${rangeTok.text}" makes ${count} records, more than ${MAX_GENERATE_RECORDS}`);
  }
  if (lhsTok.quoted) return errAt(ctx, lhsTok, '$GENERATE owner must not be quoted');
  const lhs = compileTemplate(lhsTok.text);
  if (typeof lhs === 'string') return errAt(ctx, lhsTok, `$GENERATE owner: ${lhs}`);
  const head = readHead(ctx, rec, toks, 3);
  if (head === undefined) return;
  const typeTok = toks[head.next - 1]!;
  const rhsTok = toks[head.next];
  if (rhsTok === undefined) return errAt(ctx, end, '$GENERATE needs RDATA after the type');
  // BIND: the RDATA template is a single (possibly quoted) field, re-read as RDATA text after substitution.
  if (!noExtra(ctx, toks, head.next + 1)) return;
  const rhs = compileTemplate(rhsTok.text);
  if (typeof rhs === 'string') return errAt(ctx, rhsTok, `$GENERATE RDATA: ${rhs}`);
  const pos: SourcePos = { file: ctx.file, line: toks[0]!.line, col: toks[0]!.col };
  for (let it = start; it <= stop && !st.stop; it += step) {
    const ownerText = expand(lhs, it);
    let owner: Name;
    try {
      owner = Name.parse(ownerText, ctx.origin);
    } catch (e) {
      return errAt(ctx, lhsTok, `$GENERATE owner "${ownerText}": ${errorText(e)}`);
    }
    const rdataText = expand(rhs, it);
    let lexFailed: string | undefined;
    const sub = new Lexer(rdataText, (_l, _c, msg) => {
      lexFailed ??= msg;
    });
    const r = sub.next();
    if (lexFailed !== undefined) return errAt(ctx, rhsTok, `$GENERATE RDATA "${rdataText}": ${lexFailed}`);
    // Positions of re-read tokens point at the template field.
    const rdataToks: RdataToken[] = (r?.tokens ?? []).map((t) => ({ text: t.text, quoted: t.quoted, line: rhsTok.line, col: rhsTok.col }));
    if (!emitRecord(ctx, owner, head, rdataToks, end, typeTok, rec.comments, pos)) return;
  }
}

// ---- file driver ------------------------------------------------------------------------------------------

function* parseText(st: State, text: string, file: string, depth: number, origin: Name): Core {
  const ctx: FileCtx = { st, file, depth, origin };
  const body = text.startsWith('\xef\xbb\xbf') ? text.slice(3) : text; // UTF-8 byte-order mark
  const lexer = new Lexer(body, (line, col, message) => addDiag(st, 'error', file, line, col, message));
  let n = 0;
  for (let rec = lexer.next(); rec !== undefined && !st.stop; rec = lexer.next()) {
    // Large zones are parsed while the server keeps answering: offer a pause every few hundred records.
    if ((++n & 511) === 0) yield PAUSE;
    const first = rec.tokens[0]!;
    try {
      if (!rec.blankOwner && !first.quoted && first.text.charCodeAt(0) === 0x24 /* $ */) {
        yield* processDirective(ctx, rec);
      } else {
        processRecord(ctx, rec);
      }
    } catch (e) {
      // Defensive: a bug in a codec must not abort the whole parse.
      errAt(ctx, first, `internal error: ${errorText(e)}`);
    }
  }
}

function newState(opts: ParseOptions, zonesDirReal: string): State {
  return {
    opts,
    zonesDirReal,
    maxIncludeDepth: opts.maxIncludeDepth ?? DEFAULT_ZONE_LIMITS.maxIncludeDepth,
    maxRecords: opts.maxRecords ?? DEFAULT_ZONE_LIMITS.maxRecords,
    maxFileSize: opts.maxFileSize ?? DEFAULT_ZONE_LIMITS.maxFileSize,
    bytes: 0,
    records: [],
    diagnostics: [],
    files: [],
    stack: [],
    errors: 0,
    warnings: 0,
    stop: false,
    dollarTtl: undefined,
    lastTtl: undefined,
    warnedInheritedTtl: false,
    lastOwner: undefined,
    ownerBroken: false,
    lastOwnerText: '',
    lastOwnerOrigin: undefined,
  };
}

function* parseMain(st: State, text: string, fileName: string, mainReal: string): Core {
  st.files.push(fileName);
  st.stack.push(mainReal);
  if (!mainFits(st, text.length, fileName)) return;
  st.bytes = text.length;
  yield* parseText(st, text, fileName, 0, st.opts.origin);
}

/** The main file against limits.max-file-size; reports at its first line when it is too large. */
function mainFits(st: State, size: number, fileName: string): boolean {
  if (size <= st.maxFileSize) return true;
  addDiag(st, 'error', fileName, 1, 1, `zone file is ${size} bytes, more than ${byteText(st.maxFileSize)} (limits.max-file-size)`);
  st.stop = true;
  return false;
}

function result(st: State): ParseResult {
  return { records: st.records, diagnostics: st.diagnostics, files: st.files };
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * Zone text is handled as a byte string (one char per file octet, like latin1) so names and strings keep the exact
 * file octets, as BIND does: UTF-8 text in a TXT record or label stays UTF-8. Strings given by callers are Unicode
 * and are turned into their UTF-8 octets first.
 */
function toByteString(s: string): string {
  return /[^\x00-\x7f]/.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

/** Byte string → Unicode (for comments, which are free text). */
function fromByteString(s: string): string {
  return /[^\x00-\x7f]/.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

/**
 * Synchronous core; `$INCLUDE` reads files with `readFile` (default: the file's octets via `fs.readFileSync`).
 * `text` and `readFile` results are Unicode strings (UTF-8 on the wire). Never throws.
 */
export function parseZoneText(
  text: string,
  fileName: string,
  opts: ParseOptions & { readFile?: (p: string) => string },
): ParseResult {
  const st = newState(opts, realpathOr(opts.zonesDir));
  const hook = opts.readFile;
  const readFile = (p: string, maxBytes: number): string | Error => {
    if (hook !== undefined) return toByteString(hook(p));
    const size = fs.statSync(p).size;
    return size > maxBytes ? new TooLarge(size) : fs.readFileSync(p).toString('latin1');
  };
  const gen = parseMain(st, toByteString(text), fileName, realpathOr(fileName));
  let step = gen.next();
  while (!step.done) {
    const req = step.value;
    let reply: IoReply;
    try {
      reply = req.op === 'pause' ? '' : req.op === 'read' ? readFile(req.path, req.maxBytes) : fs.realpathSync(req.path);
    } catch (e) {
      reply = e instanceof Error ? e : new Error(String(e));
    }
    step = gen.next(reply);
  }
  return result(st);
}

/** Read and parse a zone file (and its includes) with fs/promises. Rejects only when the main file is unreadable. */
export async function parseZoneFile(file: string, opts: ParseOptions): Promise<ParseResult> {
  // A file above the byte cap is refused from its size, before it is read into memory.
  const maxFileSize = opts.maxFileSize ?? DEFAULT_ZONE_LIMITS.maxFileSize;
  const mainSize = (await fsp.stat(file)).size;
  if (mainSize > maxFileSize) {
    const st = newState(opts, opts.zonesDir);
    st.files.push(file);
    mainFits(st, mainSize, file);
    return result(st);
  }
  const text = (await fsp.readFile(file)).toString('latin1');
  let zonesDirReal: string;
  try {
    zonesDirReal = await fsp.realpath(opts.zonesDir);
  } catch {
    zonesDirReal = path.resolve(opts.zonesDir);
  }
  let mainReal: string;
  try {
    mainReal = await fsp.realpath(file);
  } catch {
    mainReal = path.resolve(file);
  }
  const st = newState(opts, zonesDirReal);
  const gen = parseMain(st, text, file, mainReal);
  const slice = new TimeSlice();
  let step = gen.next();
  while (!step.done) {
    const req = step.value;
    let reply: IoReply;
    try {
      if (req.op === 'pause') {
        await slice.maybeYield();
        reply = '';
      } else if (req.op === 'read') {
        const size = (await fsp.stat(req.path)).size;
        reply = size > req.maxBytes ? new TooLarge(size) : (await fsp.readFile(req.path)).toString('latin1');
      } else reply = await fsp.realpath(req.path);
    } catch (e) {
      reply = e instanceof Error ? e : new Error(String(e));
    }
    step = gen.next(reply);
  }
  return result(st);
}
