// Small UDP/TCP clients for the transport tests (loopback only).

import dgram from 'node:dgram';
import net from 'node:net';
import { Deframer, frame } from '../../src/server/frame.js';

/** Send one datagram and wait for one answer (rejects after `timeoutMs`). */
export function udpAsk(host: string, port: number, msg: Uint8Array, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(msg, port, host);
  });
}

/** Send one datagram and resolve true when NO answer arrives within `waitMs`. */
export function udpSilent(host: string, port: number, msg: Uint8Array, waitMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(true);
    }, waitMs);
    s.once('message', () => {
      clearTimeout(timer);
      s.close();
      resolve(false);
    });
    s.send(msg, port, host);
  });
}

export interface TcpTestClient {
  readonly socket: net.Socket;
  /** Messages received so far (deframed). */
  readonly messages: Buffer[];
  /** Resolves when at least `n` messages have arrived (rejects on timeout). */
  waitFor(n: number, timeoutMs?: number): Promise<Buffer[]>;
  send(msg: Uint8Array): void;
  /** Resolves when the server closed the connection (end or close), with the time it took since connect. */
  readonly closed: Promise<number>;
}

export function tcpConnect(host: string, port: number): Promise<TcpTestClient> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket = net.connect({ host, port });
    const messages: Buffer[] = [];
    const d = new Deframer();
    let waiters: (() => void)[] = [];
    socket.on('data', (c) => {
      for (const m of d.push(c)) messages.push(Buffer.from(m));
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    });
    socket.on('error', () => undefined);
    const closed = new Promise<number>((r) => {
      let done = false;
      const fin = (): void => {
        if (!done) {
          done = true;
          r(Date.now() - t0);
        }
      };
      socket.once('end', fin);
      socket.once('close', fin);
    });
    socket.once('connect', () => {
      resolve({
        socket,
        messages,
        closed,
        send: (m) => socket.write(frame(m)),
        waitFor(n, timeoutMs = 3000) {
          return new Promise((res, rej) => {
            const timer = setTimeout(
              () => rej(new Error(`only ${messages.length} of ${n} TCP messages within ${timeoutMs} ms`)),
              timeoutMs,
            );
            const check = (): void => {
              if (messages.length >= n) {
                clearTimeout(timer);
                res(messages.slice());
              } else waiters.push(check);
            };
            check();
          });
        },
      });
    });
    socket.once('error', reject);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Can this host bind ::1? */
export function hasIPv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind({ address: '::1', port: 0 }, () => s.close(() => resolve(true)));
  });
}
