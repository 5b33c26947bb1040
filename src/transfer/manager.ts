// Composition of the transfer subsystem for one serving process: the TransferHook for the pipeline, secondary
// zones, serial policy and journal for primaries, NOTIFY out, the control socket, and the cluster IPC protocol
// (one leader process runs timers, transfers, journal writes and NOTIFY; the others serve its persisted copies).

import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { resolveZoneProxy } from '../config/schema.js';
import type { Config, DnssecConfig, ZoneConfig } from '../config/types.js';
import { prepareZoneDnssec, sameDnssecConfig, sharedSignatureCache, type ZoneDnssecPrep } from '../dnssec/zone-keys.js';
import type { JsonValue } from '../util/json.js';
import { Name } from '../wire/name.js';
import type { RR } from '../zone/model.js';
import { parseZoneFile } from '../zone/parser.js';
import { applyFlattenAll, applyProxy } from '../zone/proxy.js';
import type { ZoneSnapshot } from '../zone/snapshot.js';
import type { ServedZone, ZoneStore } from '../zone/store.js';
import { controlSocketPath, startControlServer, type ControlReply, type ControlRequest, type DaemonCommand, type ZoneCommand } from './control.js';
import { Journal } from './journal.js';
import { effectiveSerial, journalChange, Notifier, readSerialState, snapshotSoa, writeSerialState, type SerialState } from './primary.js';
import { applyOverlay, SecondaryZone, type ShapedZone } from './secondary.js';
import { OutgoingFlattener, type FlatView } from './outgoing.js';
import { Flattener } from '../query/flatten.js';
import { TransferServer, transferRecords, type TransferServerOptions, type TransferZoneInfo } from './server.js';
import type { SecondaryStatus } from './stats.js';

export interface TransferManagerOptions {
  readonly config: Config;
  readonly store: ZoneStore;
  readonly logger?: Logger | undefined;
  /** This process runs timers, transfers, journal writes, NOTIFY and the control socket (default true). */
  readonly leader?: boolean;
  /** Send a message to the other serving processes (cluster IPC); absent in a single process. */
  readonly broadcast?: ((payload: JsonValue) => void) | undefined;
  /** Listen on the control socket (default: when leader). */
  readonly control?: boolean;
  /** Answers the daemon commands of the control socket (`status`, `reload`, `stats`; src/app.ts). */
  readonly daemonCommand?: (req: ControlRequest & { readonly cmd: DaemonCommand }) => Promise<ControlReply>;
  /** Tests: smaller transfer messages, faster NOTIFY retries. */
  readonly maxMessage?: number;
  readonly notify?: { readonly attempts?: number; readonly initialDelayMs?: number; readonly timeoutMs?: number };
  /** RFC 2136 UPDATE handling (src/change/coordinator.ts), passed to the TransferServer hook. */
  readonly onUpdate?: TransferServerOptions['onUpdate'];
}

