// `apexdns status|zone-status|reload|stats`: ask the running daemon over its control socket (as knotc and rndc do),
// print readable text, or JSON with --json.

import { resolve as resolvePath } from 'node:path';
import { formatConfigError, loadConfig } from '../config/index.js';
import { controlSocketPath, sendControl, type ControlReply, type DaemonCommand } from '../transfer/control.js';
import type { JsonValue } from '../util/json.js';

export const CTL_USAGE = `usage: apexdns status [ZONE] | zone-status ZONE | reload [ZONE] | stats   (--config FILE | --socket PATH) [--json]
  status       workers, uptime, queries per second, and every zone's serial, records, DNSSEC and load/transfer state
  zone-status  the same for one zone
  reload       re-read the config and the changed zone files in every worker (as SIGHUP); with ZONE, that zone's result
  stats        counters summed over all workers (queries, rcodes, caches, TCP, rate limiting, transfers)
`;

interface Args {
  readonly cmd: 'status' | 'zone-status' | 'reload' | 'stats';
  readonly zone: string | undefined;
  readonly socket: string;
  readonly json: boolean;
}

async function parse(cmd: string, argv: readonly string[]): Promise<Args | number> {
  const rest = [...argv];
  let socket: string | undefined;
  let configFile: string | undefined;
  let json = false;
  for (let i = 0; i < rest.length; ) {
    const a = rest[i]!;
    if (a === '--json') {
      json = true;
      rest.splice(i, 1);
    } else if (a === '--socket' || a === '--config') {
      const v = rest[i + 1];
      if (v === undefined) return 2;
      if (a === '--socket') socket = v;
      else configFile = v;
      rest.splice(i, 2);
    } else i++;
  }
  const [zone, ...extra] = rest;
  if (extra.length > 0 || (cmd === 'zone-status' && zone === undefined) || (cmd === 'stats' && zone !== undefined)) return 2;
  if (socket === undefined) {
    if (configFile === undefined) return 2;
    const res = await loadConfig(resolvePath(configFile));
    if (!res.ok) {
      for (const e of res.errors) process.stderr.write(formatConfigError(e) + '\n');
      return 1;
    }
    socket = controlSocketPath(res.config.stateDir);
  }
  return { cmd: cmd as Args['cmd'], zone, socket, json };
}

type Samples = Readonly<Record<string, number>>;

function asSamples(d: JsonValue | undefined): Samples {
  return typeof d === 'object' && d !== null && !Array.isArray(d) ? (d as Samples) : {};
}

/** Sum of the samples of `metric` whose labels match `filter` (a substring such as `rcode="NOERROR"`). */
function sum(s: Samples, metric: string, filter = ''): number {
  let n = 0;
  for (const [k, v] of Object.entries(s)) {
    if ((k === metric || k.startsWith(`${metric}{`)) && k.includes(filter)) n += v;
  }
  return n;
}

function pct(a: number, b: number): string {
  return b === 0 ? '-' : `${((100 * a) / b).toFixed(1)} %`;
}

