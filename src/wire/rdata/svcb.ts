// SVCB and HTTPS RDATA (RFC 9460): SvcParams presentation parsing (§2.1, App. A), wire validation (§2.2, §8),
// and printing the way BIND 9.18 does (alpn quoted, unknown and dohpath values as keyNNNNN="...").

import { RdataError } from '../rdata-api.js';
import { base64Decode, base64Encode } from './encoding.js';
import {
  type Cursor, type Reader, type Writer, charStringFromText, ipv4FromText, ipv4ToText, ipv6FromText, ipv6ToText,
  parseName, parseUint, quoteBytes,
} from './text.js';

/** SvcParamKeys (RFC 9460 §14.3.2, RFC 9461 §5 for dohpath). */
export const SvcKey = { mandatory: 0, alpn: 1, noDefaultAlpn: 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6, dohpath: 7 } as const;

const KEY_BY_NAME: ReadonlyMap<string, number> = new Map([
  ['mandatory', 0], ['alpn', 1], ['no-default-alpn', 2], ['port', 3], ['ipv4hint', 4], ['ech', 5], ['ipv6hint', 6],
  ['dohpath', 7],
]);
/** Names BIND 9.18 prints; dohpath (7) is accepted on input but printed as key7. */
const PRINT_NAME: readonly string[] = ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint'];

function keyName(k: number): string {
  return PRINT_NAME[k] ?? `key${k}`;
}

/** RFC 9460 §2.1: a registered name or `keyNNNNN` (no leading zeros, 0..65535); undefined otherwise. */
function keyFromName(s: string): number | undefined {
  const known = KEY_BY_NAME.get(s);
  if (known !== undefined) return known;
  const m = /^key(0|[1-9][0-9]{0,4})$/.exec(s);
  if (!m) return undefined;
  const v = Number(m[1]);
  return v <= 0xffff ? v : undefined;
}

/** RFC 9460 App. A.1 value-list: split on unescaped commas; `\,` and `\\` are escapes inside an item. */
function splitValueList(v: Uint8Array): Uint8Array[] {
  const items: Uint8Array[] = [];
  let cur: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (b === 0x5c && i + 1 < v.length) {
      cur.push(v[++i]!);
    } else if (b === 0x2c) {
      items.push(Uint8Array.from(cur));
      cur = [];
    } else {
      cur.push(b);
    }
  }
  items.push(Uint8Array.from(cur));
  return items;
}

