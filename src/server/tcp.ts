// TCP listener (RFC 7766): pipelined queries answered concurrently and out of order, idle timeout, connection
// limits, input/output bounds, and graceful close.

import net from 'node:net';
import tls from 'node:tls';
import type pino from 'pino';
import { Deframer, FrameError, frame, MAX_MESSAGE } from './frame.js';
import { clientInfo, isAsyncIterable, isPromiseLike, type ClientInfo, type Handler, type HandlerResult, type ServerStats } from './handler.js';
import { fmt, type ListenAddress } from './address.js';
import { RateLimitedLog, silentLogger } from './log.js';
import { LocalLedger, type ConnectionLedger } from './tcp-ledger.js';

export interface TcpLimits {
  /** Close a connection with no pending query for this long (RFC 7766 §6.2.3); also the write-stall timeout. */
  readonly idleTimeoutMs: number;
  /** Connections open at once on the whole server (see ConnectionLedger); more are closed at once. */
  readonly maxConnections: number;
  /** Connections open at once from one client address, on the whole server. */
  readonly maxConnectionsPerClient: number;
  /** Queries of one connection being answered at once; reading pauses while over it. */
  readonly maxInFlightPerConnection: number;
  /** Bytes of unsent answers a connection may hold; beyond it the connection is destroyed. */
  readonly maxOutputBytes: number;
  /** Longest accepted request message (the 2-octet length allows 65535). */
  readonly maxMessageSize: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = Object.freeze({
  idleTimeoutMs: 10_000,
  maxConnections: 1000,
  maxConnectionsPerClient: 50,
  maxInFlightPerConnection: 100,
  maxOutputBytes: 4 * 1024 * 1024,
  maxMessageSize: MAX_MESSAGE,
});

/** Quiet connections one new connection may close to find a place (see TcpListener.onConnection). */
const EVICTION_TRIES = 4;

/** Certificate chain and private key (PEM) of a DNS-over-TLS listener (RFC 7858). */
export interface TlsIdentity {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TcpOptions {
  /** Serve DNS over TLS (RFC 7858 §3: the same framing as TCP, ALPN "dot" per RFC 7858 §3.1 / RFC 9103). */
  readonly tls?: TlsIdentity;
  readonly limits?: Partial<TcpLimits>;
  readonly logger?: pino.Logger;
  /** Where connections are counted against the limits: shared by every listener of the server (default: this one's own). */
  readonly ledger?: ConnectionLedger;
}

type Streamable = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
/** An answer waiting for its turn behind a streaming (multi-message) answer. */
type Queued = Uint8Array | readonly Uint8Array[] | Streamable;

function isArray(r: object): r is readonly Uint8Array[] {
  return Array.isArray(r);
}

/** A listening TCP server for one address. */
export class TcpListener {
  private readonly conns = new Set<Conn>();
  private closing = false;
  private closePromise: Promise<void> | null = null;
  readonly limits: TcpLimits;
  readonly errLog: RateLimitedLog;
  private localAddress = '';
  private localPort = 0;

  private constructor(
    private readonly server: net.Server,
    readonly handler: Handler,
    readonly stats: ServerStats,
    readonly dualStack: boolean,
    limits: TcpLimits,
    readonly log: pino.Logger,
    private readonly ledger: ConnectionLedger,
  ) {
    this.limits = limits;
    this.errLog = new RateLimitedLog(log, 'DNS handler failed (TCP); request dropped');
  }

  static start(addr: ListenAddress, handler: Handler, stats: ServerStats, opts: TcpOptions = {}): Promise<TcpListener> {
    const logger = opts.logger ?? silentLogger;
    const limits: TcpLimits = Object.freeze({ ...DEFAULT_TCP_LIMITS, ...opts.limits });
    // allowHalfOpen: a client may shut down its sending side after its queries and still read the answers.
    const server: net.Server = opts.tls === undefined
      ? net.createServer({ allowHalfOpen: true, noDelay: true })
      : tls.createServer({
        allowHalfOpen: true,
        noDelay: true,
        cert: opts.tls.cert,
        key: opts.tls.key,
        ALPNProtocols: ['dot'],
        // A handshake that does not finish holds no place in the limits, but must not linger either.
        handshakeTimeout: limits.idleTimeoutMs,
        minVersion: 'TLSv1.2',
      });
    const l = new TcpListener(server, handler, stats, addr.dualStack, limits, logger, opts.ledger ?? new LocalLedger(limits));
    return new Promise((resolve, reject) => {
      const onListenError = (err: Error): void => {
        reject(new Error(`cannot listen on tcp ${fmt(addr.host, addr.port)}: ${err.message}`, { cause: err }));
      };
      server.once('error', onListenError);
      server.listen(
        { host: addr.host, port: addr.port, ipv6Only: addr.family === 'IPv6' && !addr.dualStack, backlog: 1024 },
        () => {
          server.off('error', onListenError);
          server.on('error', (err) => logger.error({ err, transport: 'tcp' }, 'TCP server error'));
          const a = server.address();
          if (a !== null && typeof a === 'object') {
            l.localAddress = a.address;
            l.localPort = a.port;
          }
          if (opts.tls === undefined) server.on('connection', l.onConnection);
          else {
            server.on('secureConnection', l.onConnection);
            server.on('tlsClientError', (err: Error) => logger.debug({ err: err.message }, 'TLS handshake failed'));
          }
          logger.info({ transport: opts.tls === undefined ? 'tcp' : 'tls', address: l.localAddress, port: l.localPort }, 'listening');
          resolve(l);
        },
      );
    });
  }

