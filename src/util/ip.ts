// IP address, CIDR prefix and host:port parsing (strict literals, canonical text, raw bytes): config, ACLs, cookies, RRL.

/** An IP literal with its network-order bytes (4 or 16) and canonical text (RFC 5952 §4 for IPv6). */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly text: string;
  readonly bytes: Uint8Array;
}

/** An address prefix; `bytes` hold the network address (host bits are zero). */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** Canonical `addr/prefix`. */
  readonly text: string;
}

/** An address plus port, e.g. a listen socket or an upstream resolver. */
export interface HostPort {
  readonly address: IpAddress;
  readonly port: number;
  /** The zone (interface) of a link-local IPv6 address (RFC 4007 §11: `fe80::1%eth0`), when one was given. */
  readonly zone?: string;
  /** Canonical `a.b.c.d:port`, `[v6]:port` or `[fe80::…%zone]:port`. */
  readonly text: string;
}

/** RFC 4291 §2.5.6: fe80::/10, the unicast scope where an address means something only with its interface. */
export function isLinkLocalIPv6(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80;
}

/**
 * Dotted-quad IPv4. Leading zeros are refused because some parsers read them as octal (RFC 6943 §3.1.1), so an
 * operator typo never silently means another address.
 */
export function parseIPv4(text: string): IpAddress | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    bytes[i] = v;
  }
  return { family: 4, text: Array.from(bytes).join('.'), bytes };
}

/** IPv6 text form (RFC 4291 §2.2, including `::` and a trailing dotted quad); zone ids (`%eth0`) are refused. */
export function parseIPv6(text: string): IpAddress | undefined {
  if (text.length === 0 || text.includes('%')) return undefined;
  let head = text;
  let tailV4: Uint8Array | undefined;
  // RFC 4291 §2.2 form 3: the last 32 bits may be written as a dotted quad.
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > lastColon) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tailV4 = v4.bytes;
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::"; "64:ff9b::1.2.3.4" leaves "64:ff9b::"; "1:2:3:4:5:6:1.2.3.4" leaves "1:...:6:".
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsWanted = tailV4 ? 6 : 8;
  const dbl = head.indexOf('::');
  if (dbl >= 0 && head.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s.length === 0) return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (!left || !right) return undefined;
    const fill = groupsWanted - left.length - right.length;
    // RFC 4291 §2.2: "::" stands for one or more groups of zeros.
    if (fill < 1) return undefined;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (!all || all.length !== groupsWanted) return undefined;
    groups = all;
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < groupsWanted; i++) {
    const g = groups[i]!;
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  }
  if (tailV4) bytes.set(tailV4, 12);
  return { family: 6, text: formatIPv6(bytes), bytes };
}

/** Either family. */
export function parseIp(text: string): IpAddress | undefined {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

/**
 * RFC 5952 §4 canonical text: lowercase hex, no leading zeros, the longest run (first on a tie) of two or more
 * zero groups shortened to "::". The dotted-quad tail of §5 is not used.
 */
export function formatIPv6(bytes: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: readonly number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

export type CidrResult = { readonly ok: true; readonly cidr: Cidr } | { readonly ok: false; readonly message: string };

/** `addr` (a host prefix) or `addr/len`; host bits below the prefix must be zero. */
export function parseCidr(text: string): CidrResult {
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const addr = parseIp(addrText);
  if (!addr) return { ok: false, message: `"${addrText}" is not an IPv4 or IPv6 address` };
  const max = addr.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(lenText) || Number(lenText) > max) {
      return { ok: false, message: `prefix length "${lenText}" must be an integer 0..${max}` };
    }
    prefix = Number(lenText);
  }
  const net = addr.bytes.slice();
  for (let bit = prefix; bit < max; bit++) net[bit >> 3]! &= ~(0x80 >> (bit & 7));
  const netText = addr.family === 4 ? Array.from(net).join('.') : formatIPv6(net);
  if (!equalBytes(net, addr.bytes)) {
    return { ok: false, message: `host bits set below /${prefix} (did you mean "${netText}/${prefix}"?)` };
  }
  return { ok: true, cidr: { family: addr.family, bytes: net, prefix, text: `${netText}/${prefix}` } };
}

