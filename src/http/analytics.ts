// DNS analytics report (Cloudflare's legacy dns_analytics API, seed R04): query parsing, the filter grammar,
// per-process aggregation of the rollups, and the merged report.

import { HIST_BUCKETS, histAdd, histValue, keyToText, type AnalyticsRecorder, type Row, type RowDims } from '../query/analytics.js';
import { typeToString } from '../wire/constants.js';
import type { JsonValue } from '../util/json.js';

export const DIMENSIONS = [
  'queryName', 'queryType', 'responseCode', 'responseCached', 'origin', 'tcp', 'ipVersion', 'querySizeBucket',
  'responseSizeBucket', 'source', 'dayOfWeek',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const METRICS = ['queryCount', 'uncachedCount', 'staleCount', 'responseTimeAvg', 'responseTimeMedian', 'responseTime90th', 'responseTime99th'] as const;
export type Metric = (typeof METRICS)[number];

/** Largest `limit` (Cloudflare's as well). */
export const MAX_LIMIT = 100_000;

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI', 'RCODE12', 'RCODE13', 'RCODE14', 'RCODE15'];

/** A request the report cannot answer: HTTP 400 with this message. */
export class ReportError extends Error {
  override readonly name = 'ReportError';
}

// ---------------------------------------------------------------------------------------------------------------
// Filters (seed R04): `dimension operator expression`, `;` (AND) binding tighter than `,` (OR).

export type Operator = '==' | '!=' | '>' | '<' | '>=' | '<=';
export interface Term {
  readonly dimension: Dimension;
  readonly op: Operator;
  readonly value: string;
}
/** OR of ANDs of terms; empty = no filter. */
export type Filter = readonly (readonly Term[])[];

const OPERATORS: readonly Operator[] = ['==', '!=', '>=', '<=', '>', '<'];

function isDimension(s: string): s is Dimension {
  return (DIMENSIONS as readonly string[]).includes(s);
}

function isMetric(s: string): s is Metric {
  return (METRICS as readonly string[]).includes(s);
}

/** Split on `sep` outside single or double quotes. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  for (const ch of text) {
    if (quote !== '') {
      if (ch === quote) quote = '';
      cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quote !== '') throw new ReportError(`filters: unterminated ${quote} quote`);
  out.push(cur);
  return out;
}

function parseTerm(text: string): Term {
  const t = text.trim();
  const m = /^([A-Za-z0-9_]+)\s*(==|!=|>=|<=|>|<)\s*(.*)$/s.exec(t);
  if (m === null) throw new ReportError(`filters: "${t}" is not "dimension operator value" (operators ${OPERATORS.join(' ')})`);
  const [, dim, op, raw] = m as unknown as [string, string, Operator, string];
  if (!isDimension(dim)) throw new ReportError(`filters: unknown dimension "${dim}" (known: ${DIMENSIONS.join(', ')})`);
  let value = raw.trim();
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0]) value = value.slice(1, -1);
  else if (/["']/.test(value)) throw new ReportError(`filters: stray quote in "${t}"`);
  if (value === '') throw new ReportError(`filters: "${t}" has no value`);
  return { dimension: dim, op, value };
}

/** Parse a `filters` parameter; throws ReportError with a message for the 400 answer. */
export function parseFilters(text: string): Filter {
  if (text.trim() === '') return [];
  return splitOutsideQuotes(text, ',').map((alt) => {
    if (alt.trim() === '') throw new ReportError('filters: empty alternative around ","');
    return splitOutsideQuotes(alt, ';').map((term) => {
      if (term.trim() === '') throw new ReportError('filters: empty term around ";"');
      return parseTerm(term);
    });
  });
}

/** A comparable number for ordering comparisons: numbers as such, size buckets by their lower bound. */
function numeric(dim: Dimension, v: string): number {
  if (dim === 'querySizeBucket' || dim === 'responseSizeBucket') return parseInt(v, 10);
  return v.trim() === '' ? NaN : Number(v);
}

function compare(dim: Dimension, a: string, b: string): number {
  const x = numeric(dim, a);
  const y = numeric(dim, b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

function termHolds(t: Term, value: string): boolean {
  // Names and codes compare case-insensitively (responseCode is "always uppercase", names are case-insensitive).
  const fold = t.dimension === 'queryName' || t.dimension === 'responseCode' || t.dimension === 'queryType' || t.dimension === 'responseCached';
  const v = fold ? value.toLowerCase() : value;
  const w = fold ? t.value.toLowerCase() : t.value;
  switch (t.op) {
    case '==':
      return v === w || (t.dimension === 'queryName' && v === w.replace(/\.$/, ''));
    case '!=':
      return !(v === w || (t.dimension === 'queryName' && v === w.replace(/\.$/, '')));
    case '>':
      return compare(t.dimension, v, w) > 0;
    case '<':
      return compare(t.dimension, v, w) < 0;
    case '>=':
      return compare(t.dimension, v, w) >= 0;
    case '<=':
      return compare(t.dimension, v, w) <= 0;
  }
}

export function filterHolds(f: Filter, value: (d: Dimension) => string): boolean {
  if (f.length === 0) return true;
  return f.some((all) => all.every((t) => termHolds(t, value(t.dimension))));
}

// ---------------------------------------------------------------------------------------------------------------
// The query parameters.

export const TIME_DELTAS = ['all', 'auto', 'year', 'quarter', 'month', 'week', 'day', 'hour', 'dekaminute', 'minute'] as const;
export type TimeDelta = (typeof TIME_DELTAS)[number];
const STEP: Readonly<Record<Exclude<TimeDelta, 'auto' | 'all' | 'year' | 'quarter' | 'month'>, number>> = { week: 604_800, day: 86_400, hour: 3600, dekaminute: 600, minute: 60 };

export interface SortKey {
  readonly key: Dimension | Metric;
  readonly desc: boolean;
}

export interface ReportQuery {
  readonly zone: string;
  readonly metrics: readonly Metric[];
  readonly dimensions: readonly Dimension[];
  readonly filtersText: string;
  readonly filters: Filter;
  readonly sort: readonly SortKey[];
  readonly limit: number;
  /** Unix seconds; [since, until). */
  readonly since: number;
  readonly until: number;
  /** bytime only: interval length in seconds (0 for the whole span). */
  readonly step: number;
  readonly timeDelta: TimeDelta | undefined;
}

/** ISO 8601 time or a relative number of minutes (`-60`: an hour ago), as unix seconds. */
function parseTime(name: string, text: string, nowS: number): number {
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    if (n > 0) throw new ReportError(`${name}: a relative time is a negative number of minutes, not ${text}`);
    return nowS + n * 60;
  }
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) throw new ReportError(`${name}: "${text}" is not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z) or a negative number of minutes`);
  return Math.floor(ms / 1000);
}

function list(text: string | null): string[] {
  return text === null ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Read the report's query parameters (GET .../report and .../report/bytime). */
export function parseReportQuery(zone: string, params: URLSearchParams, bytime: boolean, nowS: number): ReportQuery {
  const metrics = list(params.get('metrics'));
  if (metrics.length === 0) metrics.push('queryCount');
  for (const m of metrics) if (!isMetric(m)) throw new ReportError(`metrics: unknown metric "${m}" (known: ${METRICS.join(', ')})`);
  const dimensions = list(params.get('dimensions'));
  for (const d of dimensions) if (!isDimension(d)) throw new ReportError(`dimensions: unknown dimension "${d}" (known: ${DIMENSIONS.join(', ')})`);
  const untilText = params.get('until');
  const until = untilText === null ? nowS : parseTime('until', untilText, nowS);
  const sinceText = params.get('since');
  // Default window: the last 6 hours (as Cloudflare's report).
  const since = sinceText === null ? until - 6 * 3600 : parseTime('since', sinceText, nowS);
  if (since >= until) throw new ReportError('since must be before until');
  const filtersText = params.get('filters') ?? '';
  const filters = parseFilters(filtersText);
  const sort = list(params.get('sort')).map((s): SortKey => {
    const desc = s.startsWith('-');
    const key = s.startsWith('-') || s.startsWith('+') ? s.slice(1) : s;
    if (!(isMetric(key) && metrics.includes(key)) && !(isDimension(key) && dimensions.includes(key))) throw new ReportError(`sort: "${key}" is not one of the requested metrics or dimensions`);
    return { key: key as Dimension | Metric, desc };
  });
  const limitText = params.get('limit');
  let limit = MAX_LIMIT;
  if (limitText !== null) {
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) throw new ReportError(`limit: ${limitText} is not an integer in 1..${MAX_LIMIT}`);
    limit = Number(limitText);
  }
  let step = 0;
  let timeDelta: TimeDelta | undefined;
  if (bytime) {
    const td = params.get('time_delta') ?? 'auto';
    if (!(TIME_DELTAS as readonly string[]).includes(td)) throw new ReportError(`time_delta: "${td}" is not one of ${TIME_DELTAS.join(', ')}`);
    timeDelta = td as TimeDelta;
    step = stepOf(timeDelta, until - since);
  }
  return { zone, metrics: metrics as Metric[], dimensions: dimensions as Dimension[], filtersText, filters, sort, limit, since, until, step, timeDelta };
}

function stepOf(td: TimeDelta, span: number): number {
  switch (td) {
    case 'all':
      return 0;
    case 'auto':
      // At most a few hundred intervals.
      return span <= 6 * 3600 ? 60 : span <= 3 * 86_400 ? 3600 : 86_400;
    case 'year':
      return 365 * 86_400;
    case 'quarter':
      return 91 * 86_400;
    case 'month':
      return 30 * 86_400;
    case 'week':
    case 'day':
    case 'hour':
    case 'dekaminute':
    case 'minute':
      return STEP[td];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Per-process aggregation (runs in every worker) and the merge (in the primary).

/** The part of a ReportQuery a worker needs (JSON: it crosses the cluster IPC). */
export interface AggregateRequest {
  readonly zone: string;
  readonly since: number;
  readonly until: number;
  readonly dimensions: readonly string[];
  readonly filters: string;
  readonly step: number;
}

export function aggregateRequest(q: ReportQuery): AggregateRequest {
  return { zone: q.zone, since: q.since, until: q.until, dimensions: q.dimensions, filters: q.filtersText, step: q.step };
}

/** One group: dimension values, interval index, count, uncached, stale, sum of ms, histogram as [bucket, n]… */
export type Group = readonly [dims: readonly string[], interval: number, count: number, uncached: number, stale: number, sumMs: number, hist: readonly number[]];

function rowValue(d: Dimension, nameKey: string, r: RowDims, start: number): string {
  switch (d) {
    case 'queryName':
      return keyToText(nameKey);
    case 'queryType':
      // Seed R04: "Unknown types are empty".
      return r.qtype === 0 ? '' : typeToString(r.qtype);
    case 'responseCode':
      return RCODES[r.rcode] ?? '';
    case 'responseCached':
      return r.cached ? 'Cached' : 'Uncached';
    case 'origin':
      return r.origin;
    case 'tcp':
      return r.tcp ? '1' : '0';
    case 'ipVersion':
      return r.ipv6 ? '6' : '4';
    case 'querySizeBucket':
    case 'responseSizeBucket': {
      const lo = (d === 'querySizeBucket' ? r.querySize16 : r.responseSize16) * 16;
      return `${lo}-${lo + 15}`;
    }
    case 'source':
      return r.source;
    case 'dayOfWeek':
      // Monday 1 … Sunday 7 (seed R04), UTC.
      return String(((new Date(start * 1000).getUTCDay() + 6) % 7) + 1);
  }
}

/** This process's groups for a request: rows of the zone's buckets in the window, filtered, grouped. */
export function aggregate(rec: AnalyticsRecorder, req: AggregateRequest): Group[] {
  const filters = parseFilters(req.filters);
  const dims = req.dimensions.filter(isDimension);
  const groups = new Map<string, { dims: string[]; interval: number; row: Row }>();
  for (const b of rec.buckets(req.zone, req.since, req.until)) {
    const interval = req.step === 0 ? 0 : Math.max(0, Math.floor((b.start - req.since) / req.step));
    for (const [nameKey, r] of b.entries()) {
      const parts = b.dimsOf(r);
      const cache = new Map<Dimension, string>();
      const value = (d: Dimension): string => {
        let v = cache.get(d);
        if (v === undefined) cache.set(d, (v = rowValue(d, nameKey, parts, b.start)));
        return v;
      };
      if (!filterHolds(filters, value)) continue;
      const vals = dims.map(value);
      const key = `${interval}\u0000${vals.join('\u0000')}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { dims: vals, interval, row: { key: 0, count: 0, uncached: 0, stale: 0, sumMs: 0, hist: [] } }));
      g.row.count += r.count;
      g.row.uncached += r.uncached;
      g.row.stale += r.stale;
      g.row.sumMs += r.sumMs;
      for (let i = 0; i + 1 < r.hist.length; i += 2) histAdd(g.row.hist, r.hist[i]!, r.hist[i + 1]!);
    }
  }
  return [...groups.values()].map((g) => {
    return [g.dims, g.interval, g.row.count, g.row.uncached, g.row.stale, g.row.sumMs, g.row.hist] as const;
  });
}

/** Sums of groups: the figures every metric is computed from. */
class Acc {
  count = 0;
  uncached = 0;
  stale = 0;
  sumMs = 0;
  readonly hist = new Float64Array(HIST_BUCKETS);

  add(g: Group): void {
    this.count += g[2];
    this.uncached += g[3];
    this.stale += g[4];
    this.sumMs += g[5];
    const h = g[6];
    for (let i = 0; i + 1 < h.length; i += 2) if (h[i]! >= 0 && h[i]! < HIST_BUCKETS) this.hist[h[i]!]! += h[i + 1]!;
  }

  private percentile(p: number): number {
    if (this.count === 0) return 0;
    const want = p * this.count;
    let acc = 0;
    for (let i = 0; i < HIST_BUCKETS; i++) {
      acc += this.hist[i]!;
      if (acc >= want) return round(histValue(i));
    }
    return round(histValue(HIST_BUCKETS - 1));
  }

  metric(m: Metric): number {
    switch (m) {
      case 'queryCount':
        return this.count;
      case 'uncachedCount':
        return this.uncached;
      case 'staleCount':
        return this.stale;
      case 'responseTimeAvg':
        return this.count === 0 ? 0 : round(this.sumMs / this.count);
      case 'responseTimeMedian':
        return this.percentile(0.5);
      case 'responseTime90th':
        return this.percentile(0.9);
      case 'responseTime99th':
        return this.percentile(0.99);
    }
  }
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

const iso = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** The `result` object of the report (Cloudflare's shape) from every process's groups. */
export function buildReport(q: ReportQuery, perProcess: readonly (readonly Group[])[]): { readonly [k: string]: JsonValue } {
  const bytime = q.timeDelta !== undefined;
  const intervals = bytime ? (q.step === 0 ? 1 : Math.ceil((q.until - q.since) / q.step)) : 1;
  const rows = new Map<string, { dims: readonly string[]; all: Acc; per: Acc[] }>();
  const totals = new Acc();
  for (const groups of perProcess) {
    for (const g of groups) {
      const key = g[0].join('\u0000');
      let r = rows.get(key);
      if (r === undefined) rows.set(key, (r = { dims: g[0], all: new Acc(), per: [] }));
      r.all.add(g);
      totals.add(g);
      const i = Math.min(g[1], intervals - 1);
      (r.per[i] ??= new Acc()).add(g);
    }
  }
  const list = [...rows.values()];
  const sortKeys: readonly SortKey[] = q.sort.length > 0 ? q.sort : [{ key: q.metrics[0]!, desc: true }];
  const value = (r: (typeof list)[number], k: Dimension | Metric): string | number => (isMetric(k) ? r.all.metric(k) : r.dims[q.dimensions.indexOf(k)] ?? '');
  list.sort((a, b) => {
    for (const s of sortKeys) {
      const x = value(a, s.key);
      const y = value(b, s.key);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
      if (c !== 0) return s.desc ? -c : c;
    }
    // Ties: by dimension values, so the order is deterministic.
    const x = a.dims.join('\u0000');
    const y = b.dims.join('\u0000');
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const kept = list.slice(0, q.limit);
  const empty = new Acc();
  const min: Record<string, number> = {};
  const max: Record<string, number> = {};
  const tot: Record<string, number> = {};
  for (const m of q.metrics) {
    tot[m] = totals.metric(m);
    const vals = bytime ? kept.flatMap((r) => Array.from({ length: intervals }, (_, i) => (r.per[i] ?? empty).metric(m))) : kept.map((r) => r.all.metric(m));
    min[m] = vals.length === 0 ? 0 : Math.min(...vals);
    max[m] = vals.length === 0 ? 0 : Math.max(...vals);
  }
  const data = kept.map((r) => ({
    dimensions: [...r.dims],
    metrics: q.metrics.map((m) => (bytime ? Array.from({ length: intervals }, (_, i) => (r.per[i] ?? empty).metric(m)) : r.all.metric(m))),
  }));
  const query: { [k: string]: JsonValue } = {
    dimensions: [...q.dimensions],
    metrics: [...q.metrics],
    filters: q.filtersText,
    sort: q.sort.map((s) => `${s.desc ? '-' : '+'}${s.key}`),
    since: iso(q.since),
    until: iso(q.until),
    limit: q.limit,
  };
  const result: { [k: string]: JsonValue } = { rows: data.length, data, data_lag: 0, min, max, totals: tot, query };
  if (bytime) {
    query.time_delta = q.timeDelta ?? 'all';
    result.time_intervals = Array.from({ length: intervals }, (_, i) => {
      const a = q.since + i * q.step;
      return [iso(a), iso(q.step === 0 ? q.until : Math.min(a + q.step, q.until))];
    });
  }
  return result;
}

/** Cloudflare's envelope. */
export function envelope(result: JsonValue): JsonValue {
  return { success: true, errors: [], messages: [], result };
}

/** Cloudflare's error envelope (the `code` numbers are apexdns's own). */
export function errorEnvelope(code: number, message: string): JsonValue {
  return { success: false, errors: [{ code, message }], messages: [], result: null };
}

// ---------------------------------------------------------------------------------------------------------------
// Cluster IPC: {t:'analytics.req', id, q} to every serving process, {t:'analytics.reply', id, groups} back.

function record(payload: JsonValue): { readonly [k: string]: JsonValue } | undefined {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as { readonly [k: string]: JsonValue }) : undefined;
}

/** A request from the collector: what a serving process answers with `aggregate`. */
export function analyticsRequest(payload: JsonValue): { readonly id: number; readonly req: AggregateRequest } | undefined {
  const p = record(payload);
  if (p?.t !== 'analytics.req' || typeof p.id !== 'number') return undefined;
  return { id: p.id, req: p.q as unknown as AggregateRequest };
}

/** A process's answer: the zone the request's zone_id or name stands for (null: not served here), its groups. */
export function analyticsReply(id: number, zone: string | null, groups: readonly Group[]): JsonValue {
  return { t: 'analytics.reply', id, zone, groups: groups as unknown as JsonValue };
}

/** What the processes answered: the zone (undefined when none serves it) and every process's groups. */
export interface Collected {
  readonly zone: string | undefined;
  readonly groups: readonly (readonly Group[])[];
}

/** Requests to every serving process and their replies, matched by id (as metrics' MetricsCollector). */
export class AnalyticsCollector {
  private nextId = 1;
  private readonly pending = new Map<number, { readonly got: Group[][]; zone: string | undefined; readonly done: () => void }>();

  constructor(
    private readonly send: (payload: JsonValue) => void,
    private readonly processes: number,
    private readonly timeoutMs = 5000,
  ) {}

  /** Ask every process; `req.zone` is the zone_id or name as given, each process resolves it against its zones. */
  collect(req: AggregateRequest): Promise<Collected> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const got: Group[][] = [];
      const timer = setTimeout(() => finish(), this.timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        const w = this.pending.get(id);
        this.pending.delete(id);
        resolve({ zone: w?.zone, groups: got });
      };
      this.pending.set(id, { got, zone: undefined, done: finish });
      this.send({ t: 'analytics.req', id, q: req as unknown as JsonValue });
    });
  }

  /** True when the message was an analytics reply (and is consumed). */
  onMessage(payload: JsonValue): boolean {
    const p = record(payload);
    if (p?.t !== 'analytics.reply' || typeof p.id !== 'number') return false;
    const w = this.pending.get(p.id);
    if (w !== undefined && Array.isArray(p.groups)) {
      if (typeof p.zone === 'string') w.zone = p.zone;
      w.got.push(p.groups as unknown as Group[]);
      if (w.got.length >= this.processes) w.done();
    }
    return true;
  }
}
