// End-to-end per-query log: with `log: {queries: true}` every query produces one pino line with qname, qtype,
// rcode, client, protocol and duration (UDP and TCP, NOERROR / NXDOMAIN / REFUSED); without it (the default)
// no query line is written.

import { afterEach, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { exampleZoneDir, logLines, tcp, udp, waitFor, type ZoneDir } from './env.js';

const built = daemonBuilt();

describe.skipIf('skip' in built)('per-query log', () => {
  let d: DaemonServer | undefined;
  let z: ZoneDir | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
    z?.remove();
    z = undefined;
  });

  const queryLines = (): Record<string, unknown>[] => logLines(d!.output()).filter((l) => l.msg === 'query');

  it('log.queries: true logs qname, qtype, rcode, client, protocol and duration', async () => {
    z = exampleZoneDir();
    d = await startDaemon([{ name: 'example.com', file: z.zoneFile }], { extra: { log: { queries: true } } });
    await udp(d.port, { name: 'www.example.com', type: 'A' });
    await tcp(d.port, { name: 'nope.example.com', type: 'AAAA' });
    await udp(d.port, { name: 'example.org', type: 'MX' });
    // The readiness probes (example.com SOA) are logged too; their lines may still be arriving, so skip them.
    const ours = (): Record<string, unknown>[] => queryLines().filter((l) => l.qname !== 'example.com.');
    await waitFor('three query lines', () => ours().length === 3);
    const got = ours();
    expect(got.map((l) => [l.qname, l.qtype, l.rcode, l.client, l.protocol])).toEqual([
      ['www.example.com.', 1, 0, '127.0.0.1', 'udp'],
      ['nope.example.com.', 28, 3, '127.0.0.1', 'tcp'],
      ['example.org.', 15, 5, '127.0.0.1', 'udp'],
    ]);
    for (const l of got) {
      expect(typeof l.ms).toBe('number');
      expect(l.ms as number).toBeGreaterThanOrEqual(0);
      expect(l.ms as number).toBeLessThan(1000);
    }
  });

  it('no query lines by default', async () => {
    z = exampleZoneDir();
    d = await startDaemon([{ name: 'example.com', file: z.zoneFile }]);
    const m = await udp(d.port, { name: 'www.example.com', type: 'A' });
    expect(m.rcode).toBe(0);
    await tcp(d.port, { name: 'www.example.com', type: 'A' });
    expect(queryLines()).toEqual([]);
  });
});
