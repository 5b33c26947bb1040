// Caps on one incoming transfer (pullZone's PullCaps, from limits.max-records / limits.max-file-size) against an
// in-process apexdns primary: exactly at a cap the zone comes through, one below it the stream is aborted.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { pullZone, TransferError } from '../../src/transfer/client.js';
import { tsigKeyFromConfig } from '../../src/transfer/tsig.js';
import { freePort } from '../helpers/ports.js';
import { Capture, cleanup, SECRET, startApp, tmp, track, yamlHead } from './helpers.js';

const ZONE = Name.parse('example.com.');
afterAll(cleanup);

describe('pullZone caps', () => {
  it('takes a zone exactly at max-records / max-file-size and aborts one below with reason "limit"', async () => {
    const port = await freePort();
    const dir = tmp('apexdns-caps-');
    // SOA, NS, glue and 300 TXT records of ~250 octets: 303 records over two or more messages.
    const txt = Array.from({ length: 300 }, (_, i) => `t${i} 300 IN TXT "${'x'.repeat(240)}"`);
    writeFileSync(join(dir, 'example.com.zone'), ['$ORIGIN example.com.', '$TTL 300', '@ IN SOA ns1 hostmaster 1 3600 600 86400 300', '@ IN NS ns1', 'ns1 IN A 192.0.2.1', ...txt, ''].join('\n'));
    track(await startApp(dir, [...yamlHead(port), 'acl:', '  - { name: keyed, key: xfr-key }', 'zones:', '  - name: example.com', '    file: example.com.zone', '    allow-transfer: [keyed]', ''].join('\n'), new Capture().logger));
    const ep = { address: '127.0.0.1', port, key: tsigKeyFromConfig({ name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET }) };

    const full = await pullZone(ep, ZONE, undefined, 10_000, undefined, { maxRecords: 303, maxBytes: 2 ** 30 });
    expect(full.result.kind === 'axfr' ? full.result.records.length : -1).toBe(303);
    expect(full.messages).toBeGreaterThan(1);
    const atBytes = await pullZone(ep, ZONE, undefined, 10_000, undefined, { maxRecords: 303, maxBytes: full.bytes });
    expect(atBytes.bytes).toBe(full.bytes);

    const fewer = pullZone(ep, ZONE, undefined, 10_000, undefined, { maxRecords: 302, maxBytes: 2 ** 30 });
    await expect(fewer).rejects.toThrow(new TransferError('limit', `AXFR of example.com. from 127.0.0.1:${port} passed 302 records (limits.max-records); aborted`));
    const smaller = pullZone(ep, ZONE, undefined, 10_000, undefined, { maxRecords: 303, maxBytes: full.bytes - 1 });
    await expect(smaller).rejects.toThrow(`AXFR of example.com. from 127.0.0.1:${port} passed ${full.bytes - 1} bytes (limits.max-file-size); aborted`);
    await expect(smaller.catch((e: unknown) => (e as TransferError).reason)).resolves.toBe('limit');
  });
});
