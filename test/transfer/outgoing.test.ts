// Outgoing transfer content (seed "Set up outgoing zone transfers"): an apex CNAME goes out as its flattened
// addresses (in-zone, cross-zone and external targets), other CNAMEs as CNAMEs unless flatten-all-cnames, and the
// IXFR journal agrees with what AXFR sends when a flattened target changes.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { RRType, typeToString } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { rdataToText } from '../../src/wire/rdata/index.js';
import { pullZone } from '../../src/transfer/client.js';
import { soaSerial } from '../../src/transfer/changeset.js';
import { NO_META, type RR } from '../../src/zone/model.js';
import { freePort } from '../helpers/ports.js';
import { cleanup, startApp, tmp, track } from './helpers.js';

const quiet = pino({ level: 'silent' });

afterAll(cleanup);

function text(rr: RR): string {
  return `${rr.owner.toString()} ${rr.ttl} ${typeToString(rr.type)} ${rdataToText(rr.type, rr.rdata)}`;
}

/** AXFR records as text, sorted, without the SOA. */
async function axfr(port: number, zone: string): Promise<string[]> {
  const r = await pullZone({ address: '127.0.0.1', port }, Name.parse(zone), undefined, 10_000);
  if (r.result.kind !== 'axfr') throw new Error(`not a full zone: ${r.result.kind}`);
  return r.result.records.filter((x) => x.type !== RRType.SOA).map(text).sort();
}

function head(origin: string, serial: number): string[] {
  return [`$ORIGIN ${origin}`, '$TTL 300', `@ 3600 IN SOA ns1 hostmaster ${serial} 3600 600 86400 300`, '@ IN NS ns1', 'ns1 IN A 192.0.2.1'];
}

