// End to end: the DNS analytics report (Cloudflare's dns_analytics/report and /report/bytime) on api.listen with
// two workers: exact counts by queryType, responseCode, queryName, tcp and responseCached after a known set of
// queries from many source ports, bytime series, zone_id and zone-name paths, and the 400 error shape.

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';
import { askOn, boundUdp, exampleZoneDir, logLines, perTest, tcp, waitFor } from './env.js';

const built = daemonBuilt();
const SOCKETS = 20;
const ROUNDS = 5;



interface Report {
  readonly success: boolean;
  readonly errors: readonly { code: number; message: string }[];
  readonly messages: readonly unknown[];
  readonly result: {
    readonly rows: number;
    readonly data: readonly { dimensions: string[]; metrics: (number | number[])[] }[];
    readonly totals: Record<string, number>;
    readonly min: Record<string, number>;
    readonly max: Record<string, number>;
    readonly query: Record<string, unknown>;
    readonly time_intervals?: readonly [string, string][];
    readonly data_lag: number;
  } | null;
}

describe.skipIf('skip' in built)('DNS analytics report', () => {
  const t = perTest();

  it('workers: 2 — exact counts over both workers by type, rcode, name, tcp and cache; bytime; errors', async () => {
    t.z = exampleZoneDir();
    const api = await freePort();
    t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }], { workers: 2, extra: { api: { listen: `127.0.0.1:${api}` }, analytics: { enabled: true }, log: { queries: true } } });
    await waitFor('the api listener', () => logLines(t.d!.output()).some((l) => l.transport === 'http' && l.msg === 'listening'), 20_000);
    const socks = await Promise.all(Array.from({ length: SOCKETS }, boundUdp));
    try {
      for (let r = 0; r < ROUNDS; r++) {
        await Promise.all(socks.map((s, i) => askOn(s, t.d!.port, { name: 'www.example.com', type: 'A', id: 1 + r * SOCKETS + i })));
        await Promise.all(socks.map((s, i) => askOn(s, t.d!.port, { name: `nx${i}.example.com`, type: 'A', id: 10_000 + r * SOCKETS + i })));
      }
      // One source socket reaches one worker: its first TXT answer is made, the next three come from its cache.
      for (let i = 0; i < 4; i++) await askOn(socks[0]!, t.d.port, { name: 'example.com', type: 'TXT', id: 20_000 + i });
    } finally {
      for (const s of socks) s.close();
    }
    for (let i = 0; i < 3; i++) expect((await tcp(t.d.port, { name: 'www.example.com', type: 'AAAA' })).rcode).toBe(0);
    const n = SOCKETS * ROUNDS;
    // Both workers answered some of them (the query log lines carry the worker slot), so the report sums two.
    await waitFor('the query log lines', () => logLines(t.d!.output()).filter((l) => l.msg === 'query' && l.qname !== 'example.com.').length >= 2 * n + 3);
    expect(new Set(logLines(t.d.output()).filter((l) => l.msg === 'query').map((l) => l.worker))).toEqual(new Set([0, 1]));
    const id = createHash('sha256').update('example.com').digest('hex').slice(0, 32);
    const base = `http://127.0.0.1:${api}/client/v4/zones`;
    // The daemon's readiness probes ask SOA: left out by a filter.
    const get = async (path: string, params: string): Promise<[number, Report]> => {
      const res = await fetch(`${base}/${path}?${params}`);
      expect(res.headers.get('content-type')).toBe('application/json');
      return [res.status, (await res.json()) as Report];
    };
    const table = (r: Report): [string[], (number | number[])[]][] => r.result!.data.map((d) => [d.dimensions, d.metrics]);

    const [st, byType] = await get(`${id}/dns_analytics/report`, 'metrics=queryCount&dimensions=queryType&filters=queryType!=SOA&since=-10');
    expect(st).toBe(200);
    expect(byType.success).toBe(true);
    expect(byType.errors).toEqual([]);
    expect(byType.messages).toEqual([]);
    expect(table(byType)).toEqual([[['A'], [2 * n]], [['TXT'], [4]], [['AAAA'], [3]]]);
    expect(byType.result!.rows).toBe(3);
    expect(byType.result!.totals).toEqual({ queryCount: 2 * n + 7 });
    expect(byType.result!.min).toEqual({ queryCount: 3 });
    expect(byType.result!.max).toEqual({ queryCount: 2 * n });
    expect(byType.result!.query).toMatchObject({ dimensions: ['queryType'], metrics: ['queryCount'], filters: 'queryType!=SOA', limit: 100_000 });

    const [, byCode] = await get('example.com/dns_analytics/report', 'dimensions=responseCode&filters=queryType!=SOA&since=-10');
    expect(table(byCode)).toEqual([[['NOERROR'], [n + 7]], [['NXDOMAIN'], [n]]]);

    const [, nx] = await get('example.com/dns_analytics/report', 'dimensions=queryName&filters=responseCode==NXDOMAIN&sort=+queryName&limit=3&since=-10');
    expect(table(nx)).toEqual([[['nx0.example.com'], [ROUNDS]], [['nx1.example.com'], [ROUNDS]], [['nx10.example.com'], [ROUNDS]]]);
    expect(nx.result!.totals).toEqual({ queryCount: n });

    const [, www] = await get('example.com/dns_analytics/report', 'dimensions=queryName,tcp&filters=queryName==www.example.com&sort=+tcp&since=-10');
    expect(table(www)).toEqual([[['www.example.com', '0'], [n]], [['www.example.com', '1'], [3]]]);

    const [, cache] = await get('example.com/dns_analytics/report', 'metrics=queryCount,uncachedCount&dimensions=responseCached&filters=queryType==TXT&since=-10');
    expect(table(cache)).toEqual([[['Cached'], [3, 0]], [['Uncached'], [1, 1]]]);

    const [, bt] = await get('example.com/dns_analytics/report/bytime', 'dimensions=responseCode&filters=queryType!=SOA&time_delta=minute&since=-5&sort=+responseCode');
    const series = table(bt);
    expect(series.map(([d]) => d)).toEqual([['NOERROR'], ['NXDOMAIN']]);
    const sum = (v: number | number[] | undefined): number => (Array.isArray(v) ? v.reduce((a, b) => a + b, 0) : NaN);
    expect(series.map(([, m]) => (m[0] as number[]).length)).toEqual([5, 5]);
    expect(series.map(([, m]) => sum(m[0]))).toEqual([n + 7, n]);
    expect(bt.result!.time_intervals).toHaveLength(5);
    expect(bt.result!.query).toMatchObject({ time_delta: 'minute' });

    const [bad, err] = await get('example.com/dns_analytics/report', 'dimensions=queryType&filters=queryType=A');
    expect(bad).toBe(400);
    expect(err).toEqual({ success: false, errors: [{ code: 7400, message: 'filters: "queryType=A" is not "dimension operator value" (operators == != >= <= > <)' }], messages: [], result: null });

    const [missing, none] = await get('example.org/dns_analytics/report', '');
    expect(missing).toBe(404);
    expect(none.success).toBe(false);
    expect(none.errors[0]!.code).toBe(7003);
    // /metrics still answers on the same listener.
    expect((await fetch(`http://127.0.0.1:${api}/metrics`)).status).toBe(200);
  }, 60_000);

  it('survives a restart: the rollups are saved under state-dir on stop and restored on start', async () => {
    t.z = exampleZoneDir();
    const state = mkdtempSync(join(tmpdir(), 'apexdns-analytics-state-'));
    try {
      const start = async (): Promise<number> => {
        const api = await freePort();
        t.d = await startDaemon([{ name: 'example.com', file: t.z!.zoneFile }], { extra: { api: { listen: `127.0.0.1:${api}` }, analytics: { enabled: true }, 'state-dir': state } });
        await waitFor('the api listener', () => logLines(t.d!.output()).some((l) => l.transport === 'http' && l.msg === 'listening'), 20_000);
        return api;
      };
      const report = async (api: number): Promise<unknown> =>
        ((await (await fetch(`http://127.0.0.1:${api}/client/v4/zones/example.com/dns_analytics/report?dimensions=queryName&filters=queryType==MX&since=-30`)).json()) as Report).result!.data;
      let api = await start();
      for (let i = 0; i < 3; i++) expect((await tcp(t.d!.port, { name: 'example.com', type: 'MX' })).rcode).toBe(0);
      expect(await report(api)).toEqual([{ dimensions: ['example.com'], metrics: [3] }]);
      await t.d!.stop();
      expect(readdirSync(join(state, 'analytics'))).toEqual(['worker-0.json']);
      api = await start();
      expect(await report(api)).toEqual([{ dimensions: ['example.com'], metrics: [3] }]);
    } finally {
      await t.d?.stop();
      t.d = undefined;
      rmSync(state, { recursive: true, force: true });
    }
  }, 60_000);
});
