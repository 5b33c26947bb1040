// End-to-end per-query log: with `log: {queries: true}` every query produces one pino line with qname, qtype,
// rcode, client, protocol, duration, the analytics fields and a reason (UDP and TCP, NOERROR / NXDOMAIN / REFUSED); without it (the default)
// no query line is written.

import { describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { exampleZoneDir, logLines, perTest, tcp, udp, waitFor } from './env.js';

const built = daemonBuilt();

describe.skipIf('skip' in built)('per-query log', () => {
  const t = perTest();

  const queryLines = (): Record<string, unknown>[] => logLines(t.d!.output()).filter((l) => l.msg === 'query');

  it('log.queries: true logs qname, qtype, rcode, client, protocol and duration', async () => {
    t.z = exampleZoneDir();
    t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }], { extra: { log: { queries: true } } });
    await udp(t.d.port, { name: 'www.example.com', type: 'A' });
    await tcp(t.d.port, { name: 'nope.example.com', type: 'AAAA' });
    await udp(t.d.port, { name: 'example.org', type: 'MX' });
    // The readiness probes (example.com SOA) are logged too; their lines may still be arriving, so skip them.
    const ours = (): Record<string, unknown>[] => queryLines().filter((l) => l.qname !== 'example.com.');
    await waitFor('three query lines', () => ours().length === 3);
    const got = ours();
    expect(got.map((l) => [l.qname, l.qtype, l.rcode, l.client, l.protocol])).toEqual([
      ['www.example.com.', 1, 0, '127.0.0.1', 'udp'],
      ['nope.example.com.', 28, 3, '127.0.0.1', 'tcp'],
      ['example.org.', 15, 5, '127.0.0.1', 'udp'],
    ]);
    // The analytics fields (seed R01/R06) and the reason (modelled on R07).
    expect(got.map((l) => [l.zone, l.cached, l.ipVersion, l.source, l.reason])).toEqual([
      ['example.com.', false, 4, '127.0.0.0/24', 'success'],
      ['example.com.', false, 4, '127.0.0.0/24', 'success'],
      [null, false, 4, '127.0.0.0/24', 'refused'],
    ]);
    for (const l of got) {
      expect(l.querySize as number).toBeGreaterThanOrEqual(12 + 17);
      expect(l.responseSize as number).toBeGreaterThanOrEqual(l.querySize as number);
      expect(typeof l.ms).toBe('number');
      expect(l.ms as number).toBeGreaterThanOrEqual(0);
      expect(l.ms as number).toBeLessThan(1000);
    }
  });

  it('no query lines by default', async () => {
    t.z = exampleZoneDir();
    t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }]);
    const m = await udp(t.d.port, { name: 'www.example.com', type: 'A' });
    expect(m.rcode).toBe(0);
    await tcp(t.d.port, { name: 'www.example.com', type: 'A' });
    expect(queryLines()).toEqual([]);
  });
});
