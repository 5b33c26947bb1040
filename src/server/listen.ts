// Starting and stopping the UDP+TCP listeners for the listen addresses (src/server/address.ts).

import cluster from 'node:cluster';
import { closeSync } from 'node:fs';
import type pino from 'pino';
import { newStats, type Handler, type ServerStats } from './handler.js';
import { silentLogger } from './log.js';
import { DEFAULT_TCP_LIMITS, TcpListener, type TcpLimits, type TlsIdentity } from './tcp.js';
import { LocalLedger, type ConnectionLedger } from './tcp-ledger.js';
import { batchedUdpFor, type NativeSocket, type UdpIo } from './native-udp.js';
import { UdpListener, type UdpOptions } from './udp.js';
import { formatListenAddress, parseListenAddress, type ListenAddress } from './address.js';
import { BatchedUdpListener, bindError, openBatchedSocket } from './udp-batch.js';

export interface ListenerOptions {
  /** Serve UDP (default true). */
  readonly udp?: boolean;
  /** Serve TCP (default true). */
  readonly tcp?: boolean;
  readonly tcpLimits?: Partial<TcpLimits>;
  /** Counts TCP connections for the limits across processes (default: one ledger for this group's listeners). */
  readonly tcpLedger?: ConnectionLedger;
  readonly udpOptions?: Omit<UdpOptions, 'logger'>;
  /**
   * UDP transport: 'batched' reads and answers datagrams in batches (recvmmsg/sendmmsg, the native addon) and
   * fails when the addon is missing; 'dgram' is node:dgram; 'auto' (default) is batched when the addon was built.
   */
  readonly udpIo?: UdpIo;
  /** UDP sockets a parent process bound and passed down, by listen address (formatListenAddress). */
  readonly inheritedUdp?: ReadonlyMap<string, InheritedUdp>;
  /** DNS over TLS (RFC 7858) on these addresses, with the TCP limits and ledger. */
  readonly tls?: { readonly listen: readonly (string | ListenAddress)[]; readonly identity: TlsIdentity };
  readonly logger?: pino.Logger;
}

/** A bound UDP socket inherited from the parent process as file descriptor `fd`, bound to `port`. */
export interface InheritedUdp {
  readonly fd: number;
  readonly port: number;
}

type AnyUdpListener = UdpListener | BatchedUdpListener;

export interface BoundListener {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
}

export interface Listeners {
  /** Live counters for every listener of this group. */
  readonly stats: Readonly<ServerStats>;
  /** What was actually bound (ports resolved when 0 was asked). */
  readonly bound: readonly BoundListener[];
  /** TCP (and TLS) connections open now on these listeners. */
  tcpOpen(): number;
  /** SIGHUP: the TLS listeners take a new certificate and key. */
  setTlsIdentity(id: TlsIdentity): void;
  /** Graceful stop of everything: stop accepting, finish in-flight answers within `deadlineMs` (default 5 s). */
  close(deadlineMs?: number): Promise<void>;
}

/**
 * Bind UDP and TCP on every address and serve them with `handler`. All-or-nothing: when one bind fails, the ones
 * already opened are closed and the promise rejects with an error naming the address.
 */
export async function startListeners(
  addresses: readonly (string | ListenAddress)[],
  handler: Handler,
  opts: ListenerOptions = {},
): Promise<Listeners> {
  const logger = opts.logger ?? silentLogger;
  const parsed = addresses.map((a) => (typeof a === 'string' ? parseListenAddress(a) : a));
  const stats = newStats();
  const udps: AnyUdpListener[] = [];
  const tcps: TcpListener[] = [];
  const tlss: TcpListener[] = [];
  const udpOpts: UdpOptions = { ...opts.udpOptions, logger };
  // One ledger for every TCP listener: tcp.max-connections counts the server's connections, not one address's.
  const ledger = opts.tcpLedger ?? new LocalLedger({ ...DEFAULT_TCP_LIMITS, ...opts.tcpLimits });
  const tcpOpts = { limits: opts.tcpLimits ?? {}, logger, ledger };
  const wantUdp = opts.udp ?? true;
  const wantTcp = opts.tcp ?? true;
  // A cluster worker never binds a batched socket of its own: the workers would each bind the port (EADDRINUSE),
  // not share it. It serves the sockets the primary bound (inheritedUdp) or node:dgram's shared ones.
  const batched = batchedUdpFor(opts.udpIo ?? 'auto') !== undefined && !cluster.isWorker;
  const startUdp = (a: ListenAddress): Promise<AnyUdpListener> =>
    batched ? BatchedUdpListener.start(a, handler, stats, udpOpts) : UdpListener.start(a, handler, stats, udpOpts);
  try {
    for (const a of parsed) {
      const inherited = wantUdp ? opts.inheritedUdp?.get(formatListenAddress(a)) : undefined;
      if (inherited !== undefined) {
        // The socket the parent bound (port 0 already resolved there); TCP takes the same number.
        udps.push(await BatchedUdpListener.start(a, handler, stats, { inheritedFd: inherited.fd, logger }));
        if (wantTcp) tcps.push(await TcpListener.start({ ...a, port: inherited.port }, handler, stats, tcpOpts));
        continue;
      }
      if (a.port === 0 && wantUdp && wantTcp) {
        // Port 0: let the OS choose for UDP, then take the same number on TCP (retry if that one is busy on TCP).
        let done = false;
        for (let attempt = 0; attempt < 20 && !done; attempt++) {
          const u = await startUdp(a);
          try {
            const t = await TcpListener.start({ ...a, port: u.address.port }, handler, stats, tcpOpts);
            udps.push(u);
            tcps.push(t);
            done = true;
          } catch (err) {
            await u.close(0);
            if (attempt === 19) throw err;
          }
        }
        continue;
      }
      if (wantUdp) udps.push(await startUdp(a));
      if (wantTcp) tcps.push(await TcpListener.start(a, handler, stats, tcpOpts));
    }
    for (const t of opts.tls?.listen ?? []) {
      const a = typeof t === 'string' ? parseListenAddress(t) : t;
      tlss.push(await TcpListener.start(a, handler, stats, { ...tcpOpts, tls: opts.tls!.identity }));
    }
  } catch (err) {
    await Promise.all([...udps.map((u) => u.close(0)), ...[...tcps, ...tlss].map((t) => t.close(0))]);
    throw err;
  }
  const bound: BoundListener[] = [
    ...udps.map((u) => ({ transport: 'udp' as const, ...u.address })),
    ...tcps.map((t) => ({ transport: 'tcp' as const, ...t.address })),
    ...tlss.map((t) => ({ transport: 'tls' as const, ...t.address })),
  ];
  let closing: Promise<void> | null = null;
  return {
    stats,
    bound,
    tcpOpen: () => [...tcps, ...tlss].reduce((n, t) => n + t.connectionCount, 0),
    setTlsIdentity: (id) => {
      for (const t of tlss) t.setTlsIdentity(id);
    },
    close(deadlineMs = 5000): Promise<void> {
      closing ??= Promise.all([...udps.map((u) => u.close(deadlineMs)), ...[...tcps, ...tlss].map((t) => t.close(deadlineMs))]).then(
        () => {
          logger.info('listeners closed');
        },
      );
      return closing;
    },
  };
}

