// RDATA codecs for every supported RR type: zone-file presentation tokens -> uncompressed wire RDATA, wire ->
// presentation text exactly as BIND 9.18 `named-checkzone -D` prints it, wire validation, and small field helpers.

import { RRType } from '../constants.js';
import { Name } from '../name.js';
import { RdataError, type RdataToken } from '../rdata-api.js';
import { typeBitmapFromWire, typeBitmapToWire } from './bitmap.js';
import {
  base32hexDecode, base32hexEncode, base64Decode, base64Encode, hexDecode, hexEncode, splitChunks,
} from './encoding.js';
import { locFromText, locToText } from './loc.js';
import { svcbFromText, svcbToText } from './svcb.js';
import {
  Cursor, Reader, Writer, certTypeMnemonic, charStringFromText, ipv4FromText, ipv4ToText, ipv6FromText, ipv6ToText,
  parseCertType, parseDuration, parseName, parseSecAlg, parseType, parseUint, quoteBytes, secAlgMnemonic,
  sigTimeFromText, sigTimeToText, typeFromMnemonic, typeMnemonic,
} from './text.js';

export { RdataError } from '../rdata-api.js';
export { typeBitmapFromWire, typeBitmapToWire, typeBitmapHas } from './bitmap.js';

/** BIND's one-line master-file style splits long hex/base64 fields into chunks of this many characters. */
const CHUNK = 56;

/** One RDATA field kind; a codec for a simple type is a list of these. "Rest" kinds must come last. */
type Field =
  | 'u8' | 'u16' | 'u32'
  | 'ttl' // u32, TTL-style units accepted (SOA timers, RRSIG original TTL)
  | 'name' | 'a' | 'aaaa'
  | 'str' // one length-prefixed <character-string>
  | 'strs' // one or more <character-string>s up to the end (TXT, SPF)
  | 'hex' // rest: hex, may be split over tokens, at least one token
  | 'b64' // rest: base64, may be split over tokens, at least one token
  | 'type' // u16 RR type mnemonic
  | 'alg' // u8 DNSSEC algorithm, mnemonic accepted, printed as number
  | 'certtype' | 'certalg' // CERT (RFC 4398 §2): printed as mnemonics
  | 'time' // u32 RRSIG time
  | 'bitmap' // rest: type bit map (RFC 4034 §4.1.2), may be empty (NSEC3, CSYNC)
  | 'bitmap1' // rest: non-empty type bit map (NSEC: BIND rejects an empty one)
  | 'salt' // u8 length + hex, "-" for empty (RFC 5155 §3.3)
  | 'b32' // u8 length + base32hex (RFC 5155 §3.3)
  | 'qrest' // rest: one (usually quoted) string without length prefix (URI target, CAA value)
  | 'caatag' // u8 length + alphanumeric tag (RFC 8659 §4.1)
  | 'u64' // NID/L64 locator: 4 hex groups (RFC 6742 §2.3)
  | 'eui48' | 'eui64'; // RFC 7043 §3.2, §4.2

interface Codec {
  readonly fromText: (c: Cursor, w: Writer) => void;
  readonly toText: (r: Reader) => string;
}

// ---------------------------------------------------------------------------------------------------------------
// Field parsers

