// The contract between the network transports (UDP/TCP listeners) and the DNS query pipeline.

import type { Replies } from '../wire/message.js';

/** Who sent a request and where it arrived. */
export interface ClientInfo {
  readonly transport: 'udp' | 'tcp';
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
  readonly localAddress: string;
  readonly localPort: number;
}

const MAPPED_V4 = '::ffff:';

/**
 * The ClientInfo of a request from `address` (`family` as the socket reports it) arriving at localAddress:localPort.
 * RFC 4291 §2.5.5.2: on a dual-stack socket IPv4 clients appear as ::ffff:a.b.c.d; they are reported as IPv4.
 */
export function clientInfo(
  transport: 'udp' | 'tcp',
  address: string,
  family: string | undefined,
  port: number,
  dualStack: boolean,
  localAddress: string,
  localPort: number,
): ClientInfo {
  let fam = family === 'IPv6' ? ('IPv6' as const) : ('IPv4' as const);
  if (dualStack && fam === 'IPv6' && address.startsWith(MAPPED_V4) && address.includes('.')) {
    address = address.slice(MAPPED_V4.length);
    fam = 'IPv4';
  }
  return { transport, address, port, family: fam, localAddress, localPort };
}

/**
 * One request → zero or more response messages (UDP sends only the first; TCP writes all, in order: AXFR streams).
 * May return a Promise (e.g. CNAME flattening waits on an upstream) or an (async) iterable.
 */
export type HandlerResult = Replies;

/**
 * Called once per received DNS message (the raw wire bytes, without the TCP length prefix). Returned buffers are
 * sent asynchronously: never modify or reuse one after returning it.
 */
export type Handler = (msg: Uint8Array, client: ClientInfo) => HandlerResult;

/** Mutable counters shared by all listeners of one `startListeners` call (read them, never write them). */
export interface ServerStats {
  /** UDP datagrams handed to the handler. */
  udpQueries: number;
  /** UDP responses handed to the socket. */
  udpResponses: number;
  /**
   * UDP requests answered with nothing (handler returned null / an empty result), arriving while closing, or (batched
   * UDP) over 4096 octets.
   */
  udpDropped: number;
  /** UDP sends that failed (EMSGSIZE, unreachable, ...); batched UDP counts those sent one by one. */
  udpSendErrors: number;
  /** TCP messages handed to the handler. */
  tcpQueries: number;
  /** TCP response messages written (each AXFR message counts). */
  tcpResponses: number;
  /** TCP connections accepted. */
  tcpConnections: number;
  /** TCP connections closed at once because of the total or per-client connection limit. */
  tcpConnectionsRefused: number;
  /** TCP connections closed for a framing error (zero-length or oversized message). */
  tcpProtocolErrors: number;
  /** TCP connections closed by the idle timeout (RFC 7766 §6.2.3). */
  tcpIdleClosed: number;
  /** Idle TCP connections closed to admit a new one while the server was at tcp.max-connections (RFC 7766 §6.2.3). */
  tcpEvicted: number;
  /** TCP connections destroyed because the client did not read its answers (output backlog cap / write stall). */
  tcpSlowReaders: number;
  /** Handler throws / rejections on either transport (the request is dropped). */
  handlerErrors: number;
}

export function newStats(): ServerStats {
  return {
    udpQueries: 0,
    udpResponses: 0,
    udpDropped: 0,
    udpSendErrors: 0,
    tcpQueries: 0,
    tcpResponses: 0,
    tcpConnections: 0,
    tcpConnectionsRefused: 0,
    tcpProtocolErrors: 0,
    tcpIdleClosed: 0,
    tcpEvicted: 0,
    tcpSlowReaders: 0,
    handlerErrors: 0,
  };
}

/** Is `r` a thenable (a Promise from an async handler)? */
export function isPromiseLike(r: object): r is PromiseLike<Uint8Array | null> {
  return typeof (r as { then?: unknown }).then === 'function';
}

/** Is `r` an async iterable? */
export function isAsyncIterable(r: object): r is AsyncIterable<Uint8Array> {
  return typeof (r as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}
