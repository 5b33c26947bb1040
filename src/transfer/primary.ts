// Primary-side bookkeeping: the SOA serial policy applied at load (keep refuses, the others bump), the persisted
// serial state, the IXFR journal fed from reload diffs, and NOTIFY out with retries and backoff (RFC 1996).

import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { PeerConfig, SerialPolicy } from '../config/types.js';
import type { Name } from '../wire/name.js';
import { RRType } from '../wire/constants.js';
import type { RR } from '../zone/model.js';
import type { ZoneSnapshot } from '../zone/snapshot.js';
import { diffRecordsAsync, soaSerial } from './changeset.js';
import { sendNotify } from './client.js';
import { atomicWrite, Journal } from './journal.js';
import { nextSerial, serialGt } from './serial.js';
import { transferStats } from './stats.js';

/** What the leader remembers about a primary zone between loads and restarts. */
export interface SerialState {
  /** Hash of the zone file(s) last served. */
  readonly fingerprint: string;
  /** SERIAL written in the file then. */
  readonly fileSerial: number;
  /** SERIAL actually served (after the policy). */
  readonly servedSerial: number;
}

export function readSerialState(path: string): SerialState | undefined {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as Partial<SerialState>;
    if (typeof s.fingerprint !== 'string' || typeof s.fileSerial !== 'number' || typeof s.servedSerial !== 'number') return undefined;
    return { fingerprint: s.fingerprint, fileSerial: s.fileSerial, servedSerial: s.servedSerial };
  } catch {
    return undefined;
  }
}

export async function writeSerialState(path: string, st: SerialState): Promise<void> {
  await atomicWrite(path, [Buffer.from(JSON.stringify(st) + '\n', 'utf8')]);
}

/**
 * The serial to serve for a freshly loaded file. Unchanged file: the serial served before. Changed file whose
 * serial increased (RFC 1982): the file's serial. Otherwise `keep` refuses the load and the other policies bump
 * the previously served serial (RFC 1982 §3.1 addition).
 */
export function effectiveSerial(prev: SerialState | undefined, fingerprint: string, fileSerial: number, policy: SerialPolicy, now: Date): number | { readonly error: string } {
  if (!prev) return fileSerial;
  if (prev.fingerprint === fingerprint) return prev.servedSerial;
  if (serialGt(fileSerial, prev.servedSerial)) return fileSerial;
  if (policy === 'keep') {
    return { error: `zone changed but its SOA serial ${fileSerial} is not greater than the served serial ${prev.servedSerial} (serial: keep); increase the serial or use serial: increment` };
  }
  return nextSerial(prev.servedSerial, policy, now);
}

/**
 * NOTIFY sender with retries (RFC 1996 §3.6: retransmit until answered, with backoff). A newer NOTIFY for the same
 * zone and peer starts at once and supersedes one still retrying.
 */
export class Notifier {
  private readonly generation = new Map<string, number>();

  constructor(
    private readonly logger: Logger | undefined,
    private readonly opts: { readonly attempts?: number; readonly initialDelayMs?: number; readonly timeoutMs?: number } = {},
  ) {}

  /** NOTIFY every peer with an address. */
  notify(zone: Name, soa: RR | undefined, peers: readonly PeerConfig[]): void {
    for (const p of peers) {
      const key = `${zone.key}|${p.name}`;
      const gen = (this.generation.get(key) ?? 0) + 1;
      this.generation.set(key, gen);
      void this.run(key, gen, zone, soa, p);
    }
  }

  private async run(key: string, gen: number, zone: Name, soa: RR | undefined, peer: PeerConfig): Promise<void> {
    const attempts = this.opts.attempts ?? 5;
    let delay = this.opts.initialDelayMs ?? 1000;
    const z = zone.toString();
    const current = (): boolean => this.generation.get(key) === gen;
    for (let i = 1; i <= attempts; i++) {
      try {
        await sendNotify({ address: peer.address.text, port: peer.port, key: peer.tsig }, zone, soa, this.opts.timeoutMs ?? 2000);
        transferStats.notifySent++;
        this.logger?.info({ event: 'notify.sent', zone: z, peer: peer.name, serial: soa ? soaSerialOf(soa) : undefined, attempt: i }, 'NOTIFY acknowledged');
        return;
      } catch (e) {
        if (!current()) return;
        this.logger?.warn({ event: 'notify.retry', zone: z, peer: peer.name, attempt: i, error: (e as Error).message }, 'NOTIFY not acknowledged');
      }
      if (i < attempts) {
        await new Promise((r) => setTimeout(r, delay).unref());
        delay *= 2;
        if (!current()) return;
      }
    }
    transferStats.notifyFailed++;
    this.logger?.error({ event: 'notify.failed', zone: z, peer: peer.name, attempts }, 'NOTIFY given up');
  }
}

function soaSerialOf(soa: RR): number | undefined {
  try {
    return soaSerial(soa.rdata);
  } catch {
    return undefined;
  }
}

/** The SOA of a snapshot as one record. */
export function snapshotSoa(snap: ZoneSnapshot): RR {
  const s = snap.soa;
  return { owner: s.owner, type: RRType.SOA, class: s.class, ttl: s.ttl, rdata: s.rdata[0]!, meta: s.meta[0]! };
}

/**
 * Append the difference between two served versions to the journal (RFC 1995 §4). Versions with the same serial
 * are not journaled (nothing a client could ask for).
 */
export async function journalChange(journal: Journal, oldSnap: ZoneSnapshot, newSnap: ZoneSnapshot, records: (s: ZoneSnapshot) => Iterable<RR>): Promise<boolean> {
  if (oldSnap.soaInfo.serial === newSnap.soaInfo.serial) return false;
  // Sliced (diffRecordsAsync): a reload of a million-record zone must not stop the query path for seconds.
  const cs = await diffRecordsAsync(withSoa(snapshotSoa(oldSnap), records(oldSnap)), withSoa(snapshotSoa(newSnap), records(newSnap)));
  await journal.append(cs);
  return true;
}

function* withSoa(soa: RR, rest: Iterable<RR>): Generator<RR> {
  yield soa;
  yield* rest;
}
