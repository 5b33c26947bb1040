// One secondary zone: SOA checks on the refresh/retry timers, IXFR with AXFR fallback from the primaries in order,
// expiry (SERVFAIL), atomic persistence of the transferred copy, and the overlay (seed "Secondary DNS override").

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { PeerConfig, ZoneConfig } from '../config/types.js';
import { RRType } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { rdataToText, soaFields } from '../wire/rdata/index.js';
import { typeToString, classToString } from '../wire/constants.js';
import type { RR } from '../zone/model.js';
import { buildSnapshotAsync, type ZoneSnapshot } from '../zone/snapshot.js';
import { attachSigningPrepared, type ZoneSigning } from '../dnssec/zone-keys.js';
import { applyChangeset, ChangesetError, soaSerial } from './changeset.js';
import { pullZone, querySoa, TransferError, type Endpoint, type PullCaps } from './client.js';
import { atomicWrite, encodeZoneImage, readZoneImage } from './journal.js';
import { serialGt } from './serial.js';
import { transferStats, type SecondaryStatus } from './stats.js';

/** Transferred records made ready to serve, with the zone's DNSSEC context (live-signed or pre-signed). */
export interface ShapedZone {
  readonly records: readonly RR[];
  /** Attached to the built snapshot before it is published; undefined for unsigned zones. */
  readonly signing?: ZoneSigning | undefined;
}

/** Persisted timer state next to the zone copy. */
interface SecondaryState {
  readonly serial: number;
  /** ms since the epoch of the last successful contact with a primary (RFC 1035 §3.3.13 EXPIRE counts from it). */
  readonly lastSuccess: number;
}

export interface SecondaryDeps {
  readonly logger?: Logger | undefined;
  /** Where the exact binary copy and the state file go (`<base>.xfr`, `<base>.state.json`). */
  readonly statePath: string;
  /** Raw transferred records → records to serve (overlay, proxy, DNSSEC records). Throws with a message when invalid. */
  readonly shape: (raw: readonly RR[]) => Promise<ShapedZone>;
  /** Publish the zone (new data or expiry) to the query path. */
  readonly publish: (snapshot: ZoneSnapshot, expired: boolean) => void;
  /** Called after new data was published (journal, downstream NOTIFY, other workers). */
  readonly changed: (oldSnap: ZoneSnapshot | undefined, newSnap: ZoneSnapshot) => Promise<void>;
  readonly now?: () => number;
  /** Only load and serve the persisted copy; never contact primaries (cluster workers other than the leader). */
  readonly follower?: boolean;
  /** Timeouts for tests. */
  readonly soaTimeoutMs?: number;
  readonly transferTimeoutMs?: number;
}

/** Default retry when the zone was never transferred (no SOA RETRY to use). */
const INITIAL_RETRY_S = 10;
/** setTimeout's upper bound (2^31 - 1 ms). */
const MAX_TIMER_MS = 0x7fffffff;

function endpoint(p: PeerConfig): Endpoint {
  const t = p.tls;
  if (t === undefined) return { address: p.address.text, port: p.port, key: p.tsig };
  // The CA file is read per transfer: a renewed CA needs no reload.
  return { address: p.address.text, port: p.port, key: p.tsig, tls: { ca: t.caFile === undefined ? undefined : readFileSync(t.caFile), servername: t.hostname, pin: t.pin } };
}

export class SecondaryZone {
  private raw: readonly RR[] | undefined;
  private snap: ZoneSnapshot | undefined;
  private lastSuccess = 0;
  /** The last refresh attempt of this process (the leader's; followers make none). */
  private lastRefresh: { readonly at: number; readonly ok: boolean } | undefined;
  private expired = false;
  private timer: NodeJS.Timeout | undefined;
  private expireTimer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;
  private again: 'soa' | 'axfr' | undefined;
  private stopped = false;

