// UDP listener: one dgram socket per listen address; each datagram goes to the handler, the first answer goes back.

import dgram from 'node:dgram';
import type pino from 'pino';
import {
  clientInfo,
  isAsyncIterable,
  isPromiseLike,
  type ClientInfo,
  type Handler,
  type HandlerResult,
  type ServerStats,
} from './handler.js';
import { fmt, type ListenAddress } from './address.js';
import { RateLimitedLog, silentLogger } from './log.js';

export interface UdpOptions {
  /**
   * SO_RCVBUF in bytes (the kernel caps it at net.core.rmem_max); undefined asks for DEFAULT_RECV_BUFFER, 0 keeps
   * the system default.
   */
  readonly recvBufferSize?: number;
  /** SO_SNDBUF in bytes. */
  readonly sendBufferSize?: number;
  /** SO_REUSEADDR. Off by default so that a second server on the same port fails loudly instead of stealing
   *  traffic; cluster workers do not need it (they share the primary's socket). */
  readonly reuseAddr?: boolean;
  readonly logger?: pino.Logger;
}

/**
 * 4 MiB receive buffer by default. With the usual 208 KiB rmem_default a queue holds only ~270 queries, so a
 * scavenge GC or a few ms of descheduling overflows it and the kernel drops queries; bench/README.md (open-loop
 * loss at 30k qps) has the measurement. The kernel silently caps it at net.core.rmem_max.
 */
export const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;

/**
 * Replies go to `rinfo.address`, always an IP literal: skip node:dgram's default resolver step (dns.lookup, which
 * defers every send by a process.nextTick). Measured with the kit's fixed-reply server under dnsperf: 8.4 -> 7.9 µs
 * of server CPU per query.
 */
function literalLookup(address: string, _opts: unknown, cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  cb(null, address, address.includes(':') ? 6 : 4);
}

/**
 * What both UDP transports share: the handler call, counters, the slow path for asynchronous answers, and a close
 * that waits for them. `P` is how a transport remembers where an answer goes.
 */
export abstract class UdpServing<P> {
  protected closing = false;
  /** Async answers not yet sent. */
  private pending = 0;
  private onIdle: (() => void) | null = null;
  private readonly errLog: RateLimitedLog;
  protected readonly log: pino.Logger;
  protected localAddress = '';
  protected localPort = 0;

  protected constructor(
    protected readonly handler: Handler,
    protected readonly stats: ServerStats,
    protected readonly dualStack: boolean,
    logger: pino.Logger,
  ) {
    this.log = logger;
    this.errLog = new RateLimitedLog(logger, 'DNS handler failed (UDP); request dropped');
  }

  get address(): { readonly address: string; readonly port: number } {
    return { address: this.localAddress, port: this.localPort };
  }

  /** Send one answer outside the fast path; `done` (if given) runs once the socket is finished with it. */
  protected abstract transmit(m: Uint8Array, peer: P, done?: () => void): void;
  /** Stop reading new datagrams (close has begun). */
  protected abstract stopReading(): void;
  /** Release the socket; resolves once it is closed. */
  protected abstract release(): Promise<void>;

  /**
   * Stop serving: new datagrams are dropped at once, async answers still pending are sent if they resolve within
   * `deadlineMs`, then the socket closes.
   */
  close(deadlineMs = 5000): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    this.stopReading();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.onIdle = null;
        // setImmediate: sends issued just before (address lookup runs on nextTick) still go out.
        setImmediate(() => void this.release().then(resolve));
      };
      if (this.pending === 0) {
        finish();
        return;
      }
      this.onIdle = finish;
      timer = setTimeout(finish, deadlineMs);
    });
  }

  /** The handler's result for one datagram; undefined when the handler threw (counted and logged). */
  protected answer(msg: Uint8Array, client: ClientInfo): HandlerResult | undefined {
    try {
      return this.handler(msg, client);
    } catch (err) {
      this.handlerError(err, client);
      return undefined;
    }
  }

  protected handlerError(err: unknown, client: ClientInfo): void {
    this.stats.handlerErrors++;
    this.errLog.error(err, { client: client.address });
  }

  private settle(): void {
    this.pending--;
    if (this.pending === 0 && this.onIdle !== null) this.onIdle();
  }

  /** Arrays, promises and iterables: one datagram carries one message (RFC 1035 §4.2.1), so only the first is sent. */
  protected deliverSlow(r: Exclude<HandlerResult, Uint8Array | null>, peer: P, client: ClientInfo): void {
    const later = (first: PromiseLike<Uint8Array | undefined>): void => {
      this.pending++;
      first.then(
        (m) => {
          if (m === undefined) {
            this.stats.udpDropped++;
            this.settle();
            return;
          }
          this.stats.udpResponses++;
          this.transmit(m, peer, () => this.settle());
        },
        (err: unknown) => {
          this.handlerError(err, client);
          this.settle();
        },
      );
    };
    if (isPromiseLike(r)) {
      later(r.then((v) => v ?? undefined));
      return;
    }
    if (isAsyncIterable(r)) {
      const it = r[Symbol.asyncIterator]();
      later(
        it.next().then((res) => {
          if (res.done === true) return undefined;
          // Only the first message fits a datagram; let the producer clean up.
          void it.return?.()?.catch(() => undefined);
          return res.value;
        }),
      );
      return;
    }
    let first: Uint8Array | undefined;
    try {
      for (const m of r) {
        first = m;
        break; // `break` calls the iterator's return()
      }
    } catch (err) {
      this.handlerError(err, client);
      return;
    }
    if (first === undefined) {
      this.stats.udpDropped++;
      return;
    }
    this.stats.udpResponses++;
    this.transmit(first, peer);
  }
}

