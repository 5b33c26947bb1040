// Transfer/NOTIFY access control lists: IPv4/IPv6 CIDR prefixes (IPv4-mapped IPv6 matches IPv4 rules) and TSIG
// key requirements, compiled once at config load and matched per request without allocation.

import type { Name } from '../wire/name.js';

export class AclError extends Error {
  override readonly name = 'AclError';
}

/** A parsed address: family and four 32-bit words (IPv4 uses word 0 only). */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly words: readonly [number, number, number, number];
}

/** A parsed CIDR prefix with its network words already masked. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bits: number;
  readonly net: readonly [number, number, number, number];
  readonly mask: readonly [number, number, number, number];
}

/** Config form of an ACL entry: an address prefix, a TSIG key name, or both (both must then match). */
export interface AclSpec {
  readonly address?: string;
  readonly key?: Name;
}

/** Compiled ACL entry. */
export interface AclEntry {
  readonly cidr?: Cidr;
  /** Lowercased wire key of the required TSIG key name. */
  readonly keyKey?: string;
}

export interface AclClient {
  readonly address: string;
  /** Name of the TSIG key the request was verified with; undefined when unsigned. */
  readonly keyName?: Name;
}

/** Widest prefix allowed (seed I08: ACL ranges at most /24 for IPv4 and /64 for IPv6). */
export interface PrefixLimits {
  readonly minV4?: number;
  readonly minV6?: number;
}

function parseV4Word(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let w = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    w = w * 256 + n;
  }
  return w >>> 0;
}

/** Parse an IPv6 address (RFC 4291 §2.2 text forms, incl. `::` and a trailing dotted IPv4) into 8 groups. */
function parseV6Groups(text: string): number[] | undefined {
  let s = text;
  const pct = s.indexOf('%'); // zone index (RFC 4007 §11) is ignored
  if (pct >= 0) s = s.slice(0, pct);
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.indexOf('.', lastColon) > lastColon) {
    const v4 = parseV4Word(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push(v4 >>> 16, v4 & 0xffff);
    s = s.slice(0, lastColon + 1);
    if (s.endsWith('::')) {
      // keep "::" as is
    } else if (s.endsWith(':')) s = s.slice(0, -1);
  }
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseList = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseList(s.slice(0, dbl));
    const rest = parseList(s.slice(dbl + 2));
    if (!head || !rest) return undefined;
    const fill = 8 - tail.length - head.length - rest.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    const all = parseList(s);
    if (!all) return undefined;
    groups = [...all, ...tail];
  }
  return groups.length === 8 ? groups : undefined;
}

/**
 * Parse an IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) become IPv4 so
 * that dual-stack sockets match IPv4 rules. Returns undefined when the text is not an address.
 */
export function parseAddress(text: string): IpAddress | undefined {
  if (text.indexOf(':') < 0) {
    const w = parseV4Word(text);
    return w === undefined ? undefined : { family: 4, words: [w, 0, 0, 0] };
  }
  const g = parseV6Groups(text);
  if (!g) return undefined;
  const w: [number, number, number, number] = [
    ((g[0]! << 16) | g[1]!) >>> 0,
    ((g[2]! << 16) | g[3]!) >>> 0,
    ((g[4]! << 16) | g[5]!) >>> 0,
    ((g[6]! << 16) | g[7]!) >>> 0,
  ];
  // RFC 4291 §2.5.5.2: ::ffff:0:0/96 carries an IPv4 address.
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return { family: 4, words: [w[3], 0, 0, 0] };
  return { family: 6, words: w };
}

function maskWord(bits: number, wordIndex: number): number {
  const b = bits - wordIndex * 32;
  if (b <= 0) return 0;
  if (b >= 32) return 0xffffffff;
  return (0xffffffff << (32 - b)) >>> 0;
}

