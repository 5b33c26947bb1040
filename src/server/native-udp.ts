// Loader and types for the batched UDP addon (src/server/native/udp.c, built into dist/server/native/udp.node).

import { loadAddon } from './native-load.js';

/** One socket of the addon. The buffers are shared with the C side and reused for every batch. */
export interface NativeSocket {
  readonly handle: object;
  readonly fd: number;
  readonly port: number;
  readonly family: 4 | 6;
  readonly input: ArrayBuffer;
  /** Per slot, the octets of a datagram beyond the first `slot` (up to 65535 in all). */
  readonly overflow: ArrayBuffer;
  readonly output: ArrayBuffer;
  readonly meta: ArrayBuffer;
  readonly outLen: ArrayBuffer;
}

export interface NativeUdp {
  /** Datagrams per batch, octets per slot, octets per overflow area, int32 fields of `meta` per datagram. */
  readonly batch: number;
  readonly slot: number;
  readonly overflow: number;
  readonly meta: number;
  /** `zone`: the interface (name or index) of a link-local IPv6 address, "" for none. */
  open(family: 4 | 6, address: Uint8Array, port: number, v6only: number, recvBuffer: number, reusePort: number, zone: string): NativeSocket;
  adopt(fd: number): NativeSocket;
  start(handle: object, onBatch: (count: number) => void): void;
  pause(handle: object): void;
  /** 0, or the errno of a failed send. */
  sendTo(handle: object, bytes: Uint8Array, family: 4 | 6, address: Uint8Array, port: number, scope: number): number;
  close(handle: object): void;
}

const FUNCTIONS = ['open', 'adopt', 'start', 'pause', 'sendTo', 'close'] as const;

let loaded: { readonly udp?: NativeUdp; readonly why?: string } | undefined;

function isNativeUdp(m: unknown): m is NativeUdp {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return FUNCTIONS.every((f) => typeof r[f] === 'function') && typeof r['batch'] === 'number' && typeof r['slot'] === 'number' && typeof r['overflow'] === 'number';
}

function load(): { readonly udp?: NativeUdp; readonly why?: string } {
  if (process.platform !== 'linux') return { why: `not built for ${process.platform} (recvmmsg/sendmmsg are Linux calls)` };
  const r = loadAddon('udp', isNativeUdp);
  return r.addon !== undefined ? { udp: r.addon } : { why: r.why ?? '' };
}

/** How UDP is served: the addon (`batched`), node:dgram, or the addon when it was built (`auto`). */
export type UdpIo = 'auto' | 'batched' | 'dgram';

/** The addon when `io` asks for it and it is there; throws when `io` is 'batched' and it is not. */
export function batchedUdpFor(io: UdpIo): NativeUdp | undefined {
  if (io === 'dgram') return undefined;
  const udp = nativeUdp();
  if (udp === undefined && io === 'batched') throw new Error(`udp.io is "batched" but batched UDP is not available: ${nativeUdpUnavailable()}`);
  return udp;
}

/** The addon, or undefined when it is not available here. */
export function nativeUdp(): NativeUdp | undefined {
  loaded ??= load();
  return loaded.udp;
}

/** Why nativeUdp() is undefined ('' when it is available). */
export function nativeUdpUnavailable(): string {
  loaded ??= load();
  return loaded.why ?? '';
}
