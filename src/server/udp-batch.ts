// Batched UDP listener (Linux): datagrams come in and answers go out in batches through the native addon
// (recvmmsg/sendmmsg), with one JavaScript call per batch instead of one event and one send call per datagram.

import type pino from 'pino';
import { networkInterfaces } from 'node:os';
import { formatIPv6, isLinkLocalIPv6, parseIp } from '../util/ip.js';
import type { ClientInfo, Handler, ServerStats } from './handler.js';
import { fmt, type ListenAddress } from './address.js';
import { silentLogger } from './log.js';
import { nativeUdp, type NativeSocket, type NativeUdp } from './native-udp.js';
import { DEFAULT_RECV_BUFFER, UdpServing } from './udp.js';

export interface BatchedUdpOptions {
  /** SO_RCVBUF in bytes for a socket opened here (0 keeps the system default; undefined: DEFAULT_RECV_BUFFER). */
  readonly recvBufferSize?: number;
  /** A socket bound by the parent process and inherited as this file descriptor, instead of binding one. */
  readonly inheritedFd?: number;
  readonly logger?: pino.Logger;
}

/** Where an answer goes: the sender's address as the kernel reported it. */
interface Peer {
  readonly ipVersion: 4 | 6;
  readonly port: number;
  readonly scope: number;
  /** The 4 or 16 address octets. */
  octets(): Uint8Array;
}

/**
 * The client of one datagram. The sender's address is kept as the four int32 words of `meta` (plain numbers: no
 * typed array per datagram); its octets and text are only made when something reads them (the query log, ACLs,
 * an answer sent later), which the answer-cache path never does.
 */
class BatchClient implements ClientInfo, Peer {
  readonly transport = 'udp';
  private text: string | undefined;

  constructor(
    readonly ipVersion: 4 | 6,
    readonly port: number,
    private readonly w0: number,
    private readonly w1: number,
    private readonly w2: number,
    private readonly w3: number,
    readonly scope: number,
    private readonly dualStack: boolean,
    readonly localAddress: string,
    readonly localPort: number,
  ) {}

  octets(): Uint8Array {
    return new Uint8Array(Int32Array.of(this.w0, this.w1, this.w2, this.w3).buffer, 0, this.ipVersion === 4 ? 4 : 16);
  }

  /** An IPv4 client on a dual-stack socket: ::ffff:a.b.c.d (RFC 4291 §2.5.5.2), reported as IPv4. */
  private get mapped(): boolean {
    if (!this.dualStack || this.ipVersion === 4 || this.w0 !== 0 || this.w1 !== 0) return false;
    const o = this.octets();
    return o[8] === 0 && o[9] === 0 && o[10] === 0xff && o[11] === 0xff;
  }

  get address(): string {
    if (this.text === undefined) {
      const o = this.octets();
      if (this.ipVersion === 4) this.text = o.join('.');
      else if (this.mapped) this.text = o.subarray(12).join('.');
      // RFC 4007 §11: a link-local sender is written with its zone, as node:dgram reports it (`fe80::1%eth0`).
      else this.text = this.scope !== 0 && isLinkLocalIPv6(o) ? `${formatIPv6(o)}%${interfaceName(this.scope)}` : formatIPv6(o);
    }
    return this.text;
  }

  get family(): 'IPv4' | 'IPv6' {
    return this.ipVersion === 4 || this.mapped ? 'IPv4' : 'IPv6';
  }
}

const interfaceNames = new Map<number, string>();
/** The name of the interface with index `scope` (its IPv6 addresses carry it as `scopeid`), else the number. */
function interfaceName(scope: number): string {
  let name = interfaceNames.get(scope);
  if (name === undefined) {
    name = String(scope);
    for (const [n, addrs] of Object.entries(networkInterfaces())) {
      if (addrs?.some((a) => a.family === 'IPv6' && a.scopeid === scope)) name = n;
    }
    if (interfaceNames.size < 256) interfaceNames.set(scope, name);
  }
  return name;
}

/** A UDP socket served in batches through the native addon. */
export class BatchedUdpListener extends UdpServing<Peer> {
  private readonly input: Uint8Array;
  private readonly overflow: Uint8Array;
  private readonly output: Uint8Array;
  private readonly meta: Int32Array;
  private readonly outLen: Int32Array;

  private constructor(
    private readonly udp: NativeUdp,
    private readonly sock: NativeSocket,
    handler: Handler,
    stats: ServerStats,
    dualStack: boolean,
    logger: pino.Logger,
  ) {
    super(handler, stats, dualStack, logger);
    this.input = new Uint8Array(sock.input);
    this.overflow = new Uint8Array(sock.overflow);
    this.output = new Uint8Array(sock.output);
    this.meta = new Int32Array(sock.meta);
    this.outLen = new Int32Array(sock.outLen);
  }

