// Composition root of one serving process: loads the config and zones, publishes the zone set, runs the query
// engine behind the listeners, and reloads or stops on request.

import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from './util/atomic-file.js';
import { dirname } from 'node:path';
import { catalogZoneText } from './zone/catalog.js';
import { createSecureContext } from 'node:tls';
import { runInNewContext } from 'node:vm';
import type { Logger } from 'pino';
import { loadConfig, formatConfigError, diffConfigForReload, resolveZoneProxy, type Config, type TlsConfig, type ZoneConfig } from './config/index.js';
import { QueryEngine } from './query/pipeline.js';
import type { CookieSettings } from './query/cookies.js';
import { RateLimiter, RRL_ENTRIES, RRL_ENTRY } from './query/rrl.js';
import { mapSharedInt32 } from './server/native-shm.js';
import { ledgerTableSize, SharedLedger, type ConnectionLedger } from './server/tcp-ledger.js';
import { workerCount } from './server/cluster.js';
import { cidrContains } from './util/ip.js';
import { randomBytes } from 'node:crypto';
import { loadZone, fingerprintFiles, type LoadedZone } from './zone/load.js';
import { formatDiagnostic } from './zone/model.js';
import { ZoneSet, ZoneStore, type ServedZone } from './zone/store.js';
import { startListeners, type InheritedUdp, type Listeners } from './server/listen.js';
import type { TlsIdentity } from './server/tcp.js';
import { TransferManager } from './transfer/manager.js';
import { transferStats } from './transfer/stats.js';
import type { ControlReply, ControlRequest, DaemonCommand } from './transfer/control.js';
import type { ZoneSnapshot } from './zone/snapshot.js';
import type { JsonValue } from './util/json.js';
import { SigningBudget } from './dnssec/budget.js';
import { signingStats } from './dnssec/rrsig.js';
import { QueryStats } from './query/stats.js';
import { metricsRequestId, processMetrics, type ProcessFigures } from './http/metrics.js';
import { Name } from './wire/name.js';
import { ChangeCoordinator } from './change/coordinator.js';
import type { ParseResult } from './zone/parser.js';
import { ChangeService, type ChangeZone } from './change/service.js';
import { UpdateHandler } from './change/update.js';
import { AnalyticsRecorder } from './query/analytics.js';
import { AnalyticsTap } from './query/analytics-tap.js';
import { loadAnalytics, saveAnalytics } from './query/analytics-persist.js';
import { aggregate, analyticsReply, analyticsRequest } from './http/analytics.js';
import { resolveZoneParam } from './http/zone-id.js';
import { attachSigningPrepared, prepareZoneDnssec, sameDnssecConfig, sharedSignatureCache, signatureCacheLogFields, signatureCacheStats, type ZoneDnssecPrep } from './dnssec/zone-keys.js';

/** Per-zone outcome of a load or reload (JSON-serializable: it crosses the cluster IPC). */
export type ZoneReport = {
  readonly zone: string;
  readonly status: 'loaded' | 'unchanged' | 'failed' | 'removed';
  readonly serial?: number;
  readonly records?: number;
  readonly ms?: number;
  readonly errors?: readonly string[];
  readonly warnings?: number;
};

export type ReloadReport = {
  readonly ok: boolean;
  readonly configErrors?: readonly string[];
  readonly zones: readonly ZoneReport[];
};

/**
 * A full garbage collection that also compacts the heap (V8's `gc`, reached without the --expose-gc flag). Zone
 * data outlives the parser's garbage it was allocated among; without compaction V8 keeps the half-empty pages and
 * the process stays at about twice its live size (1M records: 1.4 GB instead of 0.7 GB RSS). Costs about a second
 * for a million records, so it runs only after zone data was (re)loaded.
 */
