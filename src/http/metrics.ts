// Prometheus metrics: one serving process's figures as prom-client JSON, the sum over workers, and GET /metrics.

import http from 'node:http';
import { AggregatorRegistry, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Logger } from 'pino';
import { RESPONSE_TIME_BUCKETS, type QueryStatsSnapshot } from '../query/stats.js';
import type { JsonValue } from '../util/json.js';
import { router, type Route } from './server.js';

export type ZoneFigures = {
  readonly zone: string;
  readonly serial: number;
  readonly records: number;
  /** Unix time (s) of the last load attempt. */
  readonly loadedAt: number;
  /** 1 when the last load failed (the previous version, if any, keeps serving). */
  readonly loadError: 0 | 1;
};

/** What one serving process reports on a scrape (JSON: it crosses the cluster IPC). */
export type ProcessFigures = {
  readonly slot: number;
  readonly queries: QueryStatsSnapshot;
  readonly answerCache: { readonly hits: number; readonly misses: number; readonly entries: number };
  readonly signatureCache: { readonly hits: number; readonly misses: number; readonly bytes: number };
  readonly signaturesMade: number;
  readonly signingBudgetRefused: number;
  readonly rrl: { readonly dropped: number; readonly slipped: number };
  readonly server: {
    readonly udpQueries: number;
    readonly udpDropped: number;
    readonly tcpQueries: number;
    readonly tcpAccepted: number;
    readonly tcpRefused: number;
    readonly tcpEvicted: number;
    readonly tcpIdleClosed: number;
    readonly tcpProtocolErrors: number;
    readonly tcpSlowReaders: number;
    readonly tcpOpen: number;
  };
  readonly zones: readonly ZoneFigures[];
  readonly flattening: { readonly upstreamQueries: number; readonly upstreamErrors: number; readonly staleAnswers: number };
  readonly transfers: {
    readonly axfrOut: number;
    readonly ixfrOut: number;
    readonly axfrIn: number;
    readonly ixfrIn: number;
    readonly refreshFailed: number;
    readonly notifySent: number;
    readonly notifyFailed: number;
    readonly notifyReceived: number;
  };
  readonly secondaries: readonly SecondaryFigures[];
};

export type SecondaryFigures = {
  readonly zone: string;
  readonly serial: number;
  readonly lastRefresh: number;
  readonly lastRefreshOk: 0 | 1;
  readonly expiresIn: number;
};

type Metric = MetricObjectWithValues<MetricValue<string>>;
type Labels = Readonly<Record<string, string | number>>;

function metric(name: string, help: string, type: 'counter' | 'gauge', aggregator: 'sum' | 'max', values: readonly { labels: Labels; value: number }[]): Metric {
  return { name, help, type, aggregator, values: values.map((v) => ({ labels: { ...v.labels }, value: v.value })) } as unknown as Metric;
}

const one = (value: number): readonly { labels: Labels; value: number }[] => [{ labels: {}, value }];