/** A node:dgram socket serving one address: one datagram per 'message' event, one send per answer. */
export class UdpListener extends UdpServing<dgram.RemoteInfo> {
  private constructor(
    private readonly socket: dgram.Socket,
    handler: Handler,
    stats: ServerStats,
    dualStack: boolean,
    logger: pino.Logger,
  ) {
    super(handler, stats, dualStack, logger);
  }

  /** Bind `addr` and start serving. Rejects (with the address in the message) when the bind fails. */
  static start(addr: ListenAddress, handler: Handler, stats: ServerStats, opts: UdpOptions = {}): Promise<UdpListener> {
    const logger = opts.logger ?? silentLogger;
    const socket = dgram.createSocket({
      type: addr.family === 'IPv6' ? 'udp6' : 'udp4',
      reuseAddr: opts.reuseAddr ?? false,
      // `[::]` means IPv6 only; the `:53` form asks for a dual-stack socket.
      ipv6Only: addr.family === 'IPv6' && !addr.dualStack,
      lookup: literalLookup,
      ...(opts.recvBufferSize !== 0 ? { recvBufferSize: opts.recvBufferSize ?? DEFAULT_RECV_BUFFER } : {}),
      ...(opts.sendBufferSize !== undefined ? { sendBufferSize: opts.sendBufferSize } : {}),
    });
    const l = new UdpListener(socket, handler, stats, addr.dualStack, logger);
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error): void => {
        socket.close();
        reject(new Error(`cannot listen on udp ${fmt(addr.host, addr.port)}: ${err.message}`, { cause: err }));
      };
      socket.once('error', onBindError);
      socket.bind({ address: addr.host, port: addr.port }, () => {
        socket.off('error', onBindError);
        const a = socket.address();
        l.localAddress = a.address;
        l.localPort = a.port;
        socket.on('error', l.onSocketError);
        socket.on('message', l.onMessage);
        logger.info({ transport: 'udp', address: a.address, port: a.port, io: 'dgram' }, 'listening');
        resolve(l);
      });
    });
  }

  protected stopReading(): void {
    // Datagrams still arriving are counted and dropped by onMessage.
  }

  protected release(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private readonly onSocketError = (err: Error): void => {
    // Errors after bind (ICMP-induced, ENOBUFS...) are per-datagram conditions: log, keep serving.
    this.log.warn({ err, transport: 'udp' }, 'UDP socket error');
  };

  private readonly onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    const stats = this.stats;
    if (this.closing) {
      stats.udpDropped++;
      return;
    }
    stats.udpQueries++;
    const client = clientInfo('udp', rinfo.address, rinfo.family, rinfo.port, this.dualStack, this.localAddress, this.localPort);
    const r = this.answer(msg, client);
    if (r === undefined) return;
    // Fast path: a synchronous single answer.
    if (r instanceof Uint8Array) {
      stats.udpResponses++;
      this.socket.send(r, rinfo.port, rinfo.address, this.onSent);
      return;
    }
    if (r === null) {
      stats.udpDropped++;
      return;
    }
    this.deliverSlow(r, rinfo, client);
  };

  private readonly onSent = (err: Error | null): void => {
    if (err !== null) this.stats.udpSendErrors++;
  };

  protected transmit(m: Uint8Array, peer: dgram.RemoteInfo, done?: () => void): void {
    this.socket.send(m, peer.port, peer.address, (err) => {
      if (err !== null) this.stats.udpSendErrors++;
      done?.();
    });
  }
}
