// Memory shared by the worker processes through the shm addon (src/server/native/shm.c): a file on tmpfs mapped
// MAP_SHARED by every process, seen as one Int32Array (Atomics operate on it across processes).

import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from './native-load.js';

interface ShmAddon {
  map(path: string, size: number): ArrayBuffer;
}

function isShm(m: unknown): m is ShmAddon {
  return typeof m === 'object' && m !== null && typeof (m as Record<string, unknown>)['map'] === 'function';
}

let loaded: { readonly addon?: ShmAddon; readonly why?: string } | undefined;

/** Why shared tables are not available here ('' when they are). */
export function sharedMemoryUnavailable(): string {
  loaded ??= loadAddon('shm', isShm);
  return loaded.why ?? '';
}

/** `int32s` int32 values in the file at `path` (created zero-filled), shared with every process mapping it. */
export function mapSharedInt32(path: string, int32s: number): Int32Array | undefined {
  loaded ??= loadAddon('shm', isShm);
  return loaded.addon === undefined ? undefined : new Int32Array(loaded.addon.map(path, int32s * 4));
}

/** A fresh path for a shared table: on /dev/shm (tmpfs) when there is one, else in the temp directory. */
export function sharedTablePath(what: string): string {
  const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return join(dir, `apexdns-${what}-${process.pid}-${Date.now().toString(36)}`);
}
