// End to end: the transfer metrics on GET /metrics. An apexdns primary and an apexdns secondary, each with an API
// listener: the first AXFR, a SIGHUP change followed by NOTIFY and IXFR, and the secondary's refresh gauges.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { freePorts } from '../helpers/ports.js';
import { KEY, READER, soaSerial, teardown, tmp, until, zone } from './util.js';
import { promSamples } from '../e2e/env.js';

const built = daemonBuilt();
afterAll(teardown, 30_000);

async function scrape(port: number): Promise<Map<string, number>> {
  return promSamples(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
}

describe.skipIf('skip' in built)('transfer metrics', () => {
  it('counts AXFR and IXFR served and received, NOTIFY sent and received; secondary refresh gauges', async () => {
    const dir = tmp();
    const f = join(dir, 'example.net.zone');
    const [pp, ps, pa, sa] = await freePorts(4);
    writeFileSync(f, zone('example.net', 1, ['www IN A 192.0.2.10']));
    const p = await startDaemon([{ name: 'example.net', file: f }], {
      port: pp,
      extra: {
        'state-dir': join(dir, 'p'),
        api: { listen: `127.0.0.1:${pa}` },
        'tsig-keys': KEY,
        acl: READER,
        peers: [{ name: 's', address: '127.0.0.1', port: ps, tsig: 'xfr-key' }],
        zones: [{ name: 'example.net', file: f, notify: ['s'], 'allow-transfer': ['s'], serial: 'increment' }],
      },
    });
    const s = await startDaemon([{ name: 'example.net', file: f }], {
      port: ps,
      timeoutMs: 20_000,
      extra: {
        'state-dir': join(dir, 's'),
        api: { listen: `127.0.0.1:${sa}` },
        'tsig-keys': KEY,
        acl: READER,
        peers: [{ name: 'p', address: '127.0.0.1', port: pp, tsig: 'xfr-key', ixfr: true }],
        zones: [{ name: 'example.net', type: 'secondary', primaries: ['p'], refresh: 3600 }],
      },
    });
    await until(async () => (await soaSerial(ps!, 'example.net')) === 1, 10_000, 'the secondary at serial 1');
    writeFileSync(f, zone('example.net', 1, ['www IN A 192.0.2.11']));
    p.reload();
    await until(async () => (await soaSerial(ps!, 'example.net')) === 2, 20_000, 'the secondary at serial 2 after NOTIFY');
    await until(async () => ((await scrape(pa!)).get('apexdns_notify_sent_total{outcome="acknowledged"}') ?? 0) >= 1, 10_000, 'NOTIFY counted');
    const pm = await scrape(pa!);
    const sm = await scrape(sa!);
    expect(pm.get('apexdns_transfers_served_total{type="AXFR"}')).toBe(1);
    expect(pm.get('apexdns_transfers_served_total{type="IXFR"}')).toBe(1);
    expect(pm.get('apexdns_notify_sent_total{outcome="given_up"}')).toBe(0);
    expect(pm.get('apexdns_zone_serial{zone="example.net."}')).toBe(2);
    expect(sm.get('apexdns_transfers_received_total{type="AXFR"}')).toBe(1);
    expect(sm.get('apexdns_transfers_received_total{type="IXFR"}')).toBe(1);
    expect(sm.get('apexdns_notify_received_total')).toBe(1);
    expect(sm.get('apexdns_secondary_refresh_failures_total')).toBe(0);
    expect(sm.get('apexdns_secondary_serial{zone="example.net."}')).toBe(2);
    expect(sm.get('apexdns_secondary_last_refresh_success{zone="example.net."}')).toBe(1);
    expect(Math.abs((sm.get('apexdns_secondary_last_refresh_timestamp_seconds{zone="example.net."}') ?? 0) - Date.now() / 1000)).toBeLessThan(120);
    // SOA EXPIRE of the fixture is 86400 s; a refresh just succeeded.
    const left = sm.get('apexdns_secondary_expire_seconds{zone="example.net."}') ?? 0;
    expect(left).toBeGreaterThan(86_400 - 120);
    expect(left).toBeLessThanOrEqual(86_400);
    await s.stop();
    await p.stop();
  }, 60_000);
});