/** True when `addr` lies inside `cidr` (same family). */
export function cidrContains(cidr: Cidr, addr: Uint8Array): boolean {
  if (addr.length !== cidr.bytes.length) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((addr[full]! & mask) === cidr.bytes[full]);
}

export type HostPortResult = { readonly ok: true; readonly value: HostPort } | { readonly ok: false; readonly message: string };

/**
 * `a.b.c.d:port`, `[v6]:port`, or (when `defaultPort` is given) a bare `a.b.c.d`, `[v6]` or `v6`.
 * Ports are 1..65535. With `zones`, a link-local `[fe80::1%eth0]:port` keeps its zone (RFC 4007 §11).
 */
export function parseHostPort(text: string, defaultPort?: number, opts: { readonly zones?: boolean } = {}): HostPortResult {
  const want = defaultPort === undefined ? 'a.b.c.d:port or [ipv6]:port' : 'a.b.c.d[:port] or [ipv6][:port]';
  let hostText: string;
  let portText: string | undefined;
  let zone: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { ok: false, message: `"${text}": missing "]" (expected ${want})` };
    hostText = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(':')) return { ok: false, message: `"${text}": expected ${want}` };
      portText = rest.slice(1);
    }
    const pct = hostText.indexOf('%');
    if (pct >= 0) {
      const addr = parseIPv6(hostText.slice(0, pct));
      const zoneText = hostText.slice(pct + 1);
      if (!opts.zones) return { ok: false, message: `"${hostText}": a zone id (%interface) is not accepted here` };
      if (!addr) return { ok: false, message: `"${hostText.slice(0, pct)}" is not an IPv6 address` };
      // RFC 4007 §11.7: the zone id qualifies non-global addresses; a global address names one place already.
      if (!isLinkLocalIPv6(addr.bytes)) return { ok: false, message: `"${hostText}": a zone id (%${zoneText}) only goes with a link-local address (fe80::/10)` };
      if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(zoneText)) return { ok: false, message: `"${hostText}": "${zoneText}" is not an interface name or index` };
      zone = zoneText;
      hostText = hostText.slice(0, pct);
    } else if (!parseIPv6(hostText)) return { ok: false, message: `"${hostText}" is not an IPv6 address` };
  } else {
    const colons = text.split(':').length - 1;
    if (colons === 1) {
      const i = text.indexOf(':');
      hostText = text.slice(0, i);
      portText = text.slice(i + 1);
      if (!parseIPv4(hostText)) return { ok: false, message: `"${hostText}" is not an IPv4 address` };
    } else if (colons > 1) {
      hostText = text;
      if (!parseIPv6(hostText)) return { ok: false, message: `"${text}" is not an IPv6 address` };
      if (defaultPort === undefined) return { ok: false, message: `"${text}": write IPv6 with a port as [addr]:port` };
    } else {
      hostText = text;
      if (!parseIPv4(hostText)) return { ok: false, message: `"${text}" is not an IPv4 address (expected ${want})` };
    }
  }
  let port: number;
  if (portText === undefined) {
    if (defaultPort === undefined) return { ok: false, message: `"${text}": missing port (expected ${want})` };
    port = defaultPort;
  } else {
    if (!/^[1-9]\d{0,4}$/.test(portText) || Number(portText) > 65535) {
      return { ok: false, message: `"${text}": port must be an integer 1..65535` };
    }
    port = Number(portText);
  }
  const address = parseIp(hostText)!;
  const hostOut = address.family === 6 ? `[${address.text}${zone === undefined ? '' : `%${zone}`}]` : address.text;
  return { ok: true, value: { address, port, ...(zone === undefined ? {} : { zone }), text: `${hostOut}:${port}` } };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