function statsText(s: Samples): string {
  const q = sum(s, 'apexdns_queries_total');
  const rcodes = new Map<string, number>();
  for (const [k, v] of Object.entries(s)) {
    const m = /^apexdns_queries_total\{.*rcode="([A-Z0-9]+)"/.exec(k);
    if (m) rcodes.set(m[1]!, (rcodes.get(m[1]!) ?? 0) + v);
  }
  const ah = sum(s, 'apexdns_answer_cache_hits_total');
  const am = sum(s, 'apexdns_answer_cache_misses_total');
  const sh = sum(s, 'apexdns_signature_cache_hits_total');
  const sm = sum(s, 'apexdns_signature_cache_misses_total');
  return [
    `queries:         ${q} (udp ${sum(s, 'apexdns_queries_total', 'protocol="udp"')}, tcp ${sum(s, 'apexdns_queries_total', 'protocol="tcp"')}; IPv4 ${sum(s, 'apexdns_queries_total', 'ip_version="4"')}, IPv6 ${sum(s, 'apexdns_queries_total', 'ip_version="6"')})`,
    `rcodes:          ${[...rcodes].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ') || '-'}`,
    `truncated:       ${sum(s, 'apexdns_responses_truncated_total')}, dropped ${sum(s, 'apexdns_queries_dropped_total')}`,
    `answer cache:    ${pct(ah, ah + am)} hits (${ah} of ${ah + am}), ${sum(s, 'apexdns_answer_cache_entries')} entries`,
    `signatures:      ${sum(s, 'apexdns_signatures_made_total')} made, signature cache ${pct(sh, sh + sm)} hits, signing budget refused ${sum(s, 'apexdns_signing_budget_refused_total')}`,
    `rate limiting:   ${sum(s, 'apexdns_rrl_limited_total', 'action="drop"')} dropped, ${sum(s, 'apexdns_rrl_limited_total', 'action="slip"')} truncated`,
    `tcp:             ${sum(s, 'apexdns_tcp_connections_open')} open, ${sum(s, 'apexdns_tcp_connections_total')} accepted, ${sum(s, 'apexdns_tcp_connections_refused_total')} refused, ${sum(s, 'apexdns_tcp_connections_evicted_total')} evicted`,
    `transfers:       served AXFR ${sum(s, 'apexdns_transfers_served_total', 'type="AXFR"')}, IXFR ${sum(s, 'apexdns_transfers_served_total', 'type="IXFR"')}; received AXFR ${sum(s, 'apexdns_transfers_received_total', 'type="AXFR"')}, IXFR ${sum(s, 'apexdns_transfers_received_total', 'type="IXFR"')}`,
    `notify:          sent ${sum(s, 'apexdns_notify_sent_total', 'outcome="acknowledged"')} (given up ${sum(s, 'apexdns_notify_sent_total', 'outcome="given_up"')}), received ${sum(s, 'apexdns_notify_received_total')}`,
  ].join('\n');
}

function field(z: { readonly [k: string]: JsonValue }, k: string): string {
  const v = z[k];
  return v === null || v === undefined ? '-' : String(v);
}

function when(unix: JsonValue | undefined): string {
  return typeof unix === 'number' && unix > 0 ? new Date(unix * 1000).toISOString().replace('.000Z', 'Z') : 'never';
}

function statusText(d: { readonly [k: string]: JsonValue }, qps: number | undefined): string {
  const zones = (Array.isArray(d.zones) ? d.zones : []) as readonly { readonly [k: string]: JsonValue }[];
  const head = `apexdns: pid ${field(d, 'pid')}, ${field(d, 'workers')} worker(s), up ${field(d, 'uptimeSeconds')} s${qps === undefined ? '' : `, ${qps.toFixed(1)} queries/s`}`;
  const rows = zones.map((z) => {
    const state = z.type === 'secondary'
      ? `${z.expired === true ? 'EXPIRED' : 'serving'}; last refresh ${when(z.lastRefresh)} ${z.lastRefreshOk === true ? 'ok' : 'failed'}; expires in ${field(z, 'expiresInSeconds')} s`
      : `${z.serial === null ? 'NOT LOADED' : 'serving'}; last load ${when(z.lastLoad)} ${z.lastLoadOk === true ? 'ok' : 'failed (previous version serving)'}`;
    return `  ${field(z, 'zone')}  ${field(z, 'type')}  serial ${field(z, 'serial')}  records ${field(z, 'records')}  dnssec ${field(z, 'dnssec')}  ${state}`;
  });
  return [head, ...rows].join('\n');
}

function reloadZoneText(data: JsonValue | undefined, zone: string): string {
  const want = zone.endsWith('.') ? zone.toLowerCase() : `${zone.toLowerCase()}.`;
  const workers = (Array.isArray(data) ? data : []) as readonly { readonly [k: string]: JsonValue }[];
  return workers.map((w) => {
    const report = w.report as { readonly zones?: readonly { readonly [k: string]: JsonValue }[] } | undefined;
    const z = report?.zones?.find((x) => String(x.zone).toLowerCase() === want);
    if (w.ok !== true) return `worker ${field(w, 'workerId')}: reload failed: ${field(w, 'error')}`;
    if (z === undefined) return `worker ${field(w, 'workerId')}: ${want} is not configured`;
    const errors = Array.isArray(z.errors) ? `: ${z.errors.join('; ')}` : '';
    return `worker ${field(w, 'workerId')}: ${want} ${field(z, 'status')}, serial ${field(z, 'serial')}${errors}`;
  }).join('\n');
}

async function ask(a: Args, cmd: DaemonCommand): Promise<ControlReply> {
  return sendControl(a.socket, a.zone === undefined || cmd === 'stats' ? { cmd } : { cmd, zone: a.zone });
}

export async function ctlCommand(cmd: string, argv: readonly string[]): Promise<number> {
  const a = await parse(cmd, argv);
  if (typeof a === 'number') {
    if (a === 2) process.stderr.write(CTL_USAGE);
    return a;
  }
  const out = (text: string, data: JsonValue | undefined): void => {
    process.stdout.write(a.json ? JSON.stringify(data ?? null, null, 2) + '\n' : text + '\n');
  };
  try {
    switch (a.cmd) {
      case 'stats': {
        const r = await ask(a, 'stats');
        if (!r.ok) throw new Error(r.message);
        out(statsText(asSamples(r.data)), r.data);
        return 0;
      }
      case 'reload': {
        // Every worker re-reads the config and the zone files that changed (unchanged ones are not rebuilt, so a
        // ZONE argument costs nothing more); with ZONE, each worker's result for that zone is shown.
        const r = await ask(a, 'reload');
        const text = a.zone === undefined ? r.message : reloadZoneText(r.data, a.zone);
        (r.ok ? process.stdout : process.stderr).write(a.json ? JSON.stringify(r.data ?? null, null, 2) + '\n' : text + '\n');
        return r.ok ? 0 : 1;
      }
      case 'status':
      case 'zone-status': {
        // Queries per second: two stats samples one second apart.
        const before = sum(asSamples((await ask(a, 'stats')).data), 'apexdns_queries_total');
        const t0 = Date.now();
        const r = await ask(a, 'status');
        if (!r.ok) throw new Error(r.message);
        await new Promise((res) => setTimeout(res, Math.max(0, 1000 - (Date.now() - t0))));
        const after = sum(asSamples((await ask(a, 'stats')).data), 'apexdns_queries_total');
        const qps = (after - before) / ((Date.now() - t0) / 1000);
        const d = (typeof r.data === 'object' && r.data !== null && !Array.isArray(r.data) ? r.data : {}) as { readonly [k: string]: JsonValue };
        out(statusText(d, qps), { ...d, queriesPerSecond: Math.round(qps * 10) / 10 });
        return 0;
      }
      default: {
        const never: never = a.cmd;
        return never;
      }
    }
  } catch (e) {
    process.stderr.write(`apexdns: ${(e as Error).message}\n`);
    return 1;
  }
}