describe('outgoing transfers: flattened CNAMEs', () => {
  let upPort = 0;
  let port = 0;
  let dir = '';
  let primary: App;

  function comZone(serial: number, wwwV4: string): string {
    return [
      ...head('example.com.', serial),
      // Apex CNAME to an in-zone target (itself a CNAME chain: web → www).
      '@ 600 IN CNAME web',
      'web 500 IN CNAME www',
      `www IN A ${wwwV4}`,
      'www IN AAAA 2001:db8::10',
      // DNS-only CNAMEs below the apex stay CNAMEs without flatten-all-cnames.
      'alias IN CNAME www',
      'out IN CNAME www.upstream.test.',
      '',
    ].join('\n');
  }

  beforeAll(async () => {
    // The "upstream resolver" for external targets: an authoritative apexdns serving upstream.test.
    upPort = await freePort();
    const upDir = tmp('apexdns-xfr-out-');
    writeFileSync(join(upDir, 'upstream.test.zone'), [...head('upstream.test.', 1), 'www 120 IN A 203.0.113.7', 'www 120 IN A 203.0.113.8', 'v6only IN AAAA 2001:db8::77', ''].join('\n'));
    track(await startApp(upDir, [`listen: ["127.0.0.1:${upPort}"]`, 'state-dir: state', 'zones:', '  - { name: upstream.test, file: upstream.test.zone }', ''].join('\n'), quiet));

    port = await freePort();
    dir = tmp('apexdns-xfr-out-');
    writeFileSync(join(dir, 'example.com.zone'), comZone(1, '192.0.2.10'));
    writeFileSync(join(dir, 'other.test.zone'), [...head('other.test.', 1), 'host IN A 198.51.100.1', ''].join('\n'));
    writeFileSync(
      join(dir, 'example.net.zone'),
      [
        ...head('example.net.', 1),
        // Apex CNAME to an external target, flattened through the configured resolver.
        '@ IN CNAME www.upstream.test.',
        // flatten-all-cnames: every CNAME goes out as addresses (cross-zone target, external target, AAAA only).
        'cross IN CNAME host.other.test.',
        'ext IN CNAME www.upstream.test.',
        'six IN CNAME v6only.upstream.test.',
        // Unreachable through the resolver (NXDOMAIN upstream): flattening yields no data, nothing goes out.
        'gone IN CNAME nothing.upstream.test.',
        '',
      ].join('\n'),
    );
    primary = track(await startApp(
      dir,
      [
        `listen: ["127.0.0.1:${port}"]`,
        'state-dir: state',
        `flattening: { resolvers: ["127.0.0.1:${upPort}"], timeout-ms: 2000 }`,
        'acl:',
        '  - { name: local, address: 127.0.0.1/32 }',
        'zones:',
        '  - { name: example.com, file: example.com.zone, allow-transfer: [local], serial: increment }',
        '  - { name: other.test, file: other.test.zone, allow-transfer: [local] }',
        '  - { name: example.net, file: example.net.zone, allow-transfer: [local], flatten-all-cnames: true }',
        '',
      ].join('\n'),
      quiet,
    ));
  });

  it('sends an in-zone apex CNAME as the flattened addresses and other CNAMEs as CNAMEs', async () => {
    expect(await axfr(port, 'example.com.')).toEqual([
      'alias.example.com. 300 CNAME www.example.com.',
      // TTL: the lowest along the chain (apex CNAME 600, web 500, www 300).
      'example.com. 300 A 192.0.2.10',
      'example.com. 300 AAAA 2001:db8::10',
      'example.com. 300 NS ns1.example.com.',
      'ns1.example.com. 300 A 192.0.2.1',
      'out.example.com. 300 CNAME www.upstream.test.',
      'web.example.com. 500 CNAME www.example.com.',
      'www.example.com. 300 A 192.0.2.10',
      'www.example.com. 300 AAAA 2001:db8::10',
    ]);
  });

  it('flatten-all-cnames: every CNAME goes out flattened, external targets through the resolvers', async () => {
    expect(await axfr(port, 'example.net.')).toEqual([
      'cross.example.net. 300 A 198.51.100.1',
      'example.net. 120 A 203.0.113.7',
      'example.net. 120 A 203.0.113.8',
      'example.net. 300 NS ns1.example.net.',
      'ext.example.net. 120 A 203.0.113.7',
      'ext.example.net. 120 A 203.0.113.8',
      'ns1.example.net. 300 A 192.0.2.1',
      'six.example.net. 300 AAAA 2001:db8::77',
    ]);
  });

  it('journals the change of a flattened target so IXFR matches the new AXFR', async () => {
    const before = await axfr(port, 'example.com.');
    // Same serial in the file, new target address: serial: increment serves 2.
    writeFileSync(join(dir, 'example.com.zone'), comZone(1, '192.0.2.11'));
    await primary.reload();
    const from: RR = { owner: Name.parse('example.com.'), type: RRType.SOA, class: 1, ttl: 0, rdata: primary.store.current.get(Name.parse('example.com.').key)!.snapshot.soa.rdata[0]!, meta: NO_META };
    expect(soaSerial(from.rdata)).toBe(2);
    // IXFR from serial 1: the apex and www A change, nothing else.
    const soa1 = new Uint8Array(from.rdata);
    new DataView(soa1.buffer).setUint32(soa1.length - 20, 1);
    let r = await pullZone({ address: '127.0.0.1', port }, Name.parse('example.com.'), { ...from, rdata: soa1 }, 10_000);
    for (let i = 0; r.result.kind !== 'ixfr' && i < 50; i++) {
      // The journal is appended right after publication.
      await new Promise((res) => setTimeout(res, 20));
      r = await pullZone({ address: '127.0.0.1', port }, Name.parse('example.com.'), { ...from, rdata: soa1 }, 10_000);
    }
    if (r.result.kind !== 'ixfr') throw new Error(`expected IXFR, got ${r.result.kind}`);
    const cs = r.result.changesets;
    expect(cs.length).toBe(1);
    expect(cs[0]!.removed.filter((x) => x.type !== RRType.SOA).map(text).sort()).toEqual(['example.com. 300 A 192.0.2.10', 'www.example.com. 300 A 192.0.2.10']);
    expect(cs[0]!.added.filter((x) => x.type !== RRType.SOA).map(text).sort()).toEqual(['example.com. 300 A 192.0.2.11', 'www.example.com. 300 A 192.0.2.11']);
    const after = await axfr(port, 'example.com.');
    const applied = before.filter((l) => !l.endsWith(' A 192.0.2.10')).concat(['example.com. 300 A 192.0.2.11', 'www.example.com. 300 A 192.0.2.11']).sort();
    expect(after).toEqual(applied);
  });
});
