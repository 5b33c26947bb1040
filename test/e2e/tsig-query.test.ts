// End to end: TSIG on ordinary queries (RFC 8945 §5.2, §5.3), checked by dig itself. A signed query gets a signed
// answer that dig verifies; a bad MAC gets NOTAUTH with BADSIG, an unknown key NOTAUTH with BADKEY; an answer
// that no longer fits once signed is truncated, signed, and complete over TCP.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { tool } from '../helpers/tools.js';
import { exampleZoneDir, type ZoneDir } from './env.js';

const built = daemonBuilt();
const dig = tool('dig');
const run = promisify(execFile);
const SECRET = Buffer.alloc(32, 3).toString('base64');
const OTHER = Buffer.alloc(32, 4).toString('base64');
let big = '\n';
// 10 TXT records: 493 octets unsigned (fits 512), about 570 with the TSIG RR (does not).
for (let i = 0; i < 10; i++) big += `big 300 IN TXT "${String(i).padStart(2, '0')} ${'x'.repeat(30)}"\n`;

describe.skipIf('skip' in built || 'skip' in dig)('TSIG-signed queries', () => {
  let z: ZoneDir;
  let d: DaemonServer;
  beforeAll(async () => {
    z = exampleZoneDir(big);
    d = await startDaemon([{ name: 'example.com', file: z.zoneFile }], { extra: { 'tsig-keys': [{ name: 'q-key', algorithm: 'hmac-sha256', secret: SECRET }] } });
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    z?.remove();
  });

  const ask = async (args: readonly string[]): Promise<string> => (await run((dig as { path: string }).path, ['-p', String(d.port), '@127.0.0.1', ...args], { timeout: 20_000 })).stdout;

  it('a good key: NOERROR, the answer, a TSIG that dig verifies', async () => {
    const out = await ask(['-y', `hmac-sha256:q-key:${SECRET}`, 'www.example.com', 'A']);
    expect(out).toContain('status: NOERROR');
    expect(out).toMatch(/^www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.10$/m);
    expect(out).toMatch(/^q-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR 0/m);
    expect(out).not.toContain("Couldn't verify");
  });

  it('a bad MAC gets NOTAUTH/BADSIG, an unknown key NOTAUTH/BADKEY (RFC 8945 §5.2.1, §5.2.2)', async () => {
    const badSig = await ask(['-y', `hmac-sha256:q-key:${OTHER}`, 'www.example.com', 'A']);
    expect(badSig).toContain('status: NOTAUTH');
    expect(badSig).toMatch(/TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADSIG 0/);
    const badKey = await ask(['-y', `hmac-sha256:nope-key:${SECRET}`, 'www.example.com', 'A']);
    expect(badKey).toContain('status: NOTAUTH');
    expect(badKey).toMatch(/TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY 0/);
  });

  it('too large once signed: truncated and signed over UDP, whole and signed over TCP', async () => {
    const unsigned = await ask(['+ignore', '+noedns', 'big.example.com', 'TXT']);
    expect(unsigned).toMatch(/flags: qr aa rd;/);
    const udp = await ask(['-y', `hmac-sha256:q-key:${SECRET}`, '+ignore', '+noedns', 'big.example.com', 'TXT']);
    expect(udp).toMatch(/flags: qr aa tc rd/);
    expect(udp).toMatch(/TSIG\s+hmac-sha256\. \d+ 300 32 /);
    expect(udp).not.toContain("Couldn't verify");
    const tcp = await ask(['-y', `hmac-sha256:q-key:${SECRET}`, '+tcp', 'big.example.com', 'TXT']);
    expect(tcp.split('\n').filter((l) => /^big\.example\.com\.\s+300\s+IN\s+TXT/.test(l)).length).toBe(10);
    expect(tcp).not.toContain("Couldn't verify");
  });
});
