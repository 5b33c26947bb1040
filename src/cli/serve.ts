// `apexdns serve`: load and check the config, then run the App in one process or in cluster workers.

import { resolve as resolvePath } from 'node:path';
import { pino } from 'pino';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { App, COOKIE_SECRET_ENV, RRL_TABLE_ENV, TCP_TABLE_ENV } from '../app.js';
import { ledgerTableSize } from '../server/tcp-ledger.js';
import { RRL_ENTRIES, RRL_ENTRY } from '../query/rrl.js';
import { mapSharedInt32, sharedMemoryUnavailable, sharedTablePath } from '../server/native-shm.js';
import { formatConfigError, loadConfig } from '../config/index.js';
import cluster from 'node:cluster';
import { INHERITED_FD_BASE, startCluster, workerCount } from '../server/cluster.js';
import { MetricsCollector, renderMetrics, startMetricsServer, type MetricsServer } from '../http/metrics.js';
import type { ClusterControl } from '../server/cluster.js';
import type { JsonValue } from '../util/json.js';
import { bindSharedUdp, inheritedUdpSockets } from '../server/listen.js';
import { AnalyticsCollector } from '../http/analytics.js';
import { analyticsRoutes, type Route } from '../http/server.js';

/** Runs until SIGTERM/SIGINT; returns the exit code. A bad config exits 1 with `file:line:col: path: message`. */
export async function serve(configFile: string): Promise<number> {
  const res = await loadConfig(resolvePath(configFile));
  if (!res.ok) {
    for (const e of res.errors) process.stderr.write(formatConfigError(e) + '\n');
    process.stderr.write(`apexdns: configuration ${configFile} rejected\n`);
    return 1;
  }
  for (const w of res.warnings) process.stderr.write(formatConfigError(w) + '\n');
  const config = res.config;
  const log = pino({ level: config.log.level });
  // Batched UDP in a cluster: the primary binds one socket per worker slot and passes them down (src/server/listen.ts).
  let shared;
  try {
    const n = workerCount(config.workers);
    shared = cluster.isPrimary && n > 1 ? bindSharedUdp(config.listen.map((l) => l.text), config.udp.io, n, INHERITED_FD_BASE) : undefined;
  } catch (err) {
    process.stderr.write(`apexdns: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  // One random cookie secret for all workers when none is configured (RFC 9018 §4.4: the secret must be shared).
  const workerEnv: Record<string, string> = { ...(shared?.env ?? {}) };
  if (config.cookies.secret === undefined && process.env[COOKIE_SECRET_ENV] === undefined) workerEnv[COOKIE_SECRET_ENV] = randomBytes(16).toString('hex');
  // Tables all workers share (src/server/native-shm.ts): response rate limiting and TCP connection counts. Removed
  // when the server stops.
  const tables: string[] = [];
  const workers = workerCount(config.workers);
  if (cluster.isPrimary && workers > 1) {
    const share = (env: string, what: string, int32s: number): void => {
      if (process.env[env] !== undefined) return;
      const path = sharedTablePath(what);
      if (mapSharedInt32(path, int32s) === undefined) log.warn({ reason: sharedMemoryUnavailable() }, `${what}: no shared memory; each worker keeps its own table`);
      else tables.push((workerEnv[env] = path));
    };
    if (config.rrl.responsesPerSecond > 0) share(RRL_TABLE_ENV, 'rrl', RRL_ENTRIES * RRL_ENTRY);
    share(TCP_TABLE_ENV, 'tcp', ledgerTableSize(workers));
  }
  // GET /metrics and `apexdns stats` (src/http/metrics.ts): in the primary (or the single process), summing what
  // every worker reports. The collector's requests reach the workers once the cluster runs (`send` is set then).
  let send: ((p: JsonValue) => void) | undefined;
  const collector = new MetricsCollector((p) => send?.(p), workers);
  const analytics = analyticsApi((p) => send?.(p), workers);
  const control = await startCluster(
    { workers: config.workers, logger: log, workerEnv, ...(shared !== undefined ? { inheritFds: shared.fds } : {}) },
    {
      async startWorker(ctx) {
        // Zone transfers: worker slot 0 (or the single process) leads: secondary timers, journal, NOTIFY, control socket.
        const inheritedUdp = cluster.isWorker ? inheritedUdpSockets(ctx.slot) : undefined;
        const app = await App.start(config, ctx.logger.child({ worker: ctx.slot }), {
          slot: ctx.slot,
          transferLeader: ctx.slot === 0,
          broadcast: (p) => ctx.send(p),
          ...(inheritedUdp !== undefined ? { inheritedUdp } : {}),
        });
        return {
          reload: async () => app.reload(),
          stop: async () => app.stop(),
          onMessage: (p) => app.onMessage(p),
        };
      },
      // Relay transfer IPC (NOTIFY received, zone updated/expired) from one worker to all of them.
      onWorkerMessage(payload, _from, control) {
        if (collector.onMessage(payload) || analytics.collector.onMessage(payload)) return;
        const ctl = controlRequestOf(payload);
        if (ctl !== undefined) {
          void answerControl(ctl.what, control, collector).then((reply) => control.send({ t: 'ctl.done', id: ctl.id, reply }));
          return;
        }
        // In a single process there is nobody to relay to (the leader is the only app).
        if (control.role === 'primary') control.send(payload);
      },
    },
  );
  send = (p) => control.send(p);
  const metrics: MetricsServer[] = [];
  if (control.role !== 'worker' && config.api.listen.length > 0) {
    try {
      for (const a of config.api.listen) metrics.push(await startMetricsServer(a.address.text, a.port, () => collector.collect(), log, analytics.routes));
    } catch (err) {
      log.error({ err }, 'api: cannot listen; stopping');
      await control.stop();
    }
  }
  await control.done;
  await Promise.all(metrics.map((m) => m.close()));
  for (const t of tables) rmSync(t, { force: true });
  return 0;
}

/** A daemon command a worker's control socket passed on to the primary (src/app.ts daemonCommand). */
function controlRequestOf(payload: JsonValue): { readonly id: number; readonly what: 'reload' | 'stats' } | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const p = payload as { readonly [k: string]: JsonValue };
  if (p.t !== 'ctl.req' || typeof p.id !== 'number' || (p.what !== 'reload' && p.what !== 'stats')) return undefined;
  return { id: p.id, what: p.what };
}

/** `apexdns reload`: every worker reloads, one after another; `apexdns stats`: the metrics summed over workers. */
async function answerControl(what: 'reload' | 'stats', control: ClusterControl, collector: MetricsCollector): Promise<JsonValue> {
  if (what === 'stats') {
    const samples: Record<string, number> = {};
    for (const line of (await renderMetrics(await collector.collect())).split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const i = line.lastIndexOf(' ');
      samples[line.slice(0, i)] = Number(line.slice(i + 1));
    }
    return { ok: true, message: 'stats', data: samples };
  }
  const results = await control.reload();
  const ok = results.every((r) => r.ok && r.report?.ok !== false);
  const lines = results.map((r) => {
    if (!r.ok) return `worker ${r.workerId}: reload failed: ${r.error ?? 'unknown error'}`;
    const zones = Array.isArray(r.report?.zones) ? (r.report.zones as readonly { readonly status?: JsonValue }[]) : [];
    const count = (st: string): number => zones.filter((z) => z.status === st).length;
    return `worker ${r.workerId}: ${r.report?.ok === false ? 'configuration rejected' : `${count('loaded')} loaded, ${count('unchanged')} unchanged, ${count('failed')} failed`}`;
  });
  return { ok, message: lines.join('\n'), data: results.map((r) => ({ workerId: r.workerId, pid: r.pid, ok: r.ok, ...(r.report !== undefined ? { report: r.report } : {}), ...(r.error !== undefined ? { error: r.error } : {}) })) };
}

/** The DNS analytics report routes of the API listener, asking every serving process over the cluster IPC. */
function analyticsApi(send: (payload: JsonValue) => void, processes: number): { collector: AnalyticsCollector; routes: Route[] } {
  const collector = new AnalyticsCollector(send, processes);
  return { collector, routes: analyticsRoutes((req) => collector.collect(req)) };
}