  constructor(
    private cfg: ZoneConfig,
    private readonly deps: SecondaryDeps,
  ) {}

  get name(): Name {
    return this.cfg.name;
  }

  get serial(): number | undefined {
    return this.snap?.soaInfo.serial;
  }

  get isExpired(): boolean {
    return this.expired;
  }

  get snapshot(): ZoneSnapshot | undefined {
    return this.snap;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private get log(): Logger | undefined {
    return this.deps.logger;
  }

  /** New config on reload (primaries, refresh, overlay, limits ...): reshape and reschedule. */
  async reconfigure(cfg: ZoneConfig): Promise<void> {
    this.cfg = cfg;
    if (this.raw) {
      try {
        await this.install(this.raw, false, 'reload');
      } catch (e) {
        // Data that no longer fits the new settings (e.g. a lowered cap): the version being served stays.
        this.log?.error({ event: 'zone.reshape-failed', zone: cfg.name.toString(), serial: this.serial, error: (e as Error).message }, 'secondary zone not reshaped on reload; the previous version keeps serving');
      }
    }
    if (!this.deps.follower) this.schedule(0);
  }

  /** Serve the persisted copy at once (restart), then start the timers. */
  async start(): Promise<void> {
    await this.loadPersisted();
    if (this.deps.follower) return;
    if (!this.snap) {
      this.schedule(0);
      return;
    }
    const refreshMs = this.refreshSeconds() * 1000;
    this.armExpire();
    // Resume: the next check is due REFRESH after the last successful contact (immediately when overdue).
    this.schedule(Math.max(0, this.lastSuccess + refreshMs - this.now()));
  }

  /** Follower: reload the copy the leader persisted (IPC "zone updated"). */
  async loadPersisted(): Promise<void> {
    const img = await readZoneImage(`${this.deps.statePath}.xfr`, this.cfg.name);
    if (!img) return;
    let state: SecondaryState | undefined;
    try {
      state = JSON.parse(await readFile(`${this.deps.statePath}.state.json`, 'utf8')) as SecondaryState;
    } catch {
      state = undefined;
    }
    this.lastSuccess = state && state.serial === img.serial ? state.lastSuccess : 0;
    try {
      await this.install(img.records, false, 'persisted');
    } catch (e) {
      this.log?.error({ event: 'zone.load-failed', zone: this.cfg.name.toString(), error: (e as Error).message }, 'persisted secondary copy unusable');
      return;
    }
    // RFC 1035 §3.3.13: past EXPIRE since the last contact, the copy must not be served.
    const expire = this.snap!.soaInfo.expire * 1000;
    if (this.lastSuccess > 0 && this.now() - this.lastSuccess > expire) this.setExpired(true);
  }

  /** Follower: the leader says the zone expired / came back. */
  markExpired(expired: boolean): void {
    if (this.snap && expired !== this.expired) this.setExpired(expired);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.expireTimer) clearTimeout(this.expireTimer);
    this.timer = this.expireTimer = undefined;
  }

  /** Refresh figures for metrics; undefined in a follower, which never refreshes (its data comes from the leader). */
  status(): SecondaryStatus | undefined {
    if (this.deps.follower) return undefined;
    const r = this.lastRefresh;
    const expiresAt = this.snap !== undefined && this.lastSuccess > 0 ? this.lastSuccess + this.snap.soaInfo.expire * 1000 : 0;
    return {
      zone: this.cfg.name.toString(),
      serial: this.snap?.soaInfo.serial ?? 0,
      lastRefresh: r === undefined ? 0 : Math.floor(r.at / 1000),
      lastRefreshOk: r?.ok === true ? 1 : 0,
      expiresIn: this.expired ? 0 : Math.max(0, Math.round((expiresAt - this.now()) / 1000)),
    };
  }

  private refreshSeconds(): number {
    // Seed "Set up incoming zone transfers": the configured refresh replaces SOA REFRESH.
    return this.cfg.refresh ?? this.snap?.soaInfo.refresh ?? INITIAL_RETRY_S;
  }