function compactHeap(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') return;
  v8.setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    v8.setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

interface ZoneEntry {
  readonly config: ZoneConfig;
  readonly loaded: LoadedZone;
  /** The load-time shaping settings the snapshot was built with (see shapingKey). */
  readonly shaping: string;
}

/** Settings applied at zone load besides the file: a change to any of them needs a rebuild on reload. */
function shapingKey(config: Config, zc: ZoneConfig): string {
  const p = resolveZoneProxy(config, zc);
  return JSON.stringify([zc.file, zc.flattenAllCnames, zc.serial, p?.ipv4.map((a) => a.text), p?.ipv6.map((a) => a.text), p?.https?.alpn, zc.limits]);
}

export class App {
  readonly store = new ZoneStore();
  private entries = new Map<string, ZoneEntry>();
  private listeners: Listeners | undefined;
  private engine: QueryEngine | undefined;
  private signingBudget: SigningBudget | undefined;
  private rrl: RateLimiter | undefined;
  private readonly queryStats = new QueryStats();
  /** DNS analytics rollups of this process (src/query/analytics.ts); undefined when `analytics.enabled` is false. */
  private analytics: AnalyticsRecorder | undefined;
  /** Last load attempt per primary zone (metrics): unix seconds and whether it failed. */
  private readonly zoneLoads = new Map<string, { readonly at: number; readonly error: 0 | 1 }>();
  private slot = 0;
  private broadcast: ((payload: JsonValue) => void) | undefined;
  /** Zone transfers, secondaries, NOTIFY, serial policy, journal (src/transfer/manager.ts). */
  private transfers: TransferManager | undefined;
  /** Live changes (RFC 2136 UPDATE; src/change/): applied by the leader, forwarded to it by the others. */
  private changes: ChangeCoordinator | undefined;
  /** Zone loads run one after the other (SIGHUP and rebuilds after a change). */
  private loading: Promise<unknown> = Promise.resolve();

  private constructor(
    private config: Config,
    private readonly log: Logger,
  ) {}

  /** Load every zone and start listening. Zones that fail to load are logged and skipped. */
  static async start(
    config: Config,
    log: Logger,
    opts: { listen?: boolean; slot?: number; transferLeader?: boolean; broadcast?: (payload: JsonValue) => void; inheritedUdp?: ReadonlyMap<string, InheritedUdp> } = {},
  ): Promise<App> {
    const app = new App(config, log);
    app.slot = opts.slot ?? 0;
    app.broadcast = opts.broadcast;
    app.changes = app.changePath(opts.transferLeader ?? true);
    const changes = app.changes;
    app.transfers = await TransferManager.create({ config, store: app.store, logger: log, leader: opts.transferLeader ?? true, broadcast: opts.broadcast, daemonCommand: (r) => app.daemonCommand(r), onUpdate: (r) => changes.update(r) });
    const report = await app.loadZones(config, new Map());
    // Loading leaves the parser's garbage behind (about as large as the zones themselves); collect it before
    // serving so the process starts at its steady-state size.
    compactHeap();
    app.logReport('startup', report);
    app.transfers.startTimers();
    if (config.signingBudget.perSecond > 0) app.signingBudget = new SigningBudget(config.signingBudget.perSecond);
    app.rrl = rateLimiterOption(config, log).rrl;
    app.engine = new QueryEngine(app.store, {
      udpSize: config.edns.udpSize,
      identity: config.identity,
      answerCacheEntries: config.answerCache.maxEntries,
      logger: log,
      logQueries: config.log.queries,
      flattening: config.flattening,
      transfers: app.transfers.hook,
      cookies: cookieSettings(config),
      ...(app.rrl !== undefined ? { rrl: app.rrl } : {}),
      ...(app.signingBudget !== undefined ? { signingBudget: app.signingBudget } : {}),
      maxCnameChain: config.limits.maxCnameChain,
    });
    // Signature cache hit rate, periodically at debug level (the bench reads signatureCacheStats()).
    setInterval(() => {
      const st = signatureCacheLogFields();
      if (st !== undefined) log.debug({ signatureCache: st }, 'signature cache');
    }, 60_000).unref();
    if (opts.listen !== false) {
      const engine = app.engine;
      const stats = app.queryStats;
      const tap = app.analyticsTap(config, engine);
      await app.restoreAnalytics(config);
      const t = config.tcp;
      app.listeners = await startListeners(
        config.listen.map((l) => l.text),
        // Metrics (src/query/stats.ts): a clock read and a few integer increments per query.
        (msg, client) => {
          const started = performance.now();
          const r = stats.observe(msg, engine.handle(msg, client), client.transport, client.family === 'IPv6', started);
          return tap === undefined ? r : tap.observe(msg, r, client, client.family === 'IPv6', started);
        },
        {
          tcpLimits: { idleTimeoutMs: t.idleTimeoutMs, maxConnections: t.maxConnections, maxConnectionsPerClient: t.maxConnectionsPerClient, maxInFlightPerConnection: t.maxInflightPerConnection },
          udpIo: config.udp.io,
          ...tcpLedgerOption(config, opts.slot ?? 0, log),
          ...(opts.inheritedUdp !== undefined ? { inheritedUdp: opts.inheritedUdp } : {}),
          ...(config.tls !== undefined ? { tls: { listen: config.tls.listen.map((l) => l.text), identity: readTlsIdentity(config.tls) } } : {}),
          logger: log,
        },
      );
      log.info({ listen: config.listen.map((l) => l.text) }, 'listening');
    }
    return app;
  }

  /** The analytics hook of the answer path (src/query/analytics-tap.ts), when analytics is on. */
  private analyticsTap(config: Config, engine: QueryEngine): AnalyticsTap | undefined {
    const a = config.analytics;
    if (!a.enabled) return undefined;
    this.analytics = new AnalyticsRecorder({
      maxNames: a.maxNames, maxNamesHourly: a.maxNamesHourly, maxSources: a.maxSources, maxRows: a.maxRows,
      minuteRetentionS: a.minuteRetention, retentionS: a.retention, maxTotalRows: a.maxTotalRows,
    });
    return new AnalyticsTap(this.analytics, this.store, engine);
  }

  /** Restore the saved rollups (state-dir/analytics), then save them every minute and on stop. */
  private async restoreAnalytics(config: Config): Promise<void> {
    const rec = this.analytics;
    if (rec === undefined) return;
    for (const p of await loadAnalytics(config.stateDir, this.slot, workerCount(config.workers), rec, Math.floor(Date.now() / 1000))) this.log.warn(`analytics: cannot restore ${p}`);
    setInterval(() => void this.saveAnalytics(), 60_000).unref();
  }

  private async saveAnalytics(): Promise<void> {
    if (this.analytics === undefined) return;
    try {
      await saveAnalytics(this.config.stateDir, this.slot, this.analytics);
    } catch (err) {
      this.log.warn({ err }, 'analytics: cannot save the rollups');
    }
  }

  get queryEngine(): QueryEngine {
    return this.engine!;
  }

  /** SIGHUP: re-read the config and every changed zone; swap the new set in with one assignment. */
  async reload(): Promise<ReloadReport> {
    const loaded = await loadConfig(this.config.file);
    if (!loaded.ok) {
      const report: ReloadReport = { ok: false, configErrors: loaded.errors.map(formatConfigError), zones: [] };
      this.logReport('reload', report);
      return report;
    }
    const forbidden = diffConfigForReload(this.config, loaded.config);
    if (forbidden.length > 0) {
      const report: ReloadReport = { ok: false, configErrors: forbidden, zones: [] };
      this.logReport('reload', report);
      return report;
    }
    this.config = loaded.config;
    this.reloadTlsIdentity();
    this.engine?.setMaxCnameChain(loaded.config.limits.maxCnameChain);
    await this.transfers?.reconfigure(loaded.config);
    const report = await this.serialized(() => this.loadZones(loaded.config, this.entries));
    // The replaced zones become garbage once this reload's promise chain has unwound: then give the memory back
    // (workers reload one at a time, so the others keep answering during the pause).
    if (report.zones.some((z) => z.status === 'loaded')) setTimeout(compactHeap, 100).unref();
    this.logReport('reload', report);
    return report;
  }

  /** SIGHUP: re-read the DNS-over-TLS certificate and key; when they cannot be read the old ones stay. */
  private reloadTlsIdentity(): void {
    const t = this.config.tls;
    if (t === undefined || this.listeners === undefined) return;
    try {
      this.listeners.setTlsIdentity(readTlsIdentity(t));
      this.log.info({ certificate: t.certificate }, 'tls: certificate reloaded');
    } catch (e) {
      this.log.error({ error: (e as Error).message }, 'tls: certificate not reloaded; the previous one stays');
    }
  }

  /** SIGTERM/SIGINT: stop accepting, let in-flight TCP answers finish, close. */
  async stop(deadlineMs = 5000): Promise<void> {
    await this.listeners?.close(deadlineMs);
    await this.transfers?.stop();
    await this.saveAnalytics();
    // One line per serving process: each worker fills its own caches (README "Caches"; bench/caches.mjs reads it).
    const e = this.engine;
    if (e !== undefined) {
      const mem = process.memoryUsage();
      this.log.info({
        answerCache: { hits: e.cacheHits, misses: e.cacheMisses, entries: e.cacheEntries },
        signatureCache: signatureCacheLogFields(),
        signingBudgetRefused: this.signingBudget?.refused ?? 0,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
      }, 'cache stats');
    }
  }

  /** Cluster IPC from the other serving processes (transfer leader / followers). */
  onMessage(payload: JsonValue): void {
    if (this.ctlReply(payload)) return;
    const scrape = metricsRequestId(payload);
    if (scrape !== undefined) {
      void processMetrics(this.figures()).then((metrics) => this.broadcast?.({ t: 'metrics.reply', id: scrape, metrics }));
      return;
    }
    if (this.changes?.onMessage(payload) === true) return;
    const report = analyticsRequest(payload);
    if (report !== undefined) {
      const zone = resolveZoneParam(report.req.zone, [...this.store.current.zones()].map((z) => z.snapshot.origin.toString()));
      this.analytics?.compact(Math.floor(Date.now() / 1000));
      const groups = this.analytics === undefined || zone === undefined ? [] : aggregate(this.analytics, { ...report.req, zone });
      this.broadcast?.(analyticsReply(report.id, zone ?? null, groups));
      return;
    }
    this.transfers?.onMessage(payload);
  }

  /**
   * The control socket's daemon commands (`apexdns status|zone-status|reload|stats`). Reload and stats need every
   * worker: they go to the primary (src/cli/serve.ts), whose answer comes back as a `ctl.done` message.
   */
  async daemonCommand(req: ControlRequest & { readonly cmd: DaemonCommand }): Promise<ControlReply> {
    switch (req.cmd) {
      case 'status': {
        const zones = this.zoneStatus();
        const want = req.zone === undefined ? undefined : Name.parse(req.zone.endsWith('.') ? req.zone : `${req.zone}.`).toString();
        const shown = want === undefined ? zones : zones.filter((z) => z.zone === want);
        if (want !== undefined && shown.length === 0) return { ok: false, message: `zone ${want} is not configured` };
        // In a cluster this runs in a worker: report the daemon's process (the primary, our parent).
        const workers = workerCount(this.config.workers);
        const data = { pid: workers > 1 ? process.ppid : process.pid, uptimeSeconds: Math.round(process.uptime()), workers, zones: shown };
        return { ok: true, message: `${shown.length} zone(s)`, data };
      }
      case 'reload':
      case 'stats': {
        const r = await this.askPrimary(req.cmd);
        return r ?? { ok: false, message: `${req.cmd}: no answer from the server` };
      }
      default: {
        const never: never = req.cmd;
        return never;
      }
    }
  }

  private ctlNext = 1;
  private readonly ctlPending = new Map<number, (r: ControlReply) => void>();

  private askPrimary(what: 'reload' | 'stats'): Promise<ControlReply | undefined> {
    const send = this.broadcast;
    if (send === undefined) return Promise.resolve(undefined);
    const id = this.ctlNext++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ctlPending.delete(id);
        resolve(undefined);
      }, 150_000);
      this.ctlPending.set(id, (r) => {
        clearTimeout(timer);
        this.ctlPending.delete(id);
        resolve(r);
      });
      send({ t: 'ctl.req', id, what });
    });
  }

  /** A primary's answer to askPrimary (true when it was one). */
  private ctlReply(payload: JsonValue): boolean {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
    const p = payload as { readonly [k: string]: JsonValue };
    if (p.t !== 'ctl.done' || typeof p.id !== 'number') return false;
    const r = p.reply as { ok?: unknown; message?: unknown; data?: JsonValue } | undefined;
    this.ctlPending.get(p.id)?.({ ok: r?.ok === true, message: String(r?.message ?? ''), ...(r?.data !== undefined ? { data: r.data } : {}) });
    return true;
  }

  /** Every configured zone: serial, records, DNSSEC state, last load or refresh. */
  private zoneStatus(): { readonly zone: string; readonly [k: string]: JsonValue }[] {
    const secondaries = new Map((this.transfers?.secondaryStatus() ?? []).map((s) => [s.zone, s]));
    return this.config.zones.map((zc) => {
      const zone = zc.name.toString();
      const d = zc.dnssec;
      const dnssec = d === undefined ? 'unsigned' : d.mode === 'presigned' ? 'presigned' : `${d.state} (${d.denial})`;
      const served = this.store.current.get(zc.name.key);
      const base = { zone, type: zc.type, serial: served?.snapshot.soaInfo.serial ?? null, records: served?.snapshot.recordCount ?? null, dnssec, expired: served?.expired ?? false };
      if (zc.type === 'secondary') {
        const s = secondaries.get(zone);
        return { ...base, lastRefresh: s?.lastRefresh ?? 0, lastRefreshOk: s?.lastRefreshOk === 1, expiresInSeconds: s?.expiresIn ?? 0 };
      }
      const l = this.zoneLoads.get(zone);
      return { ...base, lastLoad: l?.at ?? 0, lastLoadOk: l?.error !== 1 };
    });
  }

  // ----- live changes (issue 13; src/change/) --------------------------------------------------------------------

  private serialized<T>(f: () => Promise<T>): Promise<T> {
    const run = this.loading.then(f);
    this.loading = run.catch(() => undefined);
    return run;
  }

  private changePath(leader: boolean): ChangeCoordinator {
    const others = this.broadcast === undefined ? 0 : workerCount(this.config.workers) - 1;
    const c = new ChangeCoordinator({
      leader,
      slot: this.slot,
      others,
      broadcast: this.broadcast,
      logger: this.log,
      // One zone's file changed: the normal load path re-reads only changed files (journal, NOTIFY, swap).
      rebuild: async (origin, parsed) => {
        const r = await this.serialized(() => this.loadZones(this.config, this.entries, parsed && new Map([[origin.key, parsed]])));
        for (const z of r.zones) if (z.status === 'failed') for (const e of z.errors ?? []) this.log.error({ event: 'change.rebuild', zone: z.zone }, e);
        const mine = r.zones.find((z) => z.zone === origin.toString());
        return mine?.status === 'failed' ? (mine.errors ?? ['zone failed to load']).join('; ') : undefined;
      },
    });
    const service = new ChangeService({ zone: (n) => this.changeZone(n), reload: (n, parsed) => c.publish(n, parsed), logger: this.log });
    c.use(new UpdateHandler({ zone: (k) => this.config.zones.find((z) => z.name.key === k), changes: service, logger: this.log }));
    return c;
  }

  private changeZone(origin: Name): ChangeZone | undefined {
    const zc = this.config.zones.find((z) => z.name.key === origin.key);
    if (zc?.type !== 'primary') return undefined;
    const entry = this.entries.get(origin.key);
    return {
      origin: zc.name,
      file: zc.file,
      zonesDir: this.config.zonesDir,
      serial: zc.serial,
      limits: zc.limits,
      servedSerial: entry?.loaded.snapshot.soaInfo.serial,
      changedOnDisk: async () => entry !== undefined && (await fingerprintFiles(entry.loaded.files)) !== entry.loaded.fingerprint,
    };
  }

  /** This process's figures for a metrics scrape (src/http/metrics.ts). */
  figures(): ProcessFigures {
    const e = this.engine;
    const sc = signatureCacheStats();
    const st = this.listeners?.stats;
    return {
      slot: this.slot,
      queries: this.queryStats.snapshot(),
      answerCache: { hits: e?.cacheHits ?? 0, misses: e?.cacheMisses ?? 0, entries: e?.cacheEntries ?? 0 },
      signatureCache: { hits: sc?.hits ?? 0, misses: sc?.misses ?? 0, bytes: sc?.bytes ?? 0 },
      signaturesMade: signingStats.made,
      signingBudgetRefused: this.signingBudget?.refused ?? 0,
      rrl: { dropped: this.rrl?.dropped ?? 0, slipped: this.rrl?.slipped ?? 0 },
      server: {
        udpQueries: st?.udpQueries ?? 0,
        udpDropped: st?.udpDropped ?? 0,
        tcpQueries: st?.tcpQueries ?? 0,
        tcpAccepted: st?.tcpConnections ?? 0,
        tcpRefused: st?.tcpConnectionsRefused ?? 0,
        tcpEvicted: st?.tcpEvicted ?? 0,
        tcpIdleClosed: st?.tcpIdleClosed ?? 0,
        tcpProtocolErrors: st?.tcpProtocolErrors ?? 0,
        tcpSlowReaders: st?.tcpSlowReaders ?? 0,
        tcpOpen: this.listeners?.tcpOpen() ?? 0,
      },
      flattening: { upstreamQueries: e?.flattener.upstreamQueries ?? 0, upstreamErrors: e?.flattener.upstreamErrors ?? 0, staleAnswers: e?.flattener.staleAnswers ?? 0 },
      transfers: { ...transferStats },
      secondaries: this.transfers?.secondaryStatus() ?? [],
      zones: [...this.zoneLoads].map(([zone, l]) => {
        const snap = this.entries.get(Name.parse(zone).key)?.loaded.snapshot;
        return { zone, serial: snap?.soaInfo.serial ?? 0, records: snap?.recordCount ?? 0, loadedAt: l.at, loadError: l.error };
      }),
    };
  }

  /**
   * Build the next zone set next to the current one: unchanged zones keep their snapshot, changed ones are
   * re-parsed, failed ones keep serving their previous version. Published with one reference assignment.
   */
  private async loadZones(config: Config, previous: ReadonlyMap<string, ZoneEntry>, parsed?: ReadonlyMap<string, ParseResult>): Promise<ReloadReport> {
    await writeCatalogs(config);
    const reports: ZoneReport[] = [];
    const next = new Map<string, ZoneEntry>();
    const served = new Map<string, ServedZone>();
    let ok = true;
    for (const zc of config.zones) {
      if (zc.type !== 'primary') continue;
      const name = zc.name.toString();
      const prev = previous.get(zc.name.key);
      const shaping = shapingKey(config, zc);
      if (prev && prev.shaping === shaping && sameDnssecConfig(prev.config.dnssec, zc.dnssec) && (await fingerprintFiles(prev.loaded.files)) === prev.loaded.fingerprint) {
        next.set(zc.name.key, { config: zc, loaded: prev.loaded, shaping: prev.shaping });
        reports.push({ zone: name, status: 'unchanged', serial: prev.loaded.snapshot.soaInfo.serial, records: prev.loaded.snapshot.recordCount });
      } else {
        // DNSSEC keys (generated on first use) and the DNSKEY/CDS/CDNSKEY/NSEC3PARAM records (src/dnssec/zone-keys.ts).
        let prep: ZoneDnssecPrep | undefined;
        let dnssecError: string | undefined;
        try {
          prep = await prepareZoneDnssec(zc.name, zc.dnssec, sharedSignatureCache(config.signatureCache.memoryMb));
          for (const w of prep?.warnings ?? []) this.log.warn({ zone: name }, `dnssec keys: ${w}`);
        } catch (e) {
          dnssecError = `dnssec keys: ${(e as Error).message}`;
        }
        const res = dnssecError !== undefined
          ? { ok: false as const, diagnostics: [{ severity: 'error' as const, pos: { file: zc.file, line: 0, col: 0 }, message: dnssecError }] }
          : await loadZone(zc.name, zc.file, config.zonesDir, { proxy: resolveZoneProxy(config, zc), flattenAllCnames: zc.flattenAllCnames, ...(prep ? { augment: prep.augment } : {}), serial: this.transfers?.serialHook(zc, prev !== undefined), limits: zc.limits, parsed: parsed?.get(zc.name.key) });
        if (res.ok && prep?.signing) await attachSigningPrepared(res.zone.snapshot, prep.signing);
        if (res.ok) {
          next.set(zc.name.key, { config: zc, loaded: res.zone, shaping });
          for (const d of res.zone.diagnostics) this.log.warn({ zone: name }, formatDiagnostic(d));
          reports.push({
            zone: name,
            status: 'loaded',
            serial: res.zone.snapshot.soaInfo.serial,
            records: res.zone.snapshot.recordCount,
            ms: Math.round(res.zone.loadMs),
            warnings: res.zone.diagnostics.length,
          });
        } else {
          ok = false;
          const errors = res.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
          reports.push({ zone: name, status: 'failed', errors, ...(prev ? { serial: prev.loaded.snapshot.soaInfo.serial } : {}) });
          // A zone that fails to load keeps serving its previous version.
          if (prev) next.set(zc.name.key, { config: zc, loaded: prev.loaded, shaping: prev.shaping });
        }
      }
      const entry = next.get(zc.name.key);
      if (entry) served.set(zc.name.key, { snapshot: entry.loaded.snapshot, expired: false });
    }
    for (const key of previous.keys()) {
      if (!next.has(key)) reports.push({ zone: previous.get(key)!.config.name.toString(), status: 'removed' });
    }
    const at = Math.floor(Date.now() / 1000);
    for (const r of reports) {
      if (r.status === 'removed') this.zoneLoads.delete(r.zone);
      else if (r.status !== 'unchanged' || !this.zoneLoads.has(r.zone)) this.zoneLoads.set(r.zone, { at, error: r.status === 'failed' ? 1 : 0 });
    }
    this.entries = next;
    // Secondary zones live in the transfer manager (transferred data, expiry); they join every new set.
    for (const z of this.transfers?.servedSecondaries() ?? []) served.set(z.snapshot.origin.key, z);
    this.store.publish(new ZoneSet(served, this.store.current.generation + 1));
    const snaps = (m: ReadonlyMap<string, ZoneEntry>): Map<string, ZoneSnapshot> => new Map([...m].map(([k, e]) => [k, e.loaded.snapshot]));
    await this.transfers?.zonesPublished(snaps(previous), snaps(next), previous.size === 0);
    return { ok, zones: reports };
  }

  private logReport(event: 'startup' | 'reload', report: ReloadReport): void {
    if (report.configErrors) {
      for (const e of report.configErrors) this.log.error({ event }, `config: ${e}`);
      this.log.error({ event }, `${event}: configuration rejected, nothing changed`);
      return;
    }
    for (const z of report.zones) {
      if (z.status === 'failed') {
        for (const e of z.errors ?? []) this.log.error({ event, zone: z.zone }, e);
        this.log.error({ event, zone: z.zone, serial: z.serial }, z.serial === undefined ? 'zone failed to load and is not served' : 'zone failed to load; the previous version keeps serving');
      } else {
        this.log.info({ event, ...z }, `zone ${z.status}`);
      }
    }
  }
}