/** File-name base of a zone's state files: the name without its trailing dot ("root" for the root). */
export function zoneBase(name: Name): string {
  const t = name.toString();
  return t === '.' ? 'root' : t.slice(0, -1).replace(/\//g, '_');
}

export class TransferManager {
  readonly hook: TransferServer;
  private config: Config;
  private zones = new Map<string, ZoneConfig>();
  private readonly secondaries = new Map<string, SecondaryZone>();
  private readonly served = new Map<string, ServedZone>();
  private readonly journals = new Map<string, Promise<Journal>>();
  private readonly pendingSerial = new Map<string, SerialState>();
  private readonly notifier: Notifier;
  private control: Server | undefined;
  private readonly leader: boolean;
  /** Flattened CNAMEs of outgoing transfers (own Flattener instance: same code and resolvers as queries). */
  private readonly outgoing: OutgoingFlattener;
  /** DNSSEC keys and record rewriting of each secondary zone, made once per `dnssec` block (re-read on SIGHUP). */
  private readonly dnssecPreps = new Map<string, { readonly dnssec: DnssecConfig | undefined; readonly cacheMb: number; readonly prep: Promise<ZoneDnssecPrep | undefined> }>();

  private constructor(private readonly opts: TransferManagerOptions) {
    this.config = opts.config;
    this.leader = opts.leader ?? true;
    this.indexZones(opts.config);
    this.notifier = new Notifier(opts.logger, opts.notify ?? {});
    this.outgoing = new OutgoingFlattener(new Flattener(opts.store, { config: opts.config.flattening, logger: opts.logger }), opts.logger);
    this.hook = new TransferServer({
      flatView: (snap, cfg) => this.outgoing.view(snap, cfg),
      store: opts.store,
      zone: (k) => this.zoneInfo(k),
      keys: opts.config.tsigKeys,
      onNotify: (zone) => this.onNotify(zone),
      logger: opts.logger,
      udpSize: opts.config.edns.udpSize,
      onUpdate: opts.onUpdate,
      ...(opts.maxMessage !== undefined ? { maxMessage: opts.maxMessage } : {}),
    });
  }

  /** Create, load the persisted secondary copies (served at once) and open the control socket. */
  static async create(opts: TransferManagerOptions): Promise<TransferManager> {
    const m = new TransferManager(opts);
    await mkdir(opts.config.stateDir, { recursive: true });
    for (const zc of opts.config.zones) if (zc.type === 'secondary') await m.addSecondary(zc);
    if (opts.control ?? m.leader) {
      try {
        m.control = await startControlServer(controlSocketPath(opts.config.stateDir), (r) => m.command(r));
      } catch (e) {
        opts.logger?.warn({ event: 'control.unavailable', error: (e as Error).message }, 'control socket not available');
      }
    }
    return m;
  }

  /** Start the secondary timers (after the first zone set is published). */
  startTimers(): void {
    if (!this.leader) return;
    for (const s of this.secondaries.values()) void s.start().catch((e: unknown) => this.opts.logger?.error({ zone: s.name.toString(), error: (e as Error).message }, 'secondary start failed'));
  }

  private indexZones(config: Config): void {
    this.zones = new Map(config.zones.map((z) => [z.name.key, z]));
  }

  private zoneInfo(key: string): TransferZoneInfo | undefined {
    const config = this.zones.get(key);
    return config ? { config, journalPath: this.journalPath(config.name) } : undefined;
  }

  private journalPath(name: Name): string {
    return join(this.config.stateDir, `${zoneBase(name)}.journal`);
  }

  private journal(name: Name): Promise<Journal> {
    let j = this.journals.get(name.key);
    if (!j) {
      j = Journal.open(this.journalPath(name), { zone: name, maxChangesets: this.config.journal.maxChangesets, maxBytes: this.config.journal.maxBytes });
      this.journals.set(name.key, j);
      j.catch(() => this.journals.delete(name.key));
    }
    return j;
  }

  /** The secondary zones to include in every published zone set. */
  /** Refresh figures of the secondary zones this process refreshes (the leader's; none in a follower). */
  secondaryStatus(): SecondaryStatus[] {
    return [...this.secondaries.values()].flatMap((s) => s.status() ?? []);
  }

  servedSecondaries(): IterableIterator<ServedZone> {
    return this.served.values();
  }

  // ----- primary zones ------------------------------------------------------------------------------------------

  /** For loadZone: the serial to serve given the file's serial and fingerprint (see effectiveSerial). */
  serialHook(zc: ZoneConfig, serving: boolean): (fileSerial: number, fingerprint: string) => number | { readonly error: string } {
    return (fileSerial, fingerprint) => {
      const path = join(this.config.stateDir, `${zoneBase(zc.name)}.serial.json`);
      let r = effectiveSerial(readSerialState(path), fingerprint, fileSerial, zc.serial, new Date());
      if (typeof r !== 'number' && !serving) {
        // Nothing older is being served (start-up, or a zone new to the config): refusing would take the zone off
        // the air, so serve the file as written and say what secondaries will miss.
        this.opts.logger?.warn({ event: 'zone.serial-not-increased', zone: zc.name.toString(), serial: fileSerial }, `${r.error}; serving the file anyway: secondaries that already have serial ${fileSerial} will not see this change`);
        r = fileSerial;
      }
      if (typeof r === 'number') this.pendingSerial.set(zc.name.key, { fingerprint, fileSerial, servedSerial: r });
      return r;
    };
  }

  /**
   * After the App published a new set: for each primary zone, persist its serial state, journal the difference to
   * the previous version and send NOTIFY when the serial changed (at startup: NOTIFY every zone).
   */
  async zonesPublished(prev: ReadonlyMap<string, ZoneSnapshot>, next: ReadonlyMap<string, ZoneSnapshot>, startup: boolean): Promise<void> {
    if (!this.leader) {
      this.pendingSerial.clear();
      return;
    }
    for (const [key, snap] of next) {
      const zc = this.zones.get(key);
      if (!zc || zc.type !== 'primary') continue;
      const st = this.pendingSerial.get(key);
      this.pendingSerial.delete(key);
      const old = prev.get(key);
      // A load that failed after the serial policy ran (a zone check, a limit) keeps serving the old snapshot: its
      // serial state must stay too, or the next load would compare against a serial never served.
      if (old === snap) continue;
      if (st) await writeSerialState(join(this.config.stateDir, `${zoneBase(zc.name)}.serial.json`), st).catch((e: unknown) => this.opts.logger?.error({ zone: zc.name.toString(), error: (e as Error).message }, 'cannot write serial state'));
      // Only zones someone may transfer keep a journal and an outgoing view: both walk every record.
      const transferable = zc.allowTransfer.length > 0 || zc.notify.length > 0;
      if (transferable && old) await this.recordChange(zc, old, snap);
      else if (transferable) await this.outgoing.view(snap, zc);
      if (startup || !old || old.soaInfo.serial !== snap.soaInfo.serial) this.notifier.notify(zc.name, snapshotSoa(snap), zc.notify);
    }
  }

  private async recordChange(zc: ZoneConfig, old: ZoneSnapshot, snap: ZoneSnapshot): Promise<void> {
    try {
      const j = await this.journal(zc.name);
      const cfg = zc;
      // The old version's view was fixed when it was published: the diff matches what went out then.
      const views = new Map<ZoneSnapshot, FlatView>([[old, await this.outgoing.view(old, cfg)], [snap, await this.outgoing.view(snap, cfg)]]);
      if (await journalChange(j, old, snap, (s) => transferRecords(s, cfg, views.get(s)))) {
        this.opts.logger?.info({ event: 'journal.appended', zone: zc.name.toString(), from: old.soaInfo.serial, to: snap.soaInfo.serial }, 'journal appended');
      }
    } catch (e) {
      this.opts.logger?.error({ event: 'journal.failed', zone: zc.name.toString(), error: (e as Error).message }, 'journal append failed (IXFR will send full zones)');
    }
  }

  // ----- secondary zones ----------------------------------------------------------------------------------------

  private async addSecondary(zc: ZoneConfig): Promise<void> {
    const key = zc.name.key;
    const sz: SecondaryZone = new SecondaryZone(zc, {
      logger: this.opts.logger,
      statePath: join(this.config.stateDir, zoneBase(zc.name)),
      follower: !this.leader,
      shape: (raw) => this.shape(this.zones.get(key) ?? zc, raw),
      publish: (snapshot, expired) => {
        const z: ServedZone = { snapshot, expired };
        this.served.set(key, z);
        this.opts.store.publish(this.opts.store.current.with(z));
        if (this.leader && sz.snapshot === snapshot) this.opts.broadcast?.({ t: 'xfr.expired', zone: zc.name.toString(), expired });
      },
      changed: async (old, snap) => {
        if (!this.leader) return;
        const cur = this.zones.get(key) ?? zc;
        if (old) await this.recordChange(cur, old, snap);
        else await this.outgoing.view(snap, cur);
        this.opts.broadcast?.({ t: 'xfr.updated', zone: zc.name.toString() });
        if (!old || old.soaInfo.serial !== snap.soaInfo.serial) this.notifier.notify(zc.name, snapshotSoa(snap), cur.notify);
      },
    });
    this.secondaries.set(key, sz);
    await sz.loadPersisted();
  }

  /**
   * The DNSSEC context of a secondary zone, as for a primary (src/dnssec/zone-keys.ts): keys loaded (generated the
   * first time) from the zone's key directory; reused until the zone's `dnssec` block or the signature cache changes.
   */
  private dnssecPrep(zc: ZoneConfig): Promise<ZoneDnssecPrep | undefined> {
    const key = zc.name.key;
    const cacheMb = this.config.signatureCache.memoryMb;
    const cur = this.dnssecPreps.get(key);
    if (cur && cur.cacheMb === cacheMb && sameDnssecConfig(cur.dnssec, zc.dnssec)) return cur.prep;
    const prep = prepareZoneDnssec(zc.name, zc.dnssec, sharedSignatureCache(cacheMb));
    const entry = { dnssec: zc.dnssec, cacheMb, prep };
    this.dnssecPreps.set(key, entry);
    prep.then(
      (p) => {
        for (const w of p?.warnings ?? []) this.opts.logger?.warn({ zone: zc.name.toString() }, `dnssec keys: ${w}`);
      },
      () => {
        // A failed preparation (unwritable key directory ...) is retried with the next transfer.
        if (this.dnssecPreps.get(key) === entry) this.dnssecPreps.delete(key);
      },
    );
    return prep;
  }

  /**
   * Transferred data → records to serve (seed "Secondary DNS override", "DNSSEC for Secondary DNS"). Unsigned and
   * live-signed zones get the overlay, the proxy pool and flatten-all; a live-signed zone then drops whatever
   * RRSIG/NSEC/NSEC3/NSEC3PARAM/CDS/CDNSKEY the primary sent (we sign at query time) and gains our DNSKEY/CDS/CDNSKEY
   * (and NSEC3PARAM). A pre-signed zone is served exactly as transferred: no overlay, no substitution.
   */
  private async shape(zc: ZoneConfig, raw: readonly RR[]): Promise<ShapedZone> {
    let prep: ZoneDnssecPrep | undefined;
    try {
      prep = await this.dnssecPrep(zc);
    } catch (e) {
      throw new Error(`dnssec keys: ${(e as Error).message}`);
    }
    // Seed "Proxying limitations": with pre-signed DNSSEC every record is DNS-only (a new RRset has no RRSIG).
    if (zc.dnssec?.mode === 'presigned') return { records: raw, signing: prep?.signing };
    let records: readonly RR[] = raw;
    if (zc.overlay) {
      const l = zc.limits;
      const parsed = await parseZoneFile(zc.overlay, { origin: zc.name, zonesDir: this.config.zonesDir, maxRecords: l.maxRecords, maxFileSize: l.maxFileSize, maxIncludeDepth: l.maxIncludeDepth });
      const err = parsed.diagnostics.find((d) => d.severity === 'error');
      if (err) throw new Error(`overlay ${zc.overlay}: ${err.message}`);
      records = applyOverlay(zc.name, raw, parsed.records);
    }
    const proxied = applyProxy(records, zc.name, resolveZoneProxy(this.config, zc));
    const perr = proxied.diagnostics.find((d) => d.severity === 'error');
    if (perr) throw new Error(perr.message);
    const shaped = zc.flattenAllCnames ? applyFlattenAll(proxied.records) : proxied.records;
    // A live-signed zone keeps the primary's apex DNSKEYs in its DNSKEY RRset (RFC 8901 model 2), as a primary zone
    // keeps those of its file.
    return { records: prep ? prep.augment(shaped) : shaped, signing: prep?.signing };
  }

  private onNotify(zone: Name): void {
    const s = this.secondaries.get(zone.key);
    if (this.leader) {
      // RFC 1996 §3.11: a NOTIFY makes the secondary check the SOA at once.
      if (s) void s.check('soa');
    } else this.opts.broadcast?.({ t: 'xfr.notify', zone: zone.toString() });
  }

  /** Cluster IPC from the other processes. */
  onMessage(payload: JsonValue): void {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return;
    const p = payload as { readonly [k: string]: JsonValue };
    if (typeof p.zone !== 'string') return;
    let name: Name;
    try {
      name = Name.parse(p.zone);
    } catch {
      return;
    }
    const s = this.secondaries.get(name.key);
    if (p.t === 'xfr.notify' && this.leader) this.onNotify(name);
    else if (p.t === 'xfr.updated' && !this.leader && s) void s.loadPersisted();
    else if (p.t === 'xfr.expired' && !this.leader && s) s.markExpired(p.expired === true);
  }

  /** SIGHUP: new zone list and settings. */
  async reconfigure(config: Config): Promise<void> {
    this.config = config;
    // SIGHUP re-reads the key directories (new or retired keys), as a primary zone's reload does.
    this.dnssecPreps.clear();
    this.outgoing.use(new Flattener(this.opts.store, { config: config.flattening, logger: this.opts.logger }));
    this.indexZones(config);
    const wanted = new Set<string>();
    for (const zc of config.zones) {
      if (zc.type !== 'secondary') continue;
      wanted.add(zc.name.key);
      const s = this.secondaries.get(zc.name.key);
      if (s) await s.reconfigure(zc);
      else {
        await this.addSecondary(zc);
        if (this.leader) void this.secondaries.get(zc.name.key)!.start();
      }
    }
    for (const [k, s] of this.secondaries) {
      if (wanted.has(k)) continue;
      s.stop();
      this.secondaries.delete(k);
      this.served.delete(k);
      this.dnssecPreps.delete(k);
    }
  }

  /** `apexdns zone notify|retransfer|refresh ZONE`. */
  async command(req: ControlRequest): Promise<ControlReply> {
    switch (req.cmd) {
      case 'status':
      case 'reload':
      case 'stats':
        return this.opts.daemonCommand?.(req) ?? { ok: false, message: `${req.cmd}: not available in this process` };
      case 'notify':
      case 'retransfer':
      case 'refresh':
        return this.zoneCommand(req);
      default: {
        const never: never = req;
        return never;
      }
    }
  }

  private async zoneCommand(req: ControlRequest & { readonly cmd: ZoneCommand }): Promise<ControlReply> {
    let name: Name;
    try {
      name = Name.parse(req.zone.endsWith('.') ? req.zone : `${req.zone}.`);
    } catch (e) {
      return { ok: false, message: `bad zone name: ${(e as Error).message}` };
    }
    const zc = this.zones.get(name.key);
    if (!zc) return { ok: false, message: `zone ${name.toString()} is not configured` };
    switch (req.cmd) {
      case 'notify': {
        const served = this.opts.store.current.get(name.key);
        if (!served) return { ok: false, message: `zone ${name.toString()} is not loaded` };
        if (zc.notify.length === 0) return { ok: false, message: `zone ${name.toString()} has no notify peers` };
        this.notifier.notify(name, snapshotSoa(served.snapshot), zc.notify);
        return { ok: true, message: `NOTIFY queued for ${zc.notify.map((p) => p.name).join(', ')} (serial ${served.snapshot.soaInfo.serial})` };
      }
      case 'retransfer':
      case 'refresh': {
        const s = this.secondaries.get(name.key);
        if (!s) return { ok: false, message: `zone ${name.toString()} is not a secondary zone` };
        const ok = await s.check(req.cmd === 'retransfer' ? 'axfr' : 'soa');
        return ok ? { ok: true, message: `zone ${name.toString()} serial ${s.serial ?? 'none'}` } : { ok: false, message: `no primary of ${name.toString()} answered (see the log)` };
      }
      default: {
        const never: never = req.cmd;
        return never;
      }
    }
  }

  async stop(): Promise<void> {
    for (const s of this.secondaries.values()) s.stop();
    if (this.control) await new Promise<void>((r) => this.control!.close(() => r()));
  }
}