/** Environment variable that tells cluster workers which inherited descriptor serves which listen address. */
const INHERITED_UDP_ENV = 'APEXDNS_UDP_SOCKETS';

/** UDP sockets the cluster primary bound for its workers. */
export interface SharedUdp {
  /** Descriptors to pass down, in order (ClusterOptions.inheritFds). */
  readonly fds: readonly number[];
  /** Environment for the workers (ClusterOptions.workerEnv). */
  readonly env: Readonly<Record<string, string>>;
  /** Close the primary's copies. */
  close(): void;
}

/**
 * Cluster primary: for every address, bind one batched UDP socket per worker slot in one SO_REUSEPORT group, so
 * the kernel spreads client flows over the workers and each worker reads only its own socket. (Workers reading one
 * shared socket all wake for every datagram: bench/ab.mjs, 2 workers, signed mixed load, one shared socket 98k qps
 * at 11.9 µs/q, one reuse-port socket per worker 124k at 8.2 µs/q.) Undefined when UDP stays on
 * node:dgram (`io`, or no addon). `firstFd` is the number the first socket gets in a worker. The sockets stay open
 * for the primary's lifetime: a restarted worker gets its slot's socket again. Throws, naming the address, when
 * a bind fails.
 */
export function bindSharedUdp(
  addresses: readonly string[],
  io: UdpIo,
  workers: number,
  firstFd: number,
  recvBufferSize?: number,
): SharedUdp | undefined {
  const udp = batchedUdpFor(io);
  if (udp === undefined) return undefined;
  const opened: NativeSocket[] = [];
  const table: [string, number, number[]][] = [];
  for (const text of addresses) {
    const a = parseListenAddress(text);
    try {
      // A plain bind first: it fails while anything holds the port (another daemon's reuse-port group included),
      // so a second apexdns on the same address stops with EADDRINUSE instead of quietly joining the group. It
      // also turns port 0 into the number every worker's socket then takes.
      const probe = openBatchedSocket(udp, a, 0, false);
      udp.close(probe.handle);
      const slots: number[] = [];
      for (let w = 0; w < workers; w++) {
        opened.push(openBatchedSocket(udp, { ...a, port: probe.port }, recvBufferSize, true));
        slots.push(firstFd + opened.length - 1);
      }
      table.push([formatListenAddress(a), probe.port, slots]);
    } catch (err) {
      for (const s of opened) udp.close(s.handle);
      throw bindError(a, err);
    }
  }
  return {
    fds: opened.map((s) => s.fd),
    env: { [INHERITED_UDP_ENV]: JSON.stringify(table) },
    close: () => {
      for (const s of opened) udp.close(s.handle);
    },
  };
}

/**
 * Cluster worker in slot `slot`: its sockets among those bindSharedUdp passed down (undefined when there are none).
 * The other slots' descriptors are closed here: only the primary keeps them.
 */
export function inheritedUdpSockets(slot: number, env: NodeJS.ProcessEnv = process.env): ReadonlyMap<string, InheritedUdp> | undefined {
  const text = env[INHERITED_UDP_ENV];
  if (text === undefined || text === '') return undefined;
  const rows: unknown = JSON.parse(text);
  if (!Array.isArray(rows)) return undefined;
  const out = new Map<string, InheritedUdp>();
  for (const r of rows as unknown[]) {
    if (!Array.isArray(r) || typeof r[0] !== 'string' || typeof r[1] !== 'number' || !Array.isArray(r[2])) continue;
    const fds = (r[2] as unknown[]).filter((fd): fd is number => typeof fd === 'number');
    const mine = fds[slot];
    if (mine === undefined) continue;
    out.set(r[0], { fd: mine, port: r[1] });
    for (const fd of fds) if (fd !== mine) closeSync(fd);
  }
  return out;
}
