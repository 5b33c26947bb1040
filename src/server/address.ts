// Listen addresses ("127.0.0.1:53", "[::1]:53", ":53"): parsing, printing, and host:port text for messages.

import net from 'node:net';

export interface ListenAddress {
  /** IP literal to bind (no brackets). */
  readonly host: string;
  /** 0 lets the OS choose (UDP and TCP then share the chosen number). */
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
  /** `:53` form: one IPv6 socket that also accepts IPv4 (mapped) traffic. */
  readonly dualStack: boolean;
}

/** A listen address that cannot be used; the message says why and quotes the input. */
export class ListenAddressError extends Error {
  override readonly name = 'ListenAddressError';
}

/**
 * Parse `IPv4:port`, `[IPv6]:port`, `:port` / `*:port` (every IPv4 and IPv6 address, dual-stack socket), or a bare
 * IP literal (then `defaultPort`). Host names are refused: a DNS server must not depend on DNS to start.
 */
export function parseListenAddress(text: string, defaultPort = 53): ListenAddress {
  const s = text.trim();
  const bad = (why: string): ListenAddressError => new ListenAddressError(`invalid listen address "${text}": ${why}`);
  if (s === '') throw bad('empty');
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw bad('missing "]" after the IPv6 address');
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw bad('expected ":port" after "]"');
      portText = rest.slice(1);
    }
    if (net.isIPv6(host) === false) throw bad(`"${host}" is not an IPv6 address`);
  } else if (s.startsWith(':') && !s.startsWith('::')) {
    host = '';
    portText = s.slice(1);
  } else if (s.startsWith('*:')) {
    host = '';
    portText = s.slice(2);
  } else if (net.isIPv6(s)) {
    throw bad(`IPv6 addresses need brackets, e.g. "[${s}]:${defaultPort}"`);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0) {
      host = s.slice(0, colon);
      portText = s.slice(colon + 1);
    } else host = s;
    if (host.includes(':')) throw bad('IPv6 addresses need brackets, e.g. "[::1]:53"');
    if (!net.isIPv4(host)) throw bad(`"${host}" is not an IP address (host names are not accepted)`);
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw bad(`port "${portText}" is not a number`);
    port = Number(portText);
    if (port > 65535) throw bad(`port ${port} is above 65535`);
  }
  if (host === '') return { host: '::', port, family: 'IPv6', dualStack: true };
  return { host, port, family: host.includes(':') ? 'IPv6' : 'IPv4', dualStack: false };
}

/** Print a ListenAddress back in the accepted syntax. */
export function formatListenAddress(a: ListenAddress): string {
  return a.dualStack ? `:${a.port}` : fmt(a.host, a.port);
}

/** `host:port`, with brackets around an IPv6 host. */
export function fmt(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
