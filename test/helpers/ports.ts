// Allocate free loopback ports for test servers: free on both UDP and TCP, never port 53, never handed out twice.

import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const handedOut = new Set<number>();

function bindTcp(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ port, host, exclusive: true }, () => {
      const addr = srv.address();
      const p = addr !== null && typeof addr === 'object' ? addr.port : null;
      srv.close(() => resolve(p));
    });
  });
}

function bindUdp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind({ port, address: host, exclusive: true }, () => {
      sock.close(() => resolve(true));
    });
  });
}

/**
 * A loopback port that is currently free for both TCP and UDP. The kernel picks it (bind to port 0 on TCP), then
 * the same number is checked on UDP. Ports below 1024 (notably 53) are never returned.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = await bindTcp(0, host);
    if (p === null || p < 1024 || handedOut.has(p)) continue;
    if (!(await bindUdp(p, host))) continue;
    handedOut.add(p);
    return p;
  }
  throw new Error(`no free TCP+UDP port on ${host} after 50 attempts`);
}

/** Several distinct free ports. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await freePort(host));
  return out;
}