  get address(): { readonly address: string; readonly port: number } {
    return { address: this.localAddress, port: this.localPort };
  }

  /** A new certificate and key for a TLS listener (SIGHUP); connections open keep theirs. */
  setTlsIdentity(id: TlsIdentity): void {
    if (this.server instanceof tls.Server) this.server.setSecureContext({ cert: id.cert, key: id.key });
  }

  /** Connections currently open. */
  get connectionCount(): number {
    return this.conns.size;
  }

  /**
   * Graceful stop: stop accepting, stop reading new queries, let every in-flight answer be written, close each
   * connection once it has nothing pending; connections still busy after `deadlineMs` are destroyed.
   */
  close(deadlineMs = 5000): Promise<void> {
    if (this.closePromise !== null) return this.closePromise;
    this.closing = true;
    this.closePromise = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const c of this.conns) c.destroy();
      }, deadlineMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      for (const c of [...this.conns]) c.beginDrain();
    });
    return this.closePromise;
  }

  private readonly onConnection = (socket: net.Socket): void => {
    const remote = socket.remoteAddress;
    if (remote === undefined) {
      socket.destroy(); // already gone
      return;
    }
    // RFC 7766 §6.2.2, §10: limit connections in total and per client so one client cannot exhaust the server.
    if (this.closing) {
      this.stats.tcpConnectionsRefused++;
      socket.destroy();
      return;
    }
    let admitted = this.ledger.acquire(remote);
    // RFC 7766 §6.2.3: "under resource pressure" a server may close idle connections. The one of this listener
    // that has been quiet longest (an idle or slow-loris client: partial data is not activity) makes room, so new
    // clients are still served while the limit holds. Another worker may take the freed place first: try again,
    // a few times at most.
    for (let tries = 0; admitted === 'server-full' && tries < EVICTION_TRIES; tries++) {
      const victim = this.longestIdle();
      if (victim === undefined) break;
      victim.evict();
      this.stats.tcpEvicted++;
      admitted = this.ledger.acquire(remote);
    }
    if (admitted !== 'ok') {
      this.stats.tcpConnectionsRefused++;
      socket.destroy();
      return;
    }
    this.stats.tcpConnections++;
    const client = clientInfo('tcp', remote, socket.remoteFamily, socket.remotePort ?? 0, this.dualStack, this.localAddress, this.localPort);
    this.conns.add(new Conn(this, socket, client, remote));
  };

  /** The open connection with nothing pending that saw its last complete message longest ago. */
  private longestIdle(): Conn | undefined {
    let best: Conn | undefined;
    for (const c of this.conns) if (c.idle() && (best === undefined || c.lastActive < best.lastActive)) best = c;
    return best;
  }

  /** Called by a connection once its socket has closed (or it was evicted). */
  released(c: Conn, remoteKey: string): void {
    this.conns.delete(c);
    this.ledger.release(remoteKey);
  }
}

/** One TCP connection: deframes queries, dispatches them, writes answers as they become ready. */
class Conn {
  private readonly deframer: Deframer;
  /** Queries received whose answer is not yet completely handed to the socket (includes `backlog` and `outQueue`). */
  private inFlight = 0;
  /** Received queries not yet dispatched because of the in-flight limit. */
  private readonly backlog: Uint8Array[] = [];
  /** Ready answers waiting behind a multi-message answer (RFC 5936 §2.2: AXFR messages go out consecutively). */
  private readonly outQueue: Queued[] = [];
  private streaming = false;
  private pumping = false;
  private paused = false;
  /** Reading paused because the socket's write buffer is above its high-water mark. */
  private outputFull = false;
  private clientEnded = false;
  private draining = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private lastFlushed = 0;
  private drainWaiter: (() => void) | null = null;
  /** Date.now() of the connection's opening or its last complete message (what eviction compares). */
  lastActive = Date.now();
  /** Its place in the listener and the ledger is given back (by eviction, before the socket's close event). */
  private released = false;

