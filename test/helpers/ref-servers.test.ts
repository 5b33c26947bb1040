// Tests of the BIND and NSD reference-server runners and the offline signer used by the three-reference suite:
// config text, start/answer/stop, and signed copies that all of them load.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bindConfig, startBind } from './bind.js';
import { REPO_ROOT } from './daemon.js';
import { buildQuery, queryUdp } from './dig.js';
import { parseMessage } from './dnsmsg.js';
import { nsdConfig, startNsd } from './nsd.js';
import { liveCount, stopAll } from './procs.js';
import { signZones } from './sign.js';
import { requireTools } from './tools.js';

const ZONE = { name: 'kid.deleg.test', file: join(REPO_ROOT, 'test', 'fixtures', 'diff', 'kid.deleg.test.zone') };

describe('reference server configs', () => {
  it('NSD: loopback port, no privilege drop or chroot, no database, the zone file', () => {
    const c = nsdConfig('/tmp/x', 5399, [ZONE]);
    for (const line of ['port: 5399', 'ip-address: 127.0.0.1', 'username: ""', 'chroot: ""', 'database: ""', 'control-enable: no', 'name: "kid.deleg.test."', `zonefile: "${ZONE.file}"`]) {
      expect(c).toContain(line);
    }
  });

  it('BIND: loopback port, no recursion, the zone as a plain primary', () => {
    const c = bindConfig('/tmp/x', 5399, [ZONE]);
    for (const line of ['listen-on port 5399 { 127.0.0.1; };', 'recursion no;', 'minimal-responses yes;', `zone "kid.deleg.test." { type primary; file "${ZONE.file}"; };`]) {
      expect(c).toContain(line);
    }
  });
});

const tools = requireTools('named', 'nsd', 'dnssec-keygen', 'dnssec-signzone');

describe.skipIf('skip' in tools)('BIND and NSD runners with an offline-signed zone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apexdns-refsrv-'));
  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs a copy (NSEC and NSEC3) that BIND and NSD serve with its RRSIGs, then stop cleanly', async () => {
    const [nsec] = signZones([ZONE], dir);
    const [nsec3] = signZones([ZONE], dir, { nsec3: true });
    expect(readFileSync(nsec!.file, 'utf8')).toMatch(/\sNSEC\s/);
    expect(readFileSync(nsec3!.file, 'utf8')).toMatch(/\sNSEC3PARAM\s/);
    // Fixed inception and expiration (RFC 4034 §3.1.5): the signatures are valid for decades from 2025.
    expect(readFileSync(nsec!.file, 'utf8')).toContain('20600101000000 20250101000000');
    const before = liveCount();
    const servers = await Promise.all([startBind([nsec!]), startNsd([nsec3!])]);
    for (const s of servers) {
      const m = parseMessage(await queryUdp(s.port, buildQuery({ name: 'host.kid.deleg.test', type: 'A', id: 11, edns: { udpSize: 1232, do: true } })));
      expect(m.aa).toBe(true);
      expect(m.answer.map((r) => r.type)).toEqual([1, 46]);
    }
    await Promise.all(servers.map((s) => s.stop()));
    expect(liveCount()).toBe(before);
  });
});