function parseField(f: Field, c: Cursor, w: Writer): void {
  switch (f) {
    case 'u8':
      w.u8(parseUint(c, 'number', 0xff));
      return;
    case 'u16':
      w.u16(parseUint(c, 'number', 0xffff));
      return;
    case 'u32':
      w.u32(parseUint(c, 'number', 0xffffffff));
      return;
    case 'ttl':
      w.u32(parseDuration(c, 'time value'));
      return;
    case 'name':
      w.name(parseName(c, 'domain name'));
      return;
    case 'a': {
      const t = c.next('IPv4 address');
      const b = ipv4FromText(t);
      if (!b) c.fail(`bad IPv4 address "${t}" (need a dotted quad like 192.0.2.1)`);
      w.bytes(b);
      return;
    }
    case 'aaaa': {
      const t = c.next('IPv6 address');
      const b = ipv6FromText(t);
      if (!b) c.fail(`bad IPv6 address "${t}"`);
      w.bytes(b);
      return;
    }
    case 'str': {
      const b = charStringFromText(c, c.next('character-string'), 255, 'character-string');
      w.u8(b.length);
      w.bytes(b);
      return;
    }
    case 'strs': {
      c.next('character-string');
      c.i--;
      while (!c.done) parseField('str', c, w);
      return;
    }
    case 'hex': {
      const first = c.i;
      c.next('hex data');
      c.i--;
      const b = hexDecode(c.rest());
      if (!b) throw new RdataError('bad hex data (need an even number of hex digits)', first);
      w.bytes(b);
      return;
    }
    case 'b64': {
      const first = c.i;
      c.next('base64 data');
      c.i--;
      const b = base64Decode(c.rest());
      if (!b) throw new RdataError('bad base64 data', first);
      w.bytes(b);
      return;
    }
    case 'type':
      w.u16(parseType(c, 'type covered'));
      return;
    case 'alg':
      w.u8(parseSecAlg(c, 'algorithm'));
      return;
    case 'certtype':
      w.u16(parseCertType(c));
      return;
    case 'certalg':
      w.u8(parseSecAlg(c, 'algorithm'));
      return;
    case 'time': {
      const t = c.next('signature time');
      const v = sigTimeFromText(t);
      if (v === undefined) c.fail(`bad signature time "${t}" (YYYYMMDDHHmmSS or seconds)`);
      w.u32(v);
      return;
    }
    case 'bitmap':
    case 'bitmap1': {
      const types: number[] = [];
      if (f === 'bitmap1') {
        c.next('type bit map');
        c.i--;
      }
      while (!c.done) types.push(parseType(c, 'type'));
      w.bytes(typeBitmapToWire(types));
      return;
    }
    case 'salt': {
      const t = c.next('salt');
      if (t === '-') {
        w.u8(0);
        return;
      }
      const b = hexDecode(t);
      if (!b || b.length === 0 || b.length > 255) c.fail(`bad salt "${t}" (hex, 1..255 octets, or "-")`);
      w.u8(b.length);
      w.bytes(b);
      return;
    }
    case 'b32': {
      const t = c.next('next hashed owner name');
      const b = base32hexDecode(t);
      if (!b || b.length === 0 || b.length > 255) c.fail(`bad next hashed owner name "${t}" (base32hex)`);
      w.u8(b.length);
      w.bytes(b);
      return;
    }
    case 'qrest': {
      w.bytes(charStringFromText(c, c.next('string'), 65535, 'string'));
      return;
    }
    case 'caatag': {
      const t = c.next('tag');
      // RFC 8659 §4.1.1: the tag is a non-empty string of US-ASCII letters and digits.
      if (!/^[A-Za-z0-9]{1,255}$/.test(t)) c.fail(`bad CAA tag "${t}" (letters and digits only)`);
      w.u8(t.length);
      for (let i = 0; i < t.length; i++) w.u8(t.charCodeAt(i));
      return;
    }
    case 'u64': {
      const t = c.next('locator');
      const m = /^([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})$/.exec(t);
      if (!m) c.fail(`bad locator "${t}" (four hex groups like 0014:4fff:ff20:ee64)`);
      for (let k = 1; k <= 4; k++) w.u16(parseInt(m[k]!, 16));
      return;
    }
    case 'eui48':
    case 'eui64': {
      const n = f === 'eui48' ? 6 : 8;
      const t = c.next('EUI address');
      const parts = t.split('-');
      if (parts.length !== n || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
        c.fail(`bad ${f.toUpperCase()} "${t}" (${n} hex pairs separated by "-")`);
      }
      for (const p of parts) w.u8(parseInt(p, 16));
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Field printers (also the wire validators: every read is bounds-checked)

function printField(f: Field, r: Reader): string {
  switch (f) {
    case 'u8':
      return String(r.u8());
    case 'u16':
      return String(r.u16());
    case 'u32':
    case 'ttl':
      return String(r.u32());
    case 'name':
      return r.name().toString();
    case 'a':
      r.need(4, 'IPv4 address');
      r.pos += 4;
      return ipv4ToText(r.buf, r.pos - 4);
    case 'aaaa':
      r.need(16, 'IPv6 address');
      r.pos += 16;
      return ipv6ToText(r.buf, r.pos - 16);
    case 'str': {
      const len = r.u8('character-string length');
      const start = r.pos;
      r.take(len, 'character-string');
      return quoteBytes(r.buf, start, start + len);
    }
    case 'strs': {
      const parts: string[] = [printField('str', r)];
      while (r.left > 0) parts.push(printField('str', r));
      return parts.join(' ');
    }
    case 'hex': {
      // The text form needs at least one hex token, so empty data could not be printed and read back (BIND
      // rejects it on the wire as well).
      if (r.left === 0) throw new RdataError('RDATA too short for hex data', 0);
      const s = r.pos;
      r.pos = r.buf.length;
      return splitChunks(hexEncode(r.buf, s), CHUNK);
    }
    case 'b64': {
      // As for hex: empty key/signature/certificate data has no text form (BIND rejects it too).
      if (r.left === 0) throw new RdataError('RDATA too short for base64 data', 0);
      const s = r.pos;
      r.pos = r.buf.length;
      return splitChunks(base64Encode(r.buf, s), CHUNK);
    }
    case 'type':
      return typeMnemonic(r.u16('type covered'));
    case 'alg':
      return String(r.u8('algorithm'));
    case 'certtype':
      return certTypeMnemonic(r.u16('certificate type'));
    case 'certalg':
      return secAlgMnemonic(r.u8('algorithm'));
    case 'time':
      return sigTimeToText(r.u32('signature time'));
    case 'bitmap':
    case 'bitmap1': {
      const types = typeBitmapFromWire(r.buf, r.pos, r.buf.length);
      if (f === 'bitmap1' && types.length === 0) throw new RdataError('empty NSEC type bit map', 0);
      r.pos = r.buf.length;
      return types.map(typeMnemonic).join(' ');
    }
    case 'salt': {
      const len = r.u8('salt length');
      const s = r.pos;
      r.take(len, 'salt');
      return len === 0 ? '-' : hexEncode(r.buf, s, s + len);
    }
    case 'b32': {
      const len = r.u8('hash length');
      // RFC 5155 §3.2: the hash length is at least one octet.
      if (len === 0) throw new RdataError('NSEC3 next hashed owner name is empty', 0);
      const s = r.pos;
      r.take(len, 'next hashed owner name');
      return base32hexEncode(r.buf, s, s + len);
    }
    case 'qrest': {
      const s = r.pos;
      r.pos = r.buf.length;
      return quoteBytes(r.buf, s, r.buf.length);
    }
    case 'caatag': {
      const len = r.u8('tag length');
      const s = r.pos;
      r.take(len, 'tag');
      let t = '';
      for (let i = s; i < s + len; i++) t += String.fromCharCode(r.buf[i]!);
      // RFC 8659 §4.1.1: non-empty, letters and digits.
      if (!/^[A-Za-z0-9]+$/.test(t)) throw new RdataError('CAA tag is empty or not alphanumeric', 0);
      return t;
    }
    case 'u64': {
      const g: string[] = [];
      for (let k = 0; k < 4; k++) g.push(r.u16('locator').toString(16));
      return g.join(':');
    }
    case 'eui48':
    case 'eui64': {
      const n = f === 'eui48' ? 6 : 8;
      const b = r.take(n, f.toUpperCase());
      const g: string[] = [];
      for (const x of b) g.push(x.toString(16).padStart(2, '0'));
      return g.join('-');
    }
  }
}

/** Codec for a type that is a plain sequence of fields, with an optional extra wire check. */
function seq(fields: readonly Field[], check?: (rdata: Uint8Array) => void, textCheck?: (c: Cursor, w: Writer) => void): Codec {
  return {
    fromText(c, w) {
      for (const f of fields) parseField(f, c, w);
      if (textCheck) textCheck(c, w);
    },
    toText(r) {
      if (check) check(r.buf);
      const parts: string[] = [];
      for (const f of fields) {
        const s = printField(f, r);
        if (s !== '') parts.push(s);
      }
      r.end();
      return parts.join(' ');
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Types needing custom syntax

/** DS digest lengths (RFC 4509 §2.2 SHA-256, RFC 3658 SHA-1, RFC 6605 §4 SHA-384), enforced like BIND. */
const DS_DIGEST_LEN: ReadonlyMap<number, number> = new Map([[1, 20], [2, 32], [4, 48]]);

function checkDs(rdata: Uint8Array): void {
  if (rdata.length < 4) return;
  const want = DS_DIGEST_LEN.get(rdata[3]!);
  if (want !== undefined && rdata.length - 4 !== want) {
    throw new RdataError(`digest type ${rdata[3]!} needs a ${want}-octet digest, got ${rdata.length - 4}`, 0);
  }
}

/** ZONEMD (RFC 8976 §2.2.4): digest at least 12 octets; SHA384 is 48, SHA512 is 64. */
function checkZonemd(rdata: Uint8Array): void {
  if (rdata.length < 6) return;
  const len = rdata.length - 6;
  const alg = rdata[5]!;
  const want = alg === 1 ? 48 : alg === 2 ? 64 : undefined;
  if (want !== undefined && len !== want) throw new RdataError(`ZONEMD hash algorithm ${alg} needs ${want} octets, got ${len}`, 0);
  if (len < 12) throw new RdataError(`ZONEMD digest is ${len} octets, fewer than 12`, 0);
}

/**
 * RFC 4034 §3.1.3: the Labels field counts the owner's labels (minus a wildcard), so it can never be below the
 * signer's label count (the signer is the zone apex above the owner). BIND rejects such text.
 */
function checkRrsigLabels(c: Cursor, w: Writer): void {
  const rdata = w.result();
  const signer = Name.fromWire(rdata, 18);
  if (rdata[3]! < signer.labels.length) {
    throw new RdataError(`labels ${rdata[3]!} is below the signer's ${signer.labels.length} labels`, Math.max(0, c.i - 3));
  }
}

/**
 * The same RFC 4034 §3.1.3 rule on the wire (BIND answers FORMERR), so that every valid RRSIG prints as text that
 * parses back. Malformed signer names are left to the field reader.
 */
function checkRrsigWireLabels(rdata: Uint8Array): void {
  let p = 18;
  let n = 0;
  for (;;) {
    const len = rdata[p];
    if (len === undefined || len > 63) return;
    if (len === 0) break;
    n++;
    p += 1 + len;
  }
  if (rdata[3]! < n) throw new RdataError(`labels ${rdata[3]!} is below the signer's ${n} labels`, 0);
}

/** IPSECKEY (RFC 4025 §3): precedence, gateway type, algorithm, gateway, base64 public key (BIND requires one). */
const ipseckey: Codec = {
  fromText(c: Cursor, w: Writer) {
    w.u8(parseUint(c, 'precedence', 0xff));
    const gt = parseUint(c, 'gateway type', 0xff);
    w.u8(gt);
    w.u8(parseUint(c, 'algorithm', 0xff));
    switch (gt) {
      case 0: {
        // RFC 4025 §3.1: no gateway is written as ".".
        if (c.next('gateway') !== '.') c.fail('gateway type 0 needs "." as the gateway');
        break;
      }
      case 1:
        parseField('a', c, w);
        break;
      case 2:
        parseField('aaaa', c, w);
        break;
      case 3:
        parseField('name', c, w);
        break;
      default:
        c.fail(`unknown gateway type ${gt}`);
    }
    parseField('b64', c, w);
  },
  toText(r) {
    const prec = r.u8('precedence');
    const gt = r.u8('gateway type');
    const alg = r.u8('algorithm');
    let gw: string;
    if (gt === 0) gw = '.';
    else if (gt === 1) gw = printField('a', r);
    else if (gt === 2) gw = printField('aaaa', r);
    else if (gt === 3) gw = printField('name', r);
    else throw new RdataError(`IPSECKEY gateway type ${gt} unknown`, 0);
    const key = printField('b64', r);
    return `${prec} ${gt} ${alg} ${gw} ${key}`;
  },
};

/** APL (RFC 3123 §4): `[!]afi:address/prefix` items; address octets with trailing zeros dropped. */
const apl: Codec = {
  fromText(c: Cursor, w: Writer) {
    while (!c.done) {
      const t = c.next('APL item');
      const m = /^(!?)([12]):([^/]+)\/([0-9]{1,3})$/.exec(t);
      if (!m) c.fail(`bad APL item "${t}" (need [!]1:a.b.c.d/len or [!]2:ipv6/len)`);
      const afi = Number(m[2]);
      const addr = afi === 1 ? ipv4FromText(m[3]!) : ipv6FromText(m[3]!);
      const prefix = Number(m[4]);
      if (!addr || prefix > addr.length * 8) c.fail(`bad APL item "${t}"`);
      let n = addr.length;
      while (n > 0 && addr[n - 1] === 0) n--;
      w.u16(afi);
      w.u8(prefix);
      w.u8((m[1] === '!' ? 0x80 : 0) | n);
      w.bytes(addr.subarray(0, n));
    }
  },
  toText(r) {
    const items: string[] = [];
    while (r.left > 0) {
      const afi = r.u16('APL family');
      const prefix = r.u8('APL prefix');
      const nl = r.u8('APL length');
      const n = nl & 0x7f;
      const size = afi === 1 ? 4 : afi === 2 ? 16 : 0;
      if (size === 0) throw new RdataError(`APL address family ${afi} unsupported`, 0);
      if (n > size || prefix > size * 8) throw new RdataError('APL item too long', 0);
      const full = new Uint8Array(size);
      const addr = r.take(n, 'APL address');
      // RFC 3123 §4: trailing zero octets of AFDPART must not be sent (BIND answers FORMERR).
      if (n > 0 && addr[n - 1] === 0) throw new RdataError('APL address with a trailing zero octet', 0);
      full.set(addr);
      items.push(`${nl & 0x80 ? '!' : ''}${afi}:${size === 4 ? ipv4ToText(full) : ipv6ToText(full)}/${prefix}`);
    }
    return items.join(' ');
  },
};

const loc: Codec = { fromText: locFromText, toText: locToText };
const svcb: Codec = { fromText: svcbFromText, toText: svcbToText };

const T = RRType;
const CODECS: ReadonlyMap<number, Codec> = new Map<number, Codec>([
  [T.A, seq(['a'])], // RFC 1035 §3.4.1
  [T.NS, seq(['name'])], // RFC 1035 §3.3.11
  [T.MD, seq(['name'])],
  [T.MF, seq(['name'])],
  [T.CNAME, seq(['name'])], // RFC 1035 §3.3.1
  [T.SOA, seq(['name', 'name', 'u32', 'ttl', 'ttl', 'ttl', 'ttl'])], // RFC 1035 §3.3.13
  [T.MB, seq(['name'])],
  [T.MG, seq(['name'])],
  [T.MR, seq(['name'])],
  [T.PTR, seq(['name'])], // RFC 1035 §3.3.12
  [T.HINFO, seq(['str', 'str'])], // RFC 1035 §3.3.2
  [T.MINFO, seq(['name', 'name'])],
  [T.MX, seq(['u16', 'name'])], // RFC 1035 §3.3.9
  [T.TXT, seq(['strs'])], // RFC 1035 §3.3.14
  [T.RP, seq(['name', 'name'])], // RFC 1183 §2.2
  [T.AFSDB, seq(['u16', 'name'])], // RFC 1183 §1
  [T.RT, seq(['u16', 'name'])], // RFC 1183 §3.3
  [T.AAAA, seq(['aaaa'])], // RFC 3596 §2.2
  [T.LOC, loc], // RFC 1876
  [T.SRV, seq(['u16', 'u16', 'u16', 'name'])], // RFC 2782
  [T.NAPTR, seq(['u16', 'u16', 'str', 'str', 'str', 'name'])], // RFC 3403 §4.1
  [T.KX, seq(['u16', 'name'])], // RFC 2230 §3
  [T.CERT, seq(['certtype', 'u16', 'certalg', 'b64'])], // RFC 4398 §2
  [T.DNAME, seq(['name'])], // RFC 6672 §2.1
  [T.APL, apl], // RFC 3123
  [T.DS, seq(['u16', 'alg', 'u8', 'hex'], checkDs)], // RFC 4034 §5.3
  [T.SSHFP, seq(['u8', 'u8', 'hex'])], // RFC 4255 §3.2
  [T.IPSECKEY, ipseckey], // RFC 4025
  [T.RRSIG, seq(['type', 'alg', 'u8', 'u32', 'time', 'time', 'u16', 'name', 'b64'], checkRrsigWireLabels, checkRrsigLabels)], // RFC 4034 §3.2
  [T.NSEC, seq(['name', 'bitmap1'])], // RFC 4034 §4.2
  [T.DNSKEY, seq(['u16', 'u8', 'alg', 'b64'])], // RFC 4034 §2.2
  [T.DHCID, seq(['b64'])], // RFC 4701 §3.6
  [T.NSEC3, seq(['u8', 'u8', 'u16', 'salt', 'b32', 'bitmap'])], // RFC 5155 §3.3
  [T.NSEC3PARAM, seq(['u8', 'u8', 'u16', 'salt'])], // RFC 5155 §4.3
  [T.TLSA, seq(['u8', 'u8', 'u8', 'hex'])], // RFC 6698 §2.2
  [T.SMIMEA, seq(['u8', 'u8', 'u8', 'hex'])], // RFC 8162 §2
  [T.CDS, seq(['u16', 'alg', 'u8', 'hex'], checkDs)], // RFC 7344 §3.1, RFC 8078 §4 delete form "0 0 0 00"
  [T.CDNSKEY, seq(['u16', 'u8', 'alg', 'b64'])], // RFC 7344 §3.2, RFC 8078 §4 delete form "0 3 0 AA=="
  [T.OPENPGPKEY, seq(['b64'])], // RFC 7929 §2.3
  [T.CSYNC, seq(['u32', 'u16', 'bitmap'])], // RFC 7477 §2.1.2
  [T.ZONEMD, seq(['u32', 'u8', 'u8', 'hex'], checkZonemd)], // RFC 8976 §2.3
  [T.SVCB, svcb], // RFC 9460 §2.1
  [T.HTTPS, svcb], // RFC 9460 §9.1
  [T.SPF, seq(['strs'])], // RFC 7208 §3.1
  [T.NID, seq(['u16', 'u64'])], // RFC 6742 §2.1.1
  [T.L32, seq(['u16', 'a'])], // RFC 6742 §2.2.1
  [T.L64, seq(['u16', 'u64'])], // RFC 6742 §2.3.1
  [T.LP, seq(['u16', 'name'])], // RFC 6742 §2.4.1
  [T.EUI48, seq(['eui48'])], // RFC 7043 §3
  [T.EUI64, seq(['eui64'])], // RFC 7043 §4
  [T.URI, seq(['u16', 'u16', 'qrest'])], // RFC 7553 §4.5
  [T.CAA, seq(['u8', 'caatag', 'qrest'])], // RFC 8659 §4.1
  [T.TA, seq(['u16', 'alg', 'u8', 'hex'])],
  [T.DLV, seq(['u16', 'alg', 'u8', 'hex'], checkDs)], // RFC 4431 §2
]);

/** True when this module has a type-specific presentation format for `type` (others need `\#`). */
export function rdataTypeSupported(type: number): boolean {
  return CODECS.has(type);
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

/** RFC 3597 §5: `\# <length> <hex...>`; the hex may be split over tokens and is absent when the length is 0. */
function genericFromText(c: Cursor): Uint8Array {
  c.next('\\#');
  const len = parseUint(c, 'RDATA length', 0xffff);
  const lenIndex = c.i - 1;
  const firstHex = c.i;
  const hex = c.rest();
  const b = hexDecode(hex);
  if (!b) throw new RdataError('bad hex data in \\# RDATA', firstHex < c.tokens.length ? firstHex : lenIndex);
  if (b.length !== len) {
    throw new RdataError(`\\# length ${len} does not match ${b.length} octets of hex data`, b.length < len ? c.tokens.length : lenIndex);
  }
  return b;
}

/** Types with no rule spanning several fields: a successful parse is well-formed wire RDATA. */
const FIELDWISE_CHECKED: ReadonlySet<number> = new Set([
  RRType.A, RRType.AAAA, RRType.NS, RRType.CNAME, RRType.DNAME, RRType.PTR, RRType.MX, RRType.TXT, RRType.SPF, RRType.SOA, RRType.SRV,
]);

/**
 * Parse the RDATA tokens of one record (zone-file presentation) into uncompressed wire RDATA. Relative names
 * are completed with `origin`. Throws RdataError with the index of the offending token (tokens.length when a
 * field is missing).
 */
export function rdataFromText(type: number, tokens: readonly RdataToken[], origin: Name): Uint8Array {
  const c = new Cursor(tokens, origin);
  const first = tokens[0];
  if (first !== undefined && first.text === '\\#' && !first.quoted) {
    const rdata = genericFromText(c);
    // Known types given in RFC 3597 form must still be well-formed (as BIND checks).
    rdataValidateWire(type, rdata);
    return rdata;
  }
  const codec = CODECS.get(type);
  if (!codec) throw new RdataError(`no presentation format for ${typeMnemonic(type)}; use \\# <length> <hex>`, 0);
  const w = new Writer();
  codec.fromText(c, w);
  c.finish();
  const rdata = w.result();
  if (rdata.length > 0xffff) throw new RdataError('RDATA longer than 65535 octets', 0);
  // Cross-field wire rules (DS/ZONEMD digest lengths, SVCB keys...): point at the start of the last field. Types
  // whose fields are checked one by one while parsing skip this (it costs a print per record at load).
  if (FIELDWISE_CHECKED.has(type)) return rdata;
  try {
    codec.toText(new Reader(rdata));
  } catch (e) {
    if (e instanceof RdataError) throw new RdataError(e.message, Math.max(0, tokens.length - 1));
    throw e;
  }
  return rdata;
}

/**
 * Presentation text of wire RDATA exactly as BIND 9.18 `named-checkzone -D` prints it (one line; long hex and
 * base64 split in 56-character chunks). Types without a known format print as RFC 3597 `\# len HEX`. Throws
 * RdataError(…, 0) when the RDATA of a known type is malformed.
 */
export function rdataToText(type: number, rdata: Uint8Array): string {
  const codec = CODECS.get(type);
  if (!codec) return genericToText(rdata);
  return codec.toText(new Reader(rdata));
}

/** RFC 3597 §5 generic form, with BIND's 56-character hex chunks. */
export function genericToText(rdata: Uint8Array): string {
  if (rdata.length === 0) return '\\# 0';
  return `\\# ${rdata.length} ${splitChunks(hexEncode(rdata), CHUNK)}`;
}

/** Throw RdataError(…, 0) when wire RDATA of a known type is malformed; unknown types are always accepted. */
export function rdataValidateWire(type: number, rdata: Uint8Array): void {
  if (rdata.length > 0xffff) throw new RdataError('RDATA longer than 65535 octets', 0);
  const codec = CODECS.get(type);
  if (codec) codec.toText(new Reader(rdata));
}

// ---------------------------------------------------------------------------------------------------------------
// Field helpers for other modules

export interface SoaFields {
  readonly mname: Name;
  readonly rname: Name;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}

/** RFC 1035 §3.3.13 SOA fields of (validated) SOA RDATA. */
export function soaFields(rdata: Uint8Array): SoaFields {
  const r = new Reader(rdata);
  const mname = r.name();
  const rname = r.name();
  const serial = r.u32();
  const refresh = r.u32();
  const retry = r.u32();
  const expire = r.u32();
  const minimum = r.u32();
  r.end();
  return { mname, rname, serial, refresh, retry, expire, minimum };
}

/** Copy of SOA RDATA with the serial replaced (the serial is the u32 right after the two names). */
export function soaWithSerial(rdata: Uint8Array, serial: number): Uint8Array {
  const r = new Reader(rdata);
  r.name();
  r.name();
  const at = r.pos;
  r.need(20, 'SOA timers');
  const out = rdata.slice();
  new DataView(out.buffer, out.byteOffset, out.length).setUint32(at, serial >>> 0);
  return out;
}

/** Offset of the first name in RDATA for types whose additional-section / chase target is a name. */
function targetOffset(type: number): number | undefined {
  switch (type) {
    case T.NS:
    case T.CNAME:
    case T.DNAME:
    case T.PTR:
      return 0;
    case T.MX:
    case T.KX:
    case T.AFSDB:
    case T.RT:
    case T.LP:
      return 2;
    case T.SRV:
      return 6;
    default:
      return undefined;
  }
}

/**
 * The name this record points at: NS nsdname, MX exchange, SRV target, CNAME/DNAME/PTR target (also KX/AFSDB/RT).
 * SVCB/HTTPS TargetName (RFC 9460 §4): undefined when it is "." (ServiceMode: the owner, which the caller
 * knows; AliasMode: service unavailable, §2.5.1).
 */
export function rdataTargetName(type: number, rdata: Uint8Array): Name | undefined {
  if (type === T.SVCB || type === T.HTTPS) {
    if (rdata.length < 3) return undefined;
    const n = Name.fromWire(rdata, 2);
    return n.isRoot ? undefined : n;
  }
  const off = targetOffset(type);
  if (off === undefined || rdata.length <= off) return undefined;
  return Name.fromWire(rdata, off);
}

/** `a.b.c.d` of A RDATA (4 octets). */
export function ipv4FromRdata(rdata: Uint8Array): string {
  if (rdata.length !== 4) throw new RdataError('A RDATA must be 4 octets', 0);
  return ipv4ToText(rdata);
}

/** RFC 5952 text of AAAA RDATA (16 octets). */
export function ipv6FromRdata(rdata: Uint8Array): string {
  if (rdata.length !== 16) throw new RdataError('AAAA RDATA must be 16 octets', 0);
  return ipv6ToText(rdata);
}

export { ipv4FromText, ipv6FromText, ipv6ToText, typeFromMnemonic, typeMnemonic };
export { base32hexDecode, base32hexEncode, base64Decode, base64Encode, hexDecode, hexEncode } from './encoding.js';