function latin1Of(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

/** Wire value from presentation for one key. `c` is positioned after the token (errors point at it). */
function valueFromText(c: Cursor, key: number, generic: boolean, raw: Uint8Array | undefined): Uint8Array {
  if (generic || key > SvcKey.dohpath) return raw ?? new Uint8Array(0);
  const w: number[] = [];
  const text = raw === undefined ? undefined : latin1Of(raw);
  switch (key) {
    case SvcKey.mandatory: {
      if (text === undefined || text === '') c.fail('mandatory needs a list of keys');
      const keys: number[] = [];
      for (const item of text.split(',')) {
        const k = keyFromName(item);
        if (k === undefined) c.fail(`bad key "${item}" in mandatory`);
        // RFC 9460 §8: "mandatory" must not appear in its own list.
        if (k === SvcKey.mandatory) c.fail('mandatory lists itself');
        keys.push(k);
      }
      keys.sort((a, b) => a - b);
      for (let i = 0; i < keys.length; i++) {
        // RFC 9460 §8: keys in strictly increasing order, no duplicates.
        if (i > 0 && keys[i] === keys[i - 1]) c.fail(`duplicate key ${keyName(keys[i]!)} in mandatory`);
        w.push(keys[i]! >> 8, keys[i]! & 0xff);
      }
      return Uint8Array.from(w);
    }
    case SvcKey.alpn: {
      if (raw === undefined || raw.length === 0) c.fail('alpn needs a value');
      for (const id of splitValueList(raw)) {
        // RFC 9460 §7.1.1: alpn-ids are 1..255 octets.
        if (id.length === 0 || id.length > 255) c.fail('alpn-id must be 1..255 octets');
        w.push(id.length, ...id);
      }
      return Uint8Array.from(w);
    }
    case SvcKey.noDefaultAlpn:
      // RFC 9460 §7.1.1: no-default-alpn has an empty value.
      if (raw !== undefined && raw.length > 0) c.fail('no-default-alpn takes no value');
      return new Uint8Array(0);
    case SvcKey.port: {
      if (text === undefined || !/^[0-9]+$/.test(text) || Number(text) > 0xffff) c.fail('port needs a number 0..65535');
      return Uint8Array.of(Number(text) >> 8, Number(text) & 0xff);
    }
    case SvcKey.ipv4hint:
    case SvcKey.ipv6hint: {
      if (text === undefined || text === '') c.fail(`${keyName(key)} needs a list of addresses`);
      for (const a of text.split(',')) {
        const b = key === SvcKey.ipv4hint ? ipv4FromText(a) : ipv6FromText(a);
        if (!b) c.fail(`bad address "${a}" in ${keyName(key)}`);
        w.push(...b);
      }
      return Uint8Array.from(w);
    }
    case SvcKey.ech: {
      if (text === undefined || text === '') return new Uint8Array(0);
      const b = base64Decode(text);
      if (!b) c.fail('ech value is not valid base64');
      return b;
    }
    case SvcKey.dohpath:
      return raw ?? new Uint8Array(0);
    default:
      return raw ?? new Uint8Array(0);
  }
}

/** RFC 9460 §2.1: SvcPriority TargetName SvcParams. */
export function svcbFromText(c: Cursor, w: Writer): void {
  const priority = parseUint(c, 'SvcPriority', 0xffff);
  w.u16(priority);
  w.name(parseName(c, 'TargetName'));
  // RFC 9460 §2.4.2: AliasMode (priority 0) carries no SvcParams (BIND rejects them).
  if (priority === 0) return;
  const params: { key: number; value: Uint8Array; index: number }[] = [];
  while (!c.done) {
    const index = c.i;
    const tok = c.peek()!;
    c.next('SvcParam');
    const eq = tok.text.indexOf('=');
    const name = eq === -1 ? tok.text : tok.text.slice(0, eq);
    const key = keyFromName(name);
    if (key === undefined) c.fail(`unknown SvcParamKey "${name}"`);
    let rawText: string | undefined;
    if (eq !== -1) {
      rawText = tok.text.slice(eq + 1);
      // RFC 9460 §2.1: key="value" — the lexer splits the quoted value into the next token.
      const nt = c.peek();
      if (rawText === '' && nt?.quoted === true && nt.line === tok.line && nt.col === tok.col + tok.text.length) {
        c.next('SvcParamValue');
        rawText = nt.text;
      }
    }
    const raw = rawText === undefined ? undefined : charStringFromText(c, rawText, 65535, `${name} value`);
    const generic = !KEY_BY_NAME.has(name);
    const value = valueFromText(c, key, generic, raw);
    if (value.length > 0xffff) c.fail('SvcParamValue longer than 65535 octets');
    try {
      validateValue(key, value, 0, value.length);
    } catch (e) {
      if (e instanceof RdataError) c.fail(e.message);
      throw e;
    }
    if (params.some((p) => p.key === key)) c.fail(`duplicate SvcParamKey ${keyName(key)}`); // RFC 9460 §2.2
    params.push({ key, value, index });
  }
  // RFC 9460 §2.2: SvcParams in strictly increasing key order on the wire.
  params.sort((a, b) => a.key - b.key);
  const present = new Set(params.map((p) => p.key));
  for (const p of params) {
    if (p.key === SvcKey.mandatory) {
      for (let i = 0; i < p.value.length; i += 2) {
        const k = (p.value[i]! << 8) | p.value[i + 1]!;
        // RFC 9460 §8: every key listed in mandatory must be present.
        if (!present.has(k)) throw new RdataError(`mandatory key ${keyName(k)} is missing`, p.index);
      }
    }
    // RFC 9460 §7.1.1: no-default-alpn requires alpn.
    if (p.key === SvcKey.noDefaultAlpn && !present.has(SvcKey.alpn)) throw new RdataError('no-default-alpn without alpn', p.index);
    w.u16(p.key);
    w.u16(p.value.length);
    w.bytes(p.value);
  }
}

/** Per-key wire value rules (RFC 9460 §7, §8; RFC 9461 §5). Throws RdataError(…, 0). */
function validateValue(key: number, b: Uint8Array, start: number, end: number): void {
  const len = end - start;
  const bad = (m: string): never => {
    throw new RdataError(`bad ${keyName(key)} value: ${m}`, 0);
  };
  switch (key) {
    case SvcKey.mandatory:
      if (len === 0 || len % 2 !== 0) bad('length must be a positive even number');
      for (let i = start; i < end; i += 2) {
        const k = (b[i]! << 8) | b[i + 1]!;
        if (k === SvcKey.mandatory) bad('lists itself');
        if (i > start && k <= ((b[i - 2]! << 8) | b[i - 1]!)) bad('keys not strictly increasing');
      }
      return;
    case SvcKey.alpn:
      if (len === 0) bad('empty');
      for (let i = start; i < end; ) {
        const l = b[i]!;
        if (l === 0 || i + 1 + l > end) bad('bad alpn-id length');
        i += 1 + l;
      }
      return;
    case SvcKey.noDefaultAlpn:
      if (len !== 0) bad('must be empty');
      return;
    case SvcKey.port:
      if (len !== 2) bad('must be 2 octets');
      return;
    case SvcKey.ipv4hint:
      if (len === 0 || len % 4 !== 0) bad('length must be a positive multiple of 4');
      return;
    case SvcKey.ipv6hint:
      if (len === 0 || len % 16 !== 0) bad('length must be a positive multiple of 16');
      return;
    case SvcKey.dohpath: {
      // RFC 9461 §5: a relative URI Template (UTF-8) that contains the "dns" variable.
      const s = Buffer.from(b.buffer, b.byteOffset + start, len).toString('utf8');
      if (s.includes('\uFFFD') || !/\{[?&]?(?:[^}]*,)?dns(?:[,}])/.test(s)) bad('URI template without a {?dns} variable');
      return;
    }
    default:
      return;
  }
}

