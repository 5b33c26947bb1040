// End-to-end DNS Cookies (RFC 7873, RFC 9018): dig +cookie against the daemon with two workers, a cookie made by one
// node accepted by another with the same secret (an anycast pair), and `cookies.require` answering BADCOOKIE.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { buildQuery, dig, queryUdp } from '../helpers/dig.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { stopAll } from '../helpers/procs.js';
import { tool } from '../helpers/tools.js';
import { exampleZoneDir, type ZoneDir } from './env.js';

const built = daemonBuilt();
const digT = tool('dig');
const SECRET = 'e5e973e5a6b2a43f48e7dc849e37bfcf';

/** The COOKIE line of dig's OPT pseudosection: the cookie in hex and dig's verdict ("good" when the server's validated). */
function digCookie(stdout: string): { cookie: string; verdict: string } | undefined {
  const m = /; COOKIE: ([0-9a-f]+)(?: \((\w+)\))?/.exec(stdout);
  return m === null ? undefined : { cookie: m[1]!, verdict: m[2] ?? '' };
}

describe.skipIf('skip' in built || 'skip' in digT)('DNS Cookies end to end', () => {
  let z: ZoneDir;
  let a: DaemonServer;
  let b: DaemonServer;
  let strict: DaemonServer;
  let random: DaemonServer;
  const zones = () => [{ name: 'example.com', file: z.zoneFile }];

  beforeAll(async () => {
    z = exampleZoneDir();
    [a, b, strict, random] = await Promise.all([
      startDaemon(zones(), { workers: 2, extra: { cookies: { secret: SECRET } } }),
      startDaemon(zones(), { extra: { cookies: { secret: SECRET } } }),
      startDaemon(zones(), { extra: { cookies: { secret: SECRET, require: true } } }),
      startDaemon(zones(), { workers: 2 }),
    ]);
  }, 30_000);
  afterAll(async () => {
    await stopAll();
    z.remove();
  });

  it('dig +cookie learns a server cookie, and sending it back is accepted by every worker and by the twin node', async () => {
    const first = await dig(a.port, ['+cookie', 'www.example.com', 'A']);
    expect(first.stdout).toContain('status: NOERROR');
    const c = digCookie(first.stdout)!;
    expect(c.cookie.length).toBe(48);
    // dig checks that the server echoed its client cookie: "good"... its own verdict; then the cookie goes back.
    for (let i = 0; i < 6; i++) {
      for (const port of [a.port, b.port]) {
        const again = await dig(port, [`+cookie=${c.cookie}`, 'www.example.com', 'A']);
        expect(again.stdout, `port ${port}`).toContain('status: NOERROR');
        // A valid fresh server cookie is echoed unchanged (RFC 9018 §4.3: renewed only after half an hour).
        expect(digCookie(again.stdout)?.cookie, `port ${port}`).toBe(c.cookie);
      }
    }
  });

  it('without a configured secret, the random one is shared by all workers (every worker echoes the cookie)', async () => {
    const c = digCookie((await dig(random.port, ['+cookie', 'www.example.com', 'A'])).stdout)!;
    for (let i = 0; i < 12; i++) expect(digCookie((await dig(random.port, [`+cookie=${c.cookie}`, 'www.example.com', 'A'])).stdout)?.cookie).toBe(c.cookie);
  });

  it('a malformed COOKIE option gets FORMERR', async () => {
    const m = parseMessage(await queryUdp(a.port, buildQuery({ name: 'www.example.com', type: 'A', id: 1, edns: { udpSize: 1232, do: false, options: [{ code: 10, data: new Uint8Array(11) }] } })));
    expect(m.rcode).toBe(1);
  });

  it('cookies.require: BADCOOKIE without a valid server cookie; dig retries with the new cookie and gets the answer', async () => {
    const m = parseMessage(await queryUdp(strict.port, buildQuery({ name: 'www.example.com', type: 'A', id: 2, edns: { udpSize: 1232, do: false, options: [{ code: 10, data: Buffer.from('0102030405060708', 'hex') }] } })));
    expect(m.rcode).toBe(23);
    expect(m.answer.length).toBe(0);
    const r = await dig(strict.port, ['+cookie', 'www.example.com', 'A']);
    expect(r.stdout).toContain('status: NOERROR');
    expect(r.stdout).toMatch(/www\.example\.com\.\s+\d+\s+IN\s+A\s+/);
  });
});