/** Environment variable through which a cluster primary hands its random cookie secret to the workers. */
export const COOKIE_SECRET_ENV = 'APEXDNS_COOKIE_SECRET';

/**
 * The DNS Cookie secrets (RFC 9018 §4.4): the configured ones, or when none is set one random secret per start,
 * the same in every worker (the primary makes it, see cli/serve.ts), so a client's cookie is valid in all of them.
 */
function cookieSettings(config: Config): CookieSettings {
  const env = process.env[COOKIE_SECRET_ENV];
  const current = config.cookies.secret ?? (env !== undefined && /^[0-9a-f]{32}$/.test(env) ? Uint8Array.from(Buffer.from(env, 'hex')) : Uint8Array.from(randomBytes(16)));
  const previous = config.cookies.previousSecret;
  return { secrets: previous === undefined ? [current] : [current, previous], require: config.cookies.require };
}

/** Environment variable naming the shared rate-limit table a cluster primary made for its workers (cli/serve.ts). */
export const RRL_TABLE_ENV = 'APEXDNS_RRL_TABLE';

/**
 * The response rate limiter (none when `rrl.responses-per-second` is 0). Its bucket table is the one the primary
 * shares with every worker, so a flood spread over the workers is limited as one; in a single process (or without
 * the shm addon) a table of its own.
 */