  constructor(
    private readonly owner: TcpListener,
    private readonly socket: net.Socket,
    private readonly client: ClientInfo,
    private readonly remoteKey: string,
  ) {
    this.deframer = new Deframer(owner.limits.maxMessageSize);
    this.timer = setTimeout(this.onTimer, owner.limits.idleTimeoutMs);
    this.timer.unref();
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  destroy(): void {
    if (!this.closed) this.socket.destroy();
  }

  /** Nothing received is waiting for an answer and nothing is waiting to be written. */
  idle(): boolean {
    return !this.closed && !this.released && this.inFlight === 0 && this.socket.writableLength === 0;
  }

  /** Close now and give the place back at once, so the connection that needs it can be admitted. */
  evict(): void {
    this.release();
    this.socket.destroy();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.owner.released(this, this.remoteKey);
  }

  /** Server is closing: read nothing more, finish what was received, then close. */
  beginDrain(): void {
    if (this.closed || this.draining) return;
    this.draining = true;
    this.updateReading();
    this.maybeEnd();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closed || this.draining) return;
    let msgs: readonly Uint8Array[];
    try {
      msgs = this.deframer.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      // RFC 7766 §8 framing broken: the stream cannot be resynchronised, so close.
      this.owner.stats.tcpProtocolErrors++;
      this.owner.log.debug({ client: this.client.address, reason: err.message }, 'TCP framing error; closing');
      this.socket.destroy();
      return;
    }
    const n = msgs.length;
    if (n === 0) return; // partial data does not count as activity (slow-loris clients time out)
    this.timer.refresh();
    this.lastActive = Date.now();
    const max = this.owner.limits.maxInFlightPerConnection;
    for (let i = 0; i < n; i++) {
      const m = msgs[i] as Uint8Array;
      if (this.inFlight >= max || this.backlog.length > 0) {
        this.inFlight++;
        this.backlog.push(m);
      } else {
        this.inFlight++;
        this.dispatch(m);
        if (this.closed) return;
      }
    }
    this.updateReading();
  };

  private readonly onDrain = (): void => {
    this.outputFull = false;
    const w = this.drainWaiter;
    if (w !== null) {
      this.drainWaiter = null;
      w();
    }
    this.updateReading();
    this.maybeEnd();
  };

  private readonly onEnd = (): void => {
    // The client will send nothing more; close our side once every answer is out (RFC 7766 §6.2.3).
    this.clientEnded = true;
    this.maybeEnd();
  };

  private readonly onError = (err: Error): void => {
    this.owner.log.debug({ err, client: this.client.address }, 'TCP connection error');
  };

  private readonly onClose = (): void => {
    this.closed = true;
    clearTimeout(this.timer);
    this.backlog.length = 0;
    this.outQueue.length = 0;
    const w = this.drainWaiter;
    if (w !== null) {
      this.drainWaiter = null;
      w();
    }
    this.release();
  };

  private readonly onTimer = (): void => {
    if (this.closed) return;
    const s = this.socket;
    const pendingOut = s.writableLength;
    if (pendingOut > 0) {
      // Answers are waiting for the client to read them; destroy if nothing at all was flushed for a full period.
      const flushed = (s.bytesWritten ?? 0) - pendingOut;
      if (flushed === this.lastFlushed) {
        this.owner.stats.tcpSlowReaders++;
        s.destroy();
        return;
      }
      this.lastFlushed = flushed;
      this.timer.refresh();
      return;
    }
    if (this.inFlight > 0) {
      // The handler is still working (e.g. waiting on an upstream); its own timeouts bound this.
      this.timer.refresh();
      return;
    }
    if (this.draining || this.clientEnded) {
      s.destroy(); // we already sent FIN and the client never closed
      return;
    }
    // RFC 7766 §6.2.3: idle connection, close it from the server side.
    this.owner.stats.tcpIdleClosed++;
    this.draining = true;
    s.end();
    this.timer.refresh(); // give the client one more period to close, then destroy
  };

  /** RFC 7766 §6.2.1.1, §7: pipelined queries are processed concurrently; each answer is sent as soon as ready,
   *  so answers may leave in a different order than the queries arrived (clients match them by ID). */
  private dispatch(m: Uint8Array): void {
    this.owner.stats.tcpQueries++;
    let r: HandlerResult;
    try {
      r = this.owner.handler(m, this.client);
    } catch (err) {
      this.handlerError(err);
      this.finish();
      return;
    }
    this.deliver(r);
  }

  private handlerError(err: unknown): void {
    this.owner.stats.handlerErrors++;
    this.owner.errLog.error(err, { client: this.client.address });
  }