  private schedule(ms: number): void {
    if (this.stopped || this.deps.follower) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check('soa'), Math.min(Math.max(0, ms), MAX_TIMER_MS));
    this.timer.unref();
  }

  private armExpire(): void {
    if (this.expireTimer) clearTimeout(this.expireTimer);
    if (!this.snap || this.stopped) return;
    const at = this.lastSuccess + this.snap.soaInfo.expire * 1000;
    this.expireTimer = setTimeout(() => {
      if (!this.expired && this.snap && this.now() >= at) {
        this.log?.error({ event: 'zone.expired', zone: this.cfg.name.toString(), serial: this.snap.soaInfo.serial, expire: this.snap.soaInfo.expire }, 'zone expired: no primary reachable within SOA EXPIRE; answering SERVFAIL');
        this.setExpired(true);
      }
    }, Math.min(Math.max(0, at - this.now()), MAX_TIMER_MS));
    this.expireTimer.unref();
  }

  private setExpired(expired: boolean): void {
    this.expired = expired;
    if (this.snap) this.deps.publish(this.snap, expired);
  }

  /**
   * SOA check now (NOTIFY, CLI refresh) or a forced full transfer (CLI retransfer). Concurrent requests are merged:
   * one more run follows the current one. Resolves true when some primary answered.
   */
  check(mode: 'soa' | 'axfr'): Promise<boolean> {
    if (this.deps.follower) return Promise.resolve(false);
    if (this.running) {
      if (this.again !== 'axfr') this.again = mode;
      return this.running;
    }
    this.running = this.run(mode).finally(() => {
      this.running = undefined;
      const again = this.again;
      this.again = undefined;
      if (again && !this.stopped) void this.check(again);
    });
    return this.running;
  }

  private async run(mode: 'soa' | 'axfr'): Promise<boolean> {
    const zone = this.cfg.name.toString();
    const errors: string[] = [];
    for (const peer of this.cfg.primaries) {
      if (this.stopped) return false;
      try {
        await this.fromPrimary(peer, mode);
        this.lastSuccess = this.now();
        this.lastRefresh = { at: this.lastSuccess, ok: true };
        await this.saveState();
        if (this.expired) this.setExpired(false);
        this.armExpire();
        this.schedule(this.refreshSeconds() * 1000);
        return true;
      } catch (e) {
        const msg = (e as Error).message;
        errors.push(`${peer.name}: ${msg}`);
        if (e instanceof TransferError && e.reason === 'limit') {
          this.log?.error({ event: 'transfer.limit-exceeded', zone, primary: peer.name, address: `${peer.address.text}:${peer.port}`, serial: this.serial, error: msg }, 'transfer refused: over a zone limit; the previous version keeps serving');
          continue;
        }
        this.log?.warn({ event: 'transfer.primary-failed', zone, primary: peer.name, address: `${peer.address.text}:${peer.port}`, error: msg }, 'primary failed');
      }
    }
    transferStats.refreshFailed++;
    this.lastRefresh = { at: this.now(), ok: false };
    this.log?.error({ event: 'transfer.all-primaries-failed', zone, serial: this.serial, errors }, 'all primaries failed');
    // RFC 1035 §3.3.13: after a failed refresh, try again after RETRY.
    this.schedule((this.snap?.soaInfo.retry ?? INITIAL_RETRY_S) * 1000);
    return false;
  }

  /** Check one primary and transfer when it is newer (or when forced). Throws on any failure. */
  private async fromPrimary(peer: PeerConfig, mode: 'soa' | 'axfr'): Promise<void> {
    const ep = endpoint(peer);
    const zone = this.cfg.name;
    const started = performance.now();
    const ours = this.raw?.find((r) => r.type === RRType.SOA);
    if (mode === 'soa' && ours) {
      const theirs = await querySoa(ep, zone, this.deps.soaTimeoutMs ?? 5000);
      // RFC 1982 comparison: transfer only when the primary's serial is greater.
      if (!serialGt(soaSerial(theirs.rdata), soaSerial(ours.rdata))) {
        this.log?.debug({ event: 'transfer.uptodate', zone: zone.toString(), primary: peer.name, serial: soaSerial(ours.rdata) }, 'zone up to date');
        return;
      }
    }
    let records: readonly RR[] | undefined;
    let kind: 'AXFR' | 'IXFR' = 'AXFR';
    let messages = 0;
    const caps: PullCaps = { maxRecords: this.cfg.limits.maxRecords, maxBytes: this.cfg.limits.maxFileSize };
    // RFC 1995 §3: IXFR when the peer allows it and we have a version to start from.
    if (mode === 'soa' && ours && peer.ixfr) {
      try {
        const r = await pullZone(ep, zone, ours, this.deps.transferTimeoutMs ?? 120_000, undefined, caps);
        messages = r.messages;
        const res = r.result;
        switch (res.kind) {
          case 'uptodate':
            return;
          case 'retry':
            records = undefined;
            break;
          case 'axfr':
            records = res.records;
            break;
          case 'ixfr': {
            // Apply each difference sequence in turn onto a copy; the served zone is untouched until the swap.
            let cur: readonly RR[] = this.raw!;
            for (const cs of res.changesets) cur = applyChangeset(cur, cs);
            records = cur;
            kind = 'IXFR';
            break;
          }
          default: {
            const never: never = res;
            throw new Error(`unexpected IXFR result ${String(never)}`);
          }
        }
      } catch (e) {
        // RFC 1995 §4: history that does not connect, or an inconsistent stream: fall back to AXFR.
        if (!(e instanceof ChangesetError) && (e as Error).name !== 'TransferStreamError') throw e;
        this.log?.warn({ event: 'transfer.ixfr-fallback', zone: zone.toString(), primary: peer.name, error: (e as Error).message }, 'IXFR failed; falling back to AXFR');
        records = undefined;
      }
    }
    if (!records) {
      const r = await pullZone(ep, zone, undefined, this.deps.transferTimeoutMs ?? 120_000, undefined, caps);
      if (r.result.kind !== 'axfr') throw new Error('AXFR did not return a zone');
      records = r.result.records;
      messages = r.messages;
      kind = 'AXFR';
    }
    const serial = await this.install(records, true, kind, `${kind} from ${peer.name}`);
    if (kind === 'AXFR') transferStats.axfrIn++;
    else transferStats.ixfrIn++;
    this.log?.info(
      { event: 'transfer.succeeded', zone: zone.toString(), primary: peer.name, type: kind, serial, records: records.length, messages, ms: Math.round(performance.now() - started) },
      'transfer succeeded',
    );
  }

  /** Build, (persist,) publish. Throws when the data is not a valid zone; nothing changes then. */
  private async install(raw: readonly RR[], persist: boolean, why: string, source = why): Promise<number> {
    const shaped = await this.deps.shape(raw);
    // Built in time slices: a large transfer does not stall the query path. The zone caps hold for the result
    // (an IXFR applied onto our copy may grow it past limits.max-records).
    const limits = this.cfg.limits;
    const built = await buildSnapshotAsync(this.cfg.name, shaped.records, { maxRrset: limits.maxRrset, maxRecords: limits.maxRecords });
    if (built.limitExceeded !== undefined) throw new TransferError('limit', `${source}: ${built.limitExceeded}; not applied`);
    if (!built.snapshot) {
      const first = built.diagnostics.find((d) => d.severity === 'error');
      throw new Error(`transferred zone is invalid: ${first?.message ?? 'unknown error'}`);
    }
    const snap = built.snapshot;
    // The signing context must be attached before the snapshot can be seen by a query (RFC 4035 §3.1: DO=1 answers
    // of a signed zone carry RRSIGs from the first one on).
    if (shaped.signing) await attachSigningPrepared(snap, shaped.signing);
    if (persist) await this.persist(raw, snap.soaInfo.serial);
    const old = this.snap;
    this.raw = raw;
    this.snap = snap;
    this.deps.publish(snap, this.expired);
    if (why !== 'persisted') await this.deps.changed(old, snap);
    return snap.soaInfo.serial;
  }

  /** Exact binary copy + readable zone file, each replaced atomically, then the state. */
  private async persist(raw: readonly RR[], serial: number): Promise<void> {
    await atomicWrite(`${this.deps.statePath}.xfr`, encodeZoneImage(this.cfg.name, serial, raw));
    await atomicWrite(this.cfg.file, [Buffer.from(zoneFileText(this.cfg.name, raw), 'utf8')]);
  }

  private async saveState(): Promise<void> {
    if (!this.snap) return;
    const st: SecondaryState = { serial: this.snap.soaInfo.serial, lastSuccess: this.lastSuccess };
    await atomicWrite(`${this.deps.statePath}.state.json`, [Buffer.from(JSON.stringify(st) + '\n', 'utf8')]);
  }
}