/** The figures of one process as prom-client metric JSON (summed over processes by AggregatorRegistry.aggregate). */
export function figuresToMetrics(f: ProcessFigures): Metric[] {
  const q = f.queries;
  const buckets = RESPONSE_TIME_BUCKETS.map((le, i) => ({ labels: { le }, value: q.responseTimeBuckets[i] ?? 0, metricName: 'apexdns_response_time_seconds_bucket' }));
  const total = q.responseTimeBuckets[q.responseTimeBuckets.length - 1] ?? 0;
  const histogram = {
    name: 'apexdns_response_time_seconds',
    help: 'Time from receiving a query to handing its answer to the socket.',
    type: 'histogram',
    aggregator: 'sum',
    values: [
      ...buckets,
      { labels: { le: '+Inf' }, value: total, metricName: 'apexdns_response_time_seconds_bucket' },
      { labels: {}, value: q.responseTimeSum, metricName: 'apexdns_response_time_seconds_sum' },
      { labels: {}, value: total, metricName: 'apexdns_response_time_seconds_count' },
    ],
  } as unknown as Metric;
  const s = f.server;
  return [
    metric('apexdns_queries_total', 'Queries answered, by query type, response code, protocol and IP version.', 'counter', 'sum',
      q.queries.map((c) => ({ labels: { qtype: c.qtype, rcode: c.rcode, protocol: c.protocol, ip_version: c.ipVersion }, value: c.value }))),
    metric('apexdns_responses_truncated_total', 'Responses sent with TC=1.', 'counter', 'sum', one(q.truncated)),
    metric('apexdns_queries_dropped_total', 'Requests answered with nothing (malformed, QR=1, rate limited, ...).', 'counter', 'sum', one(q.dropped)),
    histogram,
    metric('apexdns_answer_cache_hits_total', 'Encoded-answer cache hits.', 'counter', 'sum', one(f.answerCache.hits)),
    metric('apexdns_answer_cache_misses_total', 'Encoded-answer cache misses.', 'counter', 'sum', one(f.answerCache.misses)),
    metric('apexdns_answer_cache_entries', 'Answers held in the encoded-answer caches (all workers).', 'gauge', 'sum', one(f.answerCache.entries)),
    metric('apexdns_signature_cache_hits_total', 'DNSSEC signature cache hits.', 'counter', 'sum', one(f.signatureCache.hits)),
    metric('apexdns_signature_cache_misses_total', 'DNSSEC signature cache misses.', 'counter', 'sum', one(f.signatureCache.misses)),
    metric('apexdns_signature_cache_bytes', 'Bytes held in the DNSSEC signature caches (all workers).', 'gauge', 'sum', one(f.signatureCache.bytes)),
    metric('apexdns_signatures_made_total', 'RRSIGs computed (cache misses and one-off signatures).', 'counter', 'sum', one(f.signaturesMade)),
    metric('apexdns_signing_budget_refused_total', 'UDP answers sent truncated because the signing budget was spent.', 'counter', 'sum', one(f.signingBudgetRefused)),
    metric('apexdns_rrl_limited_total', 'UDP responses limited by response rate limiting, by action.', 'counter', 'sum',
      [{ labels: { action: 'drop' }, value: f.rrl.dropped }, { labels: { action: 'slip' }, value: f.rrl.slipped }]),
    metric('apexdns_udp_requests_total', 'UDP datagrams received.', 'counter', 'sum', one(s.udpQueries)),
    metric('apexdns_udp_dropped_total', 'UDP requests answered with nothing.', 'counter', 'sum', one(s.udpDropped)),
    metric('apexdns_tcp_requests_total', 'DNS messages received over TCP.', 'counter', 'sum', one(s.tcpQueries)),
    metric('apexdns_tcp_connections_total', 'TCP connections accepted.', 'counter', 'sum', one(s.tcpAccepted)),
    metric('apexdns_tcp_connections_refused_total', 'TCP connections closed at once by the connection limits.', 'counter', 'sum', one(s.tcpRefused)),
    metric('apexdns_tcp_connections_evicted_total', 'Quiet TCP connections closed to admit a new one at tcp.max-connections.', 'counter', 'sum', one(s.tcpEvicted)),
    metric('apexdns_tcp_connections_closed_total', 'TCP connections closed by the server, by reason.', 'counter', 'sum', [
      { labels: { reason: 'idle' }, value: s.tcpIdleClosed },
      { labels: { reason: 'protocol_error' }, value: s.tcpProtocolErrors },
      { labels: { reason: 'slow_reader' }, value: s.tcpSlowReaders },
    ]),
    metric('apexdns_tcp_connections_open', 'TCP connections open now.', 'gauge', 'sum', one(s.tcpOpen)),
    metric('apexdns_zone_serial', 'SOA serial served, per zone.', 'gauge', 'max', f.zones.map((z) => ({ labels: { zone: z.zone }, value: z.serial }))),
    metric('apexdns_zone_records', 'Records in the zone served, per zone.', 'gauge', 'max', f.zones.map((z) => ({ labels: { zone: z.zone }, value: z.records }))),
    metric('apexdns_zone_last_load_timestamp_seconds', 'Unix time of the last load or reload attempt, per zone.', 'gauge', 'max', f.zones.map((z) => ({ labels: { zone: z.zone }, value: z.loadedAt }))),
    metric('apexdns_flattening_upstream_queries_total', 'Questions sent to the flattening resolvers.', 'counter', 'sum', one(f.flattening.upstreamQueries)),
    metric('apexdns_flattening_upstream_errors_total', 'Flattening upstream questions that failed.', 'counter', 'sum', one(f.flattening.upstreamErrors)),
    metric('apexdns_flattening_stale_answers_total', 'Flattened answers served from expired upstream data (RFC 8767).', 'counter', 'sum', one(f.flattening.staleAnswers)),
    metric('apexdns_transfers_served_total', 'Zone transfers served, by type (IXFR answered with the full zone counts as AXFR).', 'counter', 'sum',
      [{ labels: { type: 'AXFR' }, value: f.transfers.axfrOut }, { labels: { type: 'IXFR' }, value: f.transfers.ixfrOut }]),
    metric('apexdns_transfers_received_total', 'Zone transfers received by secondary zones, by type.', 'counter', 'sum',
      [{ labels: { type: 'AXFR' }, value: f.transfers.axfrIn }, { labels: { type: 'IXFR' }, value: f.transfers.ixfrIn }]),
    metric('apexdns_secondary_refresh_failures_total', 'Secondary refreshes where every primary failed.', 'counter', 'sum', one(f.transfers.refreshFailed)),
    metric('apexdns_notify_sent_total', 'NOTIFY messages sent, by outcome.', 'counter', 'sum',
      [{ labels: { outcome: 'acknowledged' }, value: f.transfers.notifySent }, { labels: { outcome: 'given_up' }, value: f.transfers.notifyFailed }]),
    metric('apexdns_notify_received_total', 'NOTIFY messages received and accepted.', 'counter', 'sum', one(f.transfers.notifyReceived)),
    metric('apexdns_secondary_serial', 'SOA serial of the transferred copy, per secondary zone.', 'gauge', 'max', f.secondaries.map((z) => ({ labels: { zone: z.zone }, value: z.serial }))),
    metric('apexdns_secondary_last_refresh_timestamp_seconds', 'Unix time of the last refresh attempt, per secondary zone (0: none yet).', 'gauge', 'max', f.secondaries.map((z) => ({ labels: { zone: z.zone }, value: z.lastRefresh }))),
    metric('apexdns_secondary_last_refresh_success', '1 when the last refresh attempt succeeded.', 'gauge', 'max', f.secondaries.map((z) => ({ labels: { zone: z.zone }, value: z.lastRefreshOk }))),
    metric('apexdns_secondary_expire_seconds', 'Seconds until the secondary zone expires without a successful refresh (0: expired).', 'gauge', 'max', f.secondaries.map((z) => ({ labels: { zone: z.zone }, value: z.expiresIn }))),
    metric('apexdns_zone_last_load_error', '1 when the last load of the zone failed (its previous version keeps serving).', 'gauge', 'max', f.zones.map((z) => ({ labels: { zone: z.zone }, value: z.loadError }))),
  ];
}