function rateLimiterOption(config: Config, log: Logger): { rrl?: RateLimiter } {
  const r = config.rrl;
  if (r.responsesPerSecond === 0) return {};
  const size = RRL_ENTRIES * RRL_ENTRY;
  const path = process.env[RRL_TABLE_ENV];
  let table = path === undefined ? undefined : mapSharedInt32(path, size);
  if (path !== undefined && table === undefined) log.warn({ path }, 'rrl: shared table not available; this worker limits on its own');
  table ??= new Int32Array(size);
  const exempt = (ip: Uint8Array): boolean => r.exempt.some((c) => cidrContains(c, ip));
  return { rrl: new RateLimiter({ ...r, exempt, table }) };
}

/** Environment variable naming the shared TCP connection table a cluster primary made for its workers (cli/serve.ts). */
export const TCP_TABLE_ENV = 'APEXDNS_TCP_TABLE';

/**
 * With several workers, TCP connections are counted in a table all of them share, so `tcp.max-connections` and
 * `max-connections-per-client` hold for the whole server (without the shm addon: per worker, with a warning).
 */
function tcpLedgerOption(config: Config, slot: number, log: Logger): { tcpLedger?: ConnectionLedger } {
  const path = process.env[TCP_TABLE_ENV];
  if (path === undefined) return {};
  const table = mapSharedInt32(path, ledgerTableSize(workerCount(config.workers)));
  if (table === undefined) {
    log.warn({ path }, 'tcp: shared connection table not available; limits apply per worker');
    return {};
  }
  return { tcpLedger: new SharedLedger(table, slot, { maxConnections: config.tcp.maxConnections, maxConnectionsPerClient: config.tcp.maxConnectionsPerClient }) };
}