/** Escape one alpn-id for the value-list then for the quoted char-string (RFC 9460 App. A.1), as BIND does. */
function alpnIdText(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c < 0x20 || c >= 0x7f) s += '\\' + String(c).padStart(3, '0');
    else if (c === 0x2c) s += '\\\\,';
    else if (c === 0x5c) s += '\\\\\\\\';
    else if (c === 0x22) s += '\\"';
    else s += String.fromCharCode(c);
  }
  return s;
}

export function svcbToText(r: Reader): string {
  const priority = r.u16('SvcPriority');
  const target = r.name();
  let s = `${priority} ${target.toString()}`;
  if (priority === 0) {
    r.end();
    return s;
  }
  const b = r.buf;
  let last = -1;
  let mandatory: Uint8Array | undefined;
  const seen = new Set<number>();
  while (r.left > 0) {
    const key = r.u16('SvcParamKey');
    const len = r.u16('SvcParamValue length');
    const start = r.pos;
    r.take(len, 'SvcParamValue');
    // RFC 9460 §2.2: keys strictly increasing.
    if (key <= last) throw new RdataError('SvcParamKeys not in strictly increasing order', 0);
    last = key;
    seen.add(key);
    validateValue(key, b, start, start + len);
    if (key === SvcKey.noDefaultAlpn && !seen.has(SvcKey.alpn)) throw new RdataError('no-default-alpn without alpn', 0);
    if (key === SvcKey.mandatory) mandatory = b.subarray(start, start + len);
    s += ' ' + keyName(key);
    if (len === 0) continue;
    s += '=';
    switch (key) {
      case SvcKey.mandatory: {
        const names: string[] = [];
        for (let i = start; i < start + len; i += 2) names.push(keyName((b[i]! << 8) | b[i + 1]!));
        s += names.join(',');
        break;
      }
      case SvcKey.alpn: {
        const ids: string[] = [];
        for (let i = start; i < start + len; i += 1 + b[i]!) ids.push(alpnIdText(b, i + 1, i + 1 + b[i]!));
        s += '"' + ids.join(',') + '"';
        break;
      }
      case SvcKey.port:
        s += String((b[start]! << 8) | b[start + 1]!);
        break;
      case SvcKey.ipv4hint:
      case SvcKey.ipv6hint: {
        const step = key === SvcKey.ipv4hint ? 4 : 16;
        const addrs: string[] = [];
        for (let i = start; i < start + len; i += step) addrs.push(step === 4 ? ipv4ToText(b, i) : ipv6ToText(b, i));
        s += addrs.join(',');
        break;
      }
      case SvcKey.ech:
        s += base64Encode(b, start, start + len);
        break;
      default:
        s += quoteBytes(b, start, start + len);
    }
  }
  if (mandatory) {
    // RFC 9460 §8: every key in mandatory must be present.
    for (let i = 0; i < mandatory.length; i += 2) {
      const k = (mandatory[i]! << 8) | mandatory[i + 1]!;
      if (!seen.has(k)) throw new RdataError(`mandatory key ${keyName(k)} is missing`, 0);
    }
  }
  return s;
}