/** RFC 1035 §5 master-file text of a transferred zone (absolute names, explicit TTL and class), SOA first. */
export function zoneFileText(origin: Name, records: readonly RR[]): string {
  const lines: string[] = [`; zone ${origin.toString()} as transferred by apexdns; written automatically, do not edit`];
  const soa = records.find((r) => r.type === RRType.SOA);
  const line = (r: RR): string => `${r.owner.toString()}\t${r.ttl}\t${classToString(r.class)}\t${typeToString(r.type)}\t${rdataToText(r.type, r.rdata)}`;
  if (soa) lines.push(line(soa));
  for (const r of records) if (r.type !== RRType.SOA) lines.push(line(r));
  return lines.join('\n') + '\n';
}

/**
 * Seed "Secondary DNS override": overlay records on the transferred data. An overlay A/AAAA/CNAME marked
 * `cf-proxied:true` at a name that has transferred A/AAAA/CNAME records marks those proxied (the overlay record
 * itself is then not added); an apex CNAME in the overlay deactivates the transferred apex A/AAAA; every other
 * overlay record is added.
 */
export function applyOverlay(origin: Name, raw: readonly RR[], overlay: readonly RR[]): RR[] {
  const ADDR = new Set<number>([RRType.A, RRType.AAAA, RRType.CNAME]);
  const proxiedOwners = new Set<string>();
  let apexCname = false;
  const extra: RR[] = [];
  const rawAddrOwners = new Set<string>();
  for (const r of raw) if (ADDR.has(r.type)) rawAddrOwners.add(r.owner.key);
  for (const o of overlay) {
    if (o.type === RRType.SOA) continue;
    if (o.type === RRType.CNAME && o.owner.equals(origin)) {
      apexCname = true;
      extra.push(o);
      continue;
    }
    if (ADDR.has(o.type) && o.meta.proxied && rawAddrOwners.has(o.owner.key)) {
      proxiedOwners.add(o.owner.key);
      continue;
    }
    extra.push(o);
  }
  const out: RR[] = [];
  for (const r of raw) {
    if (apexCname && r.owner.equals(origin) && (r.type === RRType.A || r.type === RRType.AAAA)) continue;
    if (proxiedOwners.has(r.owner.key) && ADDR.has(r.type)) out.push({ ...r, meta: { ...r.meta, proxied: true } });
    else out.push(r);
  }
  out.push(...extra);
  return out;
}

/** SOA timers of a raw record list (for logs). */
export function soaTimers(records: readonly RR[]): ReturnType<typeof soaFields> | undefined {
  const soa = records.find((r) => r.type === RRType.SOA);
  return soa ? soaFields(soa.rdata) : undefined;
}