/** prom-client's default process metrics (CPU, RSS, event-loop lag, heap) of this process. */
const processRegistry = new Registry();
collectDefaultMetrics({ register: processRegistry });

/** Everything one process contributes to a scrape: its figures and its process metrics. */
export async function processMetrics(f: ProcessFigures): Promise<JsonValue> {
  // prom-client names three gauges `nodejs_active_*_total`; Prometheus reserves `_total` for counters (promtool).
  const defaults = (await processRegistry.getMetricsAsJSON()).map((m) => (String(m.type) === 'gauge' && m.name.endsWith('_total') ? { ...m, name: m.name.slice(0, -'_total'.length) } : m));
  const all = [...figuresToMetrics(f), ...defaults];
  return JSON.parse(JSON.stringify(all)) as JsonValue;
}

/** The Prometheus text exposition of the sum over processes. */
export async function renderMetrics(perProcess: readonly JsonValue[]): Promise<string> {
  return AggregatorRegistry.aggregate(perProcess as unknown as Metric[][]).metrics();
}

/**
 * Scrape requests to the serving processes and their replies, matched by id. `send` reaches every process;
 * each answers through `reply` (wired to the cluster's application messages).
 */
export class MetricsCollector {
  private nextId = 1;
  private readonly pending = new Map<number, { readonly got: JsonValue[]; readonly done: (v: JsonValue[]) => void }>();

  constructor(
    private readonly send: (payload: JsonValue) => void,
    private readonly processes: number,
    private readonly timeoutMs = 2000,
  ) {}

  /** Ask every process; resolves with what arrived once all have answered or the timeout passed. */
  collect(): Promise<JsonValue[]> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const got: JsonValue[] = [];
      const timer = setTimeout(() => finish(), this.timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(got);
      };
      this.pending.set(id, { got, done: finish });
      this.send({ t: 'metrics.req', id });
    });
  }

  /** A message from a process: true when it was a scrape reply (and is consumed). */
  onMessage(payload: JsonValue): boolean {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
    const p = payload as { readonly [k: string]: JsonValue };
    if (p.t !== 'metrics.reply' || typeof p.id !== 'number') return false;
    const w = this.pending.get(p.id);
    if (w !== undefined && p.metrics !== undefined) {
      w.got.push(p.metrics);
      if (w.got.length >= this.processes) w.done(w.got);
    }
    return true;
  }
}

/** A scrape request from the collector (what a serving process answers with processMetrics). */
export function metricsRequestId(payload: JsonValue): number | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const p = payload as { readonly [k: string]: JsonValue };
  return p.t === 'metrics.req' && typeof p.id === 'number' ? p.id : undefined;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** GET /metrics as a route of the API listener (src/http/server.ts). */
export function metricsRoute(collect: () => Promise<JsonValue[]>, log: Logger): Route {
  return {
    pattern: /^\/metrics$/,
    handle: async () => {
      try {
        const text = await renderMetrics(await collect());
        return { status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: text };
      } catch (err) {
        log.error({ err }, 'metrics: scrape failed');
        return { status: 500, type: 'text/plain', body: 'scrape failed\n' };
      }
    },
  };
}

/** GET /metrics (and the `routes` besides, e.g. the analytics report) on host:port (the API listener); else 404. */
export function startMetricsServer(host: string, port: number, collect: () => Promise<JsonValue[]>, log: Logger, routes: readonly Route[] = []): Promise<MetricsServer> {
  const server = http.createServer(router([metricsRoute(collect, log), ...routes], log));
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on http ${host}:${port}: ${err.message}`, { cause: err })));
    server.listen(port, host, () => {
      const a = server.address();
      const bound = a !== null && typeof a === 'object' ? a.port : port;
      log.info({ transport: 'http', address: host, port: bound }, 'listening');
      resolve({ port: bound, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
