// `serial: keep` across restarts and reloads: a reload of a changed zone whose serial did not increase is refused
// (the old version keeps serving); at start-up there is no old version, so the file is served with a warning.

import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Name } from '../../src/wire/name.js';
import { RRType } from '../../src/wire/constants.js';
import type { App } from '../../src/app.js';
import { freePort } from '../helpers/ports.js';
import { Capture, cleanup, release, startApp, tmp, track, yamlHead } from './helpers.js';

afterAll(cleanup);

const zone = (extra: string): string =>
  `$TTL 300\n@ SOA ns1 host 5 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.53\n${extra}\n`;

function served(app: App, name: string): { serial: number; has: boolean } | undefined {
  const z = app.store.current.get(Name.parse('keep.test.').key);
  if (!z) return undefined;
  return { serial: z.snapshot.soaInfo.serial, has: z.snapshot.nodes.get(Name.parse(name).key)?.rrsets.has(RRType.A) ?? false };
}

describe('serial: keep', () => {
  it('refuses an unbumped reload but serves an unbumped file at start-up, with a warning', async () => {
    const dir = tmp('apexdns-keep-');
    const port = await freePort();
    const yaml = [...yamlHead(port), 'zones:', '  - { name: keep.test, file: keep.zone, allow-transfer: [ops] }', 'acl:', '  - { name: ops, address: 127.0.0.1/32 }', ''].join('\n');
    writeFileSync(join(dir, 'keep.zone'), zone('a A 192.0.2.1'));
    const first = track(await startApp(dir, yaml, new Capture().logger));
    expect(served(first, 'a.keep.test.')).toEqual({ serial: 5, has: true });

    // Changed without a serial bump, reloaded: refused, version 1 keeps serving.
    writeFileSync(join(dir, 'keep.zone'), zone('b A 192.0.2.2'));
    const rep = await first.reload();
    expect(rep.zones[0]).toMatchObject({ zone: 'keep.test.', status: 'failed' });
    expect(rep.zones[0]?.errors?.[0]).toMatch(/zone changed but its SOA serial 5 is not greater than the served serial 5 \(serial: keep\)/);
    expect(served(first, 'a.keep.test.')).toEqual({ serial: 5, has: true });
    expect(served(first, 'b.keep.test.')).toEqual({ serial: 5, has: false });
    await release(first);

    // Restarted with the same unbumped file: nothing older is served, so the file is served and the risk logged.
    const log = new Capture();
    const second = track(await startApp(dir, yaml, log.logger));
    expect(served(second, 'b.keep.test.')).toEqual({ serial: 5, has: true });
    expect(log.events('zone.serial-not-increased').map((e) => [e.zone, e.serial])).toEqual([['keep.test.', 5]]);
  });
});