/**
 * Parse `addr` or `addr/len`. A bare address is a host prefix (/32 or /128). An IPv4-mapped IPv6 prefix of at
 * least /96 becomes the IPv4 prefix /(len-96). Host bits set beyond the prefix are an error (likely a typo).
 */
export function parseCidr(text: string, limits: PrefixLimits = {}): Cidr {
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const addr = parseAddress(addrText.trim());
  if (!addr) throw new AclError(`"${text}" is not an IPv4 or IPv6 address`);
  const v6Text = addrText.indexOf(':') >= 0;
  let bits: number;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(lenText)) throw new AclError(`bad prefix length in "${text}"`);
    bits = Number(lenText);
    if (v6Text) {
      if (bits > 128) throw new AclError(`prefix length ${bits} above 128 in "${text}"`);
      if (addr.family === 4) {
        if (bits < 96) throw new AclError(`IPv4-mapped prefix "${text}" must be at least /96`);
        bits -= 96;
      }
    } else if (bits > 32) throw new AclError(`prefix length ${bits} above 32 in "${text}"`);
  } else bits = addr.family === 4 ? 32 : 128;
  const mask: [number, number, number, number] = [maskWord(bits, 0), maskWord(bits, 1), maskWord(bits, 2), maskWord(bits, 3)];
  const w = addr.words;
  if ((w[0] & ~mask[0]) !== 0 || (w[1] & ~mask[1]) !== 0 || (w[2] & ~mask[2]) !== 0 || (w[3] & ~mask[3]) !== 0) {
    throw new AclError(`"${text}" has host bits set beyond /${bits}`);
  }
  // Seed I08: ACL ranges are limited in width (e.g. /24 IPv4, /64 IPv6) when the caller asks for it.
  const min = addr.family === 4 ? limits.minV4 : limits.minV6;
  if (min !== undefined && bits < min) throw new AclError(`"${text}" is wider than /${min}`);
  return { family: addr.family, bits, net: [w[0], w[1], w[2], w[3]], mask };
}

/** True when `addr` lies inside `cidr` (same family). */
export function cidrContains(cidr: Cidr, addr: IpAddress): boolean {
  if (cidr.family !== addr.family) return false;
  const w = addr.words;
  const m = cidr.mask;
  const n = cidr.net;
  if (((w[0] & m[0]) >>> 0) !== n[0]) return false;
  if (cidr.family === 4) return true;
  return ((w[1] & m[1]) >>> 0) === n[1] && ((w[2] & m[2]) >>> 0) === n[2] && ((w[3] & m[3]) >>> 0) === n[3];
}

/** Compile config specs. An entry must name an address, a key, or both. */
export function compileAcl(specs: readonly AclSpec[], limits: PrefixLimits = {}): readonly AclEntry[] {
  return Object.freeze(
    specs.map((s): AclEntry => {
      if (s.address === undefined && s.key === undefined) throw new AclError('ACL entry needs an address, a key, or both');
      const e: { cidr?: Cidr; keyKey?: string } = {};
      if (s.address !== undefined) e.cidr = parseCidr(s.address, limits);
      if (s.key !== undefined) e.keyKey = s.key.key;
      return Object.freeze(e);
    }),
  );
}

/**
 * True when some entry matches: its prefix (if any) contains the client address AND its key (if any) is the key
 * the request was verified with. An entry that names a key never matches an unsigned request. The caller must
 * have verified the TSIG (RFC 8945 §5.2) before passing `keyName`.
 */
export function matchAcl(entries: readonly AclEntry[], client: AclClient | { readonly address: IpAddress | undefined; readonly keyName?: Name }): boolean {
  const addr = typeof client.address === 'string' ? parseAddress(client.address) : client.address;
  const keyKey = client.keyName?.key;
  for (const e of entries) {
    if (e.keyKey !== undefined && e.keyKey !== keyKey) continue;
    if (e.cidr !== undefined && (addr === undefined || !cidrContains(e.cidr, addr))) continue;
    return true;
  }
  return false;
}