  /** Bind `addr` (or adopt the inherited socket) and start serving; rejects naming the address when that fails. */
  static start(addr: ListenAddress, handler: Handler, stats: ServerStats, opts: BatchedUdpOptions = {}): Promise<BatchedUdpListener> {
    const udp = nativeUdp();
    if (udp === undefined) return Promise.reject(new Error('batched UDP is not available'));
    const logger = opts.logger ?? silentLogger;
    let sock: NativeSocket;
    try {
      if (opts.inheritedFd !== undefined) sock = udp.adopt(opts.inheritedFd);
      else sock = openBatchedSocket(udp, addr, opts.recvBufferSize);
    } catch (err) {
      return Promise.reject(bindError(addr, err));
    }
    const l = new BatchedUdpListener(udp, sock, handler, stats, addr.dualStack, logger);
    l.localAddress = addr.host;
    l.localPort = sock.port;
    udp.start(sock.handle, l.onBatch);
    logger.info({ transport: 'udp', address: addr.host, port: sock.port, io: 'batched' }, 'listening');
    return Promise.resolve(l);
  }

  protected stopReading(): void {
    this.udp.pause(this.sock.handle);
  }

  protected release(): Promise<void> {
    this.udp.close(this.sock.handle);
    return Promise.resolve();
  }

  protected transmit(m: Uint8Array, peer: Peer, done?: () => void): void {
    if (this.udp.sendTo(this.sock.handle, m, peer.ipVersion, peer.octets(), peer.port, peer.scope) !== 0) this.stats.udpSendErrors++;
    done?.();
  }

  /** `count` datagrams are in the input slots; answers written to the output slots are sent when this returns. */
  private readonly onBatch = (count: number): void => {
    const { udp, input, output, meta, outLen, stats } = this;
    const slot = udp.slot;
    for (let i = 0; i < count; i++) {
      const m = i * udp.meta;
      const len = meta[m]!;
      // -1: the kernel truncated a datagram over 65535 octets (none can be that long, RFC 768); dropped.
      if (len < 0) {
        stats.udpDropped++;
        continue;
      }
      stats.udpQueries++;
      // An own copy: the slot is overwritten by the next batch, and an answer may be produced later. A query over
      // one slot (large EDNS options or TSIG are legal) continues in the slot's overflow area.
      const msg = Buffer.allocUnsafe(len);
      if (len <= slot) msg.set(input.subarray(i * slot, i * slot + len));
      else {
        msg.set(input.subarray(i * slot, (i + 1) * slot));
        msg.set(this.overflow.subarray(i * udp.overflow, i * udp.overflow + len - slot), slot);
      }
      const client = new BatchClient(
        meta[m + 1] === 6 ? 6 : 4, meta[m + 2]!, meta[m + 3]!, meta[m + 4]!, meta[m + 5]!, meta[m + 6]!, meta[m + 7]!,
        this.dualStack, this.localAddress, this.localPort,
      );
      const r = this.answer(msg, client);
      if (r === undefined) continue;
      if (r instanceof Uint8Array) {
        stats.udpResponses++;
        if (r.length <= slot) {
          output.set(r, i * slot);
          outLen[i] = r.length;
        } else this.transmit(r, client);
        continue;
      }
      if (r === null) {
        stats.udpDropped++;
        continue;
      }
      this.deliverSlow(r, client, client);
    }
  };
}

/** A failed bind, worded as node:dgram's: `cannot listen on udp 127.0.0.1:53: bind EADDRINUSE 127.0.0.1:53`. */
export function bindError(addr: ListenAddress, err: unknown): Error {
  const where = fmt(addr.host, addr.port);
  return new Error(`cannot listen on udp ${where}: ${err instanceof Error ? err.message : String(err)} ${where}`, { cause: err });
}

/** Bind a socket for `addr` through the addon (not yet read from). Throws on failure. */
export function openBatchedSocket(udp: NativeUdp, addr: ListenAddress, recvBuffer = DEFAULT_RECV_BUFFER, reusePort = false): NativeSocket {
  // RFC 4007 §11: `fe80::1%eth0`, a link-local address and the interface it lives on.
  const pct = addr.host.indexOf('%');
  const ip = parseIp(pct < 0 ? addr.host : addr.host.slice(0, pct));
  if (ip === undefined) throw new Error(`"${addr.host}" is not an IP address`);
  const zone = pct < 0 ? '' : addr.host.slice(pct + 1);
  // `[::]` means IPv6 only; the `:53` form asks for a dual-stack socket.
  return udp.open(ip.family, ip.bytes, addr.port, ip.family === 6 && !addr.dualStack ? 1 : 0, recvBuffer, reusePort ? 1 : 0, zone);
}