  private deliver(r: HandlerResult | undefined): void {
    if (this.closed) {
      if (r !== null && r !== undefined && !(r instanceof Uint8Array) && isAsyncIterable(r)) {
        void r[Symbol.asyncIterator]().return?.()?.catch(() => undefined);
      }
      return;
    }
    if (r instanceof Uint8Array) {
      if (this.streaming) this.outQueue.push(r);
      else {
        this.write(r);
        this.finish();
      }
      return;
    }
    if (r === null || r === undefined) {
      this.finish();
      return;
    }
    if (isPromiseLike(r)) {
      r.then(
        (v) => this.deliver(v),
        (err: unknown) => {
          this.handlerError(err);
          if (!this.closed) this.finish();
        },
      );
      return;
    }
    if (this.streaming) {
      this.outQueue.push(r);
      return;
    }
    if (isArray(r)) {
      this.writeAll(r);
      this.finish();
      return;
    }
    void this.stream(r);
  }

  private writeAll(ms: readonly Uint8Array[]): void {
    if (ms.length > 1) this.socket.cork();
    for (const m of ms) {
      if (this.closed) break;
      this.write(m);
    }
    if (ms.length > 1 && !this.closed) this.socket.uncork();
  }

  /** Write one framed message; false when the caller should wait for 'drain'. */
  private write(m: Uint8Array): boolean {
    const s = this.socket;
    if (this.closed || !s.writable) return true;
    let framed: Buffer;
    try {
      framed = frame(m);
    } catch (err) {
      this.handlerError(err); // an answer over 65535 octets is a handler bug
      return true;
    }
    const ok = s.write(framed);
    this.owner.stats.tcpResponses++;
    if (s.writableLength > this.owner.limits.maxOutputBytes) {
      this.owner.stats.tcpSlowReaders++;
      s.destroy();
      return true;
    }
    if (!ok && !this.outputFull) {
      // Stop reading queries until the client reads its answers; the stall clock starts now.
      this.outputFull = true;
      this.lastFlushed = (s.bytesWritten ?? 0) - s.writableLength;
      this.timer.refresh();
      this.updateReading();
    }
    return ok;
  }

  /** Write a multi-message answer, message by message, waiting for 'drain' whenever the socket says so. */
  private async stream(src: Streamable): Promise<void> {
    this.streaming = true;
    try {
      if (isAsyncIterable(src)) {
        for await (const m of src) {
          if (this.closed) break;
          if (!this.write(m)) await this.drained();
          if (this.closed) break;
        }
      } else {
        for (const m of src) {
          if (this.closed) break;
          if (!this.write(m)) await this.drained();
          if (this.closed) break;
        }
      }
    } catch (err) {
      // A transfer broken midway cannot be completed or retracted: close so the client sees the failure.
      this.handlerError(err);
      this.socket.destroy();
    }
    this.streaming = false;
    if (this.closed) return;
    this.finish();
    this.flushQueue();
  }

  private drained(): Promise<void> {
    if (this.closed || !this.outputFull) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiter = resolve;
    });
  }

  private flushQueue(): void {
    while (!this.streaming && !this.closed && this.outQueue.length > 0) {
      const q = this.outQueue.shift() as Queued;
      if (q instanceof Uint8Array) {
        this.write(q);
        this.finish();
      } else if (isArray(q)) {
        this.writeAll(q);
        this.finish();
      } else void this.stream(q);
    }
  }

  /** One query is completely answered (or dropped). */
  private finish(): void {
    this.inFlight--;
    if (this.backlog.length > 0 && !this.pumping) {
      this.pumping = true;
      const max = this.owner.limits.maxInFlightPerConnection;
      // Backlogged queries are already counted in inFlight; dispatch while fewer than `max` are being worked on.
      while (this.backlog.length > 0 && !this.closed && this.inFlight - this.backlog.length < max) {
        this.dispatch(this.backlog.shift() as Uint8Array);
      }
      this.pumping = false;
    }
    if (this.inFlight === 0) {
      this.timer.refresh();
      this.maybeEnd();
    }
    this.updateReading();
  }

  private updateReading(): void {
    if (this.closed) return;
    const pause =
      this.draining ||
      this.outputFull ||
      this.backlog.length > 0 ||
      this.inFlight >= this.owner.limits.maxInFlightPerConnection;
    if (pause !== this.paused) {
      this.paused = pause;
      if (pause) this.socket.pause();
      else this.socket.resume();
    }
  }

  /** Half-close once nothing is pending when the client has ended or the server is draining. */
  private maybeEnd(): void {
    if (this.closed || this.inFlight > 0 || !(this.draining || this.clientEnded)) return;
    if (this.socket.writable) this.socket.end();
    else if (this.clientEnded) this.socket.destroy();
  }
}
