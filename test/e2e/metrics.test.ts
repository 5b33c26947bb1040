// End to end: GET /metrics on api.listen with two workers. Exact query counts summed over both workers, zone
// gauges, cache and TCP counters, the response-time histogram, and `promtool check metrics` on the output.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';
import { tool } from '../helpers/tools.js';
import { askOn, boundUdp, exampleZoneDir, logLines, perTest, promSamples, tcp, waitFor } from './env.js';

const built = daemonBuilt();
const promtool = tool('promtool');
const SOCKETS = 20;
const ROUNDS = 5;




describe.skipIf('skip' in built)('GET /metrics', () => {
  const t = perTest();

  it('workers: 2 — counts summed over both workers, zone gauges, histogram; promtool accepts the output', async () => {
    t.z = exampleZoneDir();
    const api = await freePort();
    t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }], { workers: 2, extra: { api: { listen: `127.0.0.1:${api}` } } });
    await waitFor('the metrics listener', () => logLines(t.d!.output()).some((l) => l.transport === 'http' && l.msg === 'listening'), 20_000);
    const before = promSamples(await (await fetch(`http://127.0.0.1:${api}/metrics`)).text());
    const socks = await Promise.all(Array.from({ length: SOCKETS }, boundUdp));
    try {
      for (let r = 0; r < ROUNDS; r++) {
        await Promise.all(socks.map((s, i) => askOn(s, t.d!.port, { name: 'www.example.com', type: 'A', id: 1 + r * SOCKETS + i })));
        await Promise.all(socks.map((s, i) => askOn(s, t.d!.port, { name: `nx${i}.example.com`, type: 'A', id: 10_000 + r * SOCKETS + i })));
      }
    } finally {
      for (const s of socks) s.close();
    }
    for (let i = 0; i < 3; i++) expect((await tcp(t.d.port, { name: 'www.example.com', type: 'AAAA' })).rcode).toBe(0);
    const res = await fetch(`http://127.0.0.1:${api}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const m = promSamples(text);
    const delta = (k: string): number => (m.get(k) ?? 0) - (before.get(k) ?? 0);
    const n = SOCKETS * ROUNDS;
    expect(delta('apexdns_queries_total{qtype="A",rcode="NOERROR",protocol="udp",ip_version="4"}')).toBe(n);
    expect(delta('apexdns_queries_total{qtype="A",rcode="NXDOMAIN",protocol="udp",ip_version="4"}')).toBe(n);
    expect(delta('apexdns_queries_total{qtype="AAAA",rcode="NOERROR",protocol="tcp",ip_version="4"}')).toBe(3);
    expect(delta('apexdns_response_time_seconds_count')).toBe(2 * n + 3);
    expect(delta('apexdns_response_time_seconds_bucket{le="+Inf"}')).toBe(2 * n + 3);
    expect(delta('apexdns_answer_cache_hits_total') + delta('apexdns_answer_cache_misses_total')).toBe(2 * n + 3);
    expect(delta('apexdns_tcp_connections_total')).toBe(3);
    expect(m.get('apexdns_zone_serial{zone="example.com."}')).toBe(2024060101);
    expect(m.get('apexdns_zone_last_load_error{zone="example.com."}')).toBe(0);
    expect(m.get('apexdns_zone_records{zone="example.com."}')).toBeGreaterThan(10);
    // prom-client's process metrics, summed over the workers.
    expect(m.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${api}/other`)).status).toBe(404);
    if (!('skip' in promtool)) {
      const out = execFileSync(promtool.path, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(out.trim()).toBe('');
    }
  }, 60_000);
});