/** The PEM certificate chain and key of the DNS-over-TLS listener; throws with the file that could not be read. */
function readTlsIdentity(t: TlsConfig): TlsIdentity {
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`tls.${what}: cannot read ${file}: ${(e as Error).message}`);
    }
  };
  const id = { cert: read('certificate', t.certificate), key: read('key', t.key) };
  // Fail here, with the file names, rather than in the TLS layer on the first client.
  try {
    createSecureContext({ cert: id.cert, key: id.key });
  } catch (e) {
    throw new Error(`tls: ${t.certificate} / ${t.key}: ${(e as Error).message}`);
  }
  return id;
}

/**
 * RFC 9432 producer: write each catalog zone's file (under state-dir) from the configuration, only when its text
 * changes, so the normal load path serves it, journals the change and sends NOTIFY; consumers follow by IXFR.
 */
async function writeCatalogs(config: Config): Promise<void> {
  for (const zc of config.zones) {
    if (zc.catalog === undefined) continue;
    const listed = zc.catalog.members;
    const members = (listed ?? config.zones.filter((z) => z.type === 'primary' && z.catalog === undefined).map((z) => z.name)).map((name) => ({
      name,
      group: config.zones.find((z) => z.name.key === name.key)?.catalogGroup,
    }));
    const text = catalogZoneText(zc.name, members);
    const old = await readFile(zc.file, 'utf8').catch(() => undefined);
    if (old === text) continue;
    await mkdir(dirname(zc.file), { recursive: true });
    // Workers write the same text; each through its own temporary name, then one atomic rename.
    await writeFileAtomic(zc.file, text);
  }
}
