// Accounting of open TCP connections against `tcp.max-connections` and `max-connections-per-client` for the whole
// server: one count for every listener of a process, and with several workers one table in shared memory
// (src/server/native-shm.ts) that all of them add to, so the documented limits hold for the server, not per worker.

/** Why a connection was or was not admitted. */
export type Admission = 'ok' | 'server-full' | 'client-full';

export interface ConnectionLedger {
  /** Count a new connection from `client`; anything but 'ok' means nothing was counted. */
  acquire(client: string): Admission;
  /** Uncount a connection `acquire` admitted. */
  release(client: string): void;
}

export interface LedgerLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
}

/** One process: exact counts in maps. */
export class LocalLedger implements ConnectionLedger {
  private open = 0;
  private readonly perClient = new Map<string, number>();

  constructor(private readonly limits: LedgerLimits) {}

  acquire(client: string): Admission {
    const n = this.perClient.get(client) ?? 0;
    if (n >= this.limits.maxConnectionsPerClient) return 'client-full';
    if (this.open >= this.limits.maxConnections) return 'server-full';
    this.open++;
    this.perClient.set(client, n + 1);
    return 'ok';
  }

  release(client: string): void {
    this.open--;
    const n = (this.perClient.get(client) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(client);
    else this.perClient.set(client, n);
  }
}

/** Per-client counters per table region: two hashes of the address index them (a count-min sketch). */
const CLIENT_COUNTERS = 4096;
/** int32 per region: the total, then two rows of client counters. */
const REGION = 1 + 2 * CLIENT_COUNTERS;

/** int32 values the shared table needs for `workers` worker slots (one region each, plus the server-wide one). */
export function ledgerTableSize(workers: number): number {
  return (workers + 1) * REGION;
}

function hashes(client: string): readonly [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < client.length; i++) {
    const c = client.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return [1 + ((a >>> 0) % CLIENT_COUNTERS), 1 + CLIENT_COUNTERS + ((b >>> 0) % CLIENT_COUNTERS)];
}

/**
 * All workers: region 0 holds the server-wide counts, region `slot + 1` what this worker added to them. Admission adds
 * first and checks after (Atomics: two workers can never both take the last place). A client's count is the smaller of
 * its two counters, never below its true count, so the per-client limit always holds; an unlucky collision can only
 * refuse early. A worker that replaces a dead one in the same slot takes that one's counts back out of region 0.
 */
export class SharedLedger implements ConnectionLedger {
  private readonly own: number;

  constructor(
    private readonly table: Int32Array,
    slot: number,
    private readonly limits: LedgerLimits,
  ) {
    this.own = (slot + 1) * REGION;
    if (table.length < this.own + REGION) throw new RangeError(`TCP ledger table too small for worker slot ${slot}`);
    for (let i = 0; i < REGION; i++) {
      const left = Atomics.exchange(table, this.own + i, 0);
      if (left !== 0) Atomics.sub(table, i, left);
    }
  }

  private add(i: number, d: number): number {
    Atomics.add(this.table, this.own + i, d);
    return Atomics.add(this.table, i, d) + d;
  }

  acquire(client: string): Admission {
    const [a, b] = hashes(client);
    const n = Math.min(this.add(a, 1), this.add(b, 1));
    if (n > this.limits.maxConnectionsPerClient) {
      this.add(a, -1);
      this.add(b, -1);
      return 'client-full';
    }
    if (this.add(0, 1) > this.limits.maxConnections) {
      this.add(0, -1);
      this.add(a, -1);
      this.add(b, -1);
      return 'server-full';
    }
    return 'ok';
  }

  release(client: string): void {
    const [a, b] = hashes(client);
    this.add(a, -1);
    this.add(b, -1);
    this.add(0, -1);
  }
}
