// End to end: compact denial's logical NXDOMAIN in the per-query log (the wire says NOERROR, the log says 3) and the
// RFC 9824 Compact Answers OK flag (NXDOMAIN restored, CO echoed in the response's OPT), on the built daemon.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tool } from '../helpers/tools.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { buildQuery, queryUdp, queryTcp } from '../helpers/dig.js';
import { parseMessage, type ParsedMessage } from '../helpers/dnsmsg.js';
import { logLines, waitFor } from '../e2e/env.js';
import { childZoneText } from './setup.js';

const built = daemonBuilt();
const skip = 'skip' in built || 'skip' in tool('dig');

const DO = 0x8000;
const CO = 0x4000;
const NSEC = 47;
const NSEC3 = 50;
/**
 * NSEC RDATA at `nope.c.test.` (RFC 9824 §3.1): next name `\000.nope.c.test.`, then the RFC 4034 §4.1.2 bitmap:
 * window 0, 17 octets, RRSIG (46) and NSEC (47) in octet 5, NXNAME (128) in octet 16.
 */
const NXNAME_NSEC_HEX = '0100' + '046e6f7065' + '0163' + '0474657374' + '00' + '0011' + '0000000000' + '03' + '00'.repeat(10) + '80';

describe.skipIf(skip)('compact denial: logical NXDOMAIN in the query log, CO flag', () => {
  let dir = '';
  let d: DaemonServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-compact-rcode-'));
    const keys = join(dir, 'keys');
    const zones: Record<string, unknown>[] = [];
    const specs: { name: string; file: string }[] = [];
    for (const [z, denial] of [['c.test.', 'compact'], ['n3.test.', 'nsec3']] as const) {
      const file = join(dir, `${z}zone`);
      writeFileSync(file, childZoneText(z));
      zones.push({ name: z.slice(0, -1), file, dnssec: { state: 'active', denial, keys } });
      specs.push({ name: z, file });
    }
    d = await startDaemon(specs, { extra: { zones, log: { queries: true } } });
  }, 30_000);

  afterAll(async () => {
    await d?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ask = async (name: string, type: string, flags: number, tcp = false): Promise<ParsedMessage> => {
    const q = buildQuery({ name, type, edns: { udpSize: 1232, do: (flags & DO) !== 0, co: (flags & CO) !== 0 } });
    return parseMessage(tcp ? await queryTcp(d!.port, q) : await queryUdp(d!.port, q));
  };
  const logged = (qname: string): unknown[][] =>
    logLines(d!.output()).filter((l) => l.msg === 'query' && l.qname === qname).map((l) => [l.qtype, l.rcode, l.protocol]);

  it('DO=1 without CO: NOERROR on the wire with the NXNAME NSEC, rcode 3 in the log (also from the answer cache)', async () => {
    const first = await ask('nope.c.test.', 'A', DO);
    expect(first.rcode).toBe(0);
    expect(first.opt?.flags).toBe(DO);
    const nsec = first.authority.filter((r) => r.type === NSEC);
    expect(nsec.map((r) => [r.owner, Buffer.from(r.rdata).toString('hex')])).toEqual([['nope.c.test.', NXNAME_NSEC_HEX]]);
    // The same query again is answered from the encoded-answer cache; the log still records the logical NXDOMAIN.
    const again = await ask('nope.c.test.', 'A', DO);
    expect(again.rcode).toBe(0);
    await ask('nope.c.test.', 'A', DO, true);
    await waitFor('three log lines', () => logged('nope.c.test.').length === 3);
    expect(logged('nope.c.test.')).toEqual([[1, 3, 'udp'], [1, 3, 'udp'], [1, 3, 'tcp']]);
  });

  it('DO=1 with CO: NXDOMAIN restored and CO echoed (RFC 9824 §5.1); CO echoed on positive answers too', async () => {
    const nx = await ask('nope2.c.test.', 'AAAA', DO | CO);
    expect(nx.rcode).toBe(3);
    expect(nx.opt?.flags).toBe(DO | CO);
    expect(nx.authority.filter((r) => r.type === NSEC).map((r) => r.owner)).toEqual(['nope2.c.test.']);
    const pos = await ask('www.c.test.', 'A', DO | CO);
    expect([pos.rcode, pos.opt?.flags, pos.answer.map((r) => r.type)]).toEqual([0, DO | CO, [1, 46]]);
    expect(pos.answer[0]!.rdataText).toBe('192.0.2.9');
    await waitFor('log lines', () => logged('nope2.c.test.').length === 1 && logged('www.c.test.').length === 1);
    expect(logged('nope2.c.test.')).toEqual([[28, 3, 'udp']]);
    expect(logged('www.c.test.')).toEqual([[1, 0, 'udp']]);
  });

  it('without CO in the query no CO in the response; DO=0 gets a plain NXDOMAIN; nsec3 zones say NXDOMAIN', async () => {
    const plain = await ask('nope3.c.test.', 'A', 0);
    expect([plain.rcode, plain.opt?.flags, plain.authority.map((r) => r.type)]).toEqual([3, 0, [6]]);
    const coOnly = await ask('nope3.c.test.', 'TXT', CO);
    expect([coOnly.rcode, coOnly.opt?.flags]).toEqual([3, CO]);
    const n3 = await ask('nope.n3.test.', 'A', DO);
    expect([n3.rcode, n3.opt?.flags, n3.authority.filter((r) => r.type === NSEC3).length]).toEqual([3, DO, 3]);
    await waitFor('log lines', () => logged('nope3.c.test.').length === 2 && logged('nope.n3.test.').length === 1);
    expect(logged('nope3.c.test.')).toEqual([[1, 3, 'udp'], [16, 3, 'udp']]);
    expect(logged('nope.n3.test.')).toEqual([[1, 3, 'udp']]);
  });
});
