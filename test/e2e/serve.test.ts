// End-to-end: the built daemon serving a copy of zones/example.com.zone (config.example.yaml-like: UDP+TCP on
// 127.0.0.1 and ::1) queried with dig, kdig and raw packets. Covers: SOA/A/AAAA over UDP and TCP on IPv4 and
// IPv6 with both tools; MX and SRV with additional-section glue; TXT SPF; CAA; wildcard synthesis (and the
// explicit name beside it); delegation referral with glue and AA clear; NXDOMAIN with SOA TTL = min(TTL, MINIMUM);
// NODATA; empty non-terminals; 0x20 case echo; ANY answered with one RRset (RFC 8482); CHAOS id.server on by
// default, version.bind refused by default; NSID when configured (RFC 5001); EDNS BADVERS (RFC 6891 §6.1.3);
// TC over UDP for a big RRset and the full RRset over TCP (RFC 7766); REFUSED with EDE 20 outside the zones
// (RFC 8914); AXFR over UDP refused; UDP queries larger than 4096 octets answered.

import { execFile } from 'node:child_process';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { parseRecords } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { tool } from '../helpers/tools.js';
import { exampleZoneDir, lines, tcp, udp, type ZoneDir } from './env.js';

const built = daemonBuilt();
const digT = tool('dig');
const kdigT = tool('kdig');

const BIG_COUNT = 30;
const bigTxt = (i: number): string => `record-${String(i).padStart(2, '0')}-${'x'.repeat(180)}`;
let bigZone = '\n; e2e: a big RRset for truncation tests\n';
for (let i = 0; i < BIG_COUNT; i++) bigZone += `big 300 IN TXT "${bigTxt(i)}"\n`;

const SOA = 'example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024060101 7200 3600 1209600 300';
const NEG_SOA = 'example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024060101 7200 3600 1209600 300';
const NSID = 'e2e-ns1';

interface Run {
  readonly stdout: string;
  readonly code: number;
}
function run(bin: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, [...args], { timeout: 10_000 }, (err, stdout) => {
      resolve({ stdout, code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1 });
    });
  });
}

describe.skipIf('skip' in built)('apexdns serve: answers over UDP/TCP, IPv4/IPv6', () => {
  let d: DaemonServer;
  let z: ZoneDir;
  let port = 0;

  /** `dig +norec +noall +answer` (plus `extra`) against 127.0.0.1, records as sorted lines. */
  async function digLines(args: readonly string[], host = '127.0.0.1'): Promise<string[]> {
    if ('skip' in digT) throw new Error(digT.skip);
    const r = await run(digT.path, [`@${host}`, '-p', String(port), '+time=2', '+tries=1', '+norec', '+noall', ...args]);
    expect(r.code).toBe(0);
    return parseRecords(r.stdout).map((x) => `${x.owner} ${x.ttl} ${x.class} ${x.type} ${x.rdata}`).sort();
  }
  async function digFull(args: readonly string[]): Promise<string> {
    if ('skip' in digT) throw new Error(digT.skip);
    const r = await run(digT.path, ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', '+norec', ...args]);
    expect(r.code).toBe(0);
    return r.stdout;
  }

  beforeAll(async () => {
    z = exampleZoneDir(bigZone);
    port = await freePort();
    d = await startDaemon([{ name: 'example.com', file: z.zoneFile }], {
      port,
      extra: { listen: [`127.0.0.1:${port}`, `[::1]:${port}`], identity: { nsid: NSID } },
    });
  });
  afterAll(async () => {
    await d?.stop();
    z?.remove();
  });

  describe.skipIf('skip' in digT || 'skip' in kdigT)('dig and kdig, UDP and TCP, 127.0.0.1 and ::1', () => {
    for (const host of ['127.0.0.1', '::1']) {
      for (const transport of ['udp', 'tcp'] as const) {
        it(`dig ${transport} @${host}: SOA, A, AAAA`, async () => {
          const t = transport === 'tcp' ? ['+tcp'] : ['+notcp'];
          expect(await digLines([...t, '+answer', 'example.com', 'SOA'], host)).toEqual([SOA]);
          expect(await digLines([...t, '+answer', 'www.example.com', 'A'], host)).toEqual(['www.example.com. 300 IN A 192.0.2.10']);
          expect(await digLines([...t, '+answer', 'www.example.com', 'AAAA'], host)).toEqual(['www.example.com. 300 IN AAAA 2001:db8::10']);
        });
        it(`kdig ${transport} @${host}: SOA, A, AAAA`, async () => {
          if ('skip' in kdigT) throw new Error(kdigT.skip);
          const t = transport === 'tcp' ? ['+tcp'] : ['+notcp'];
          const k = async (name: string, type: string): Promise<string[]> => {
            const r = await run(kdigT.path, [`@${host}`, '-p', String(port), '+time=2', '+retry=0', '+norec', ...t, '+noall', '+answer', name, type]);
            expect(r.code).toBe(0);
            return parseRecords(r.stdout).map((x) => `${x.owner} ${x.ttl} ${x.class} ${x.type} ${x.rdata}`);
          };
          expect(await k('example.com', 'SOA')).toEqual([SOA]);
          expect(await k('www.example.com', 'A')).toEqual(['www.example.com. 300 IN A 192.0.2.10']);
          expect(await k('www.example.com', 'AAAA')).toEqual(['www.example.com. 300 IN AAAA 2001:db8::10']);
        });
      }
    }
  });

  describe.skipIf('skip' in digT)('record types and answer shapes (dig)', () => {
    it('MX with the exchanges addresses in additional', async () => {
      expect(await digLines(['+answer', 'example.com', 'MX'])).toEqual([
        'example.com. 3600 IN MX 10 mail1.example.com.',
        'example.com. 3600 IN MX 20 mail2.example.com.',
      ]);
      expect(await digLines(['+additional', 'example.com', 'MX'])).toEqual([
        'mail1.example.com. 3600 IN A 192.0.2.25',
        'mail1.example.com. 3600 IN AAAA 2001:db8::25',
        'mail2.example.com. 3600 IN A 198.51.100.25',
        'mail2.example.com. 3600 IN AAAA 2001:db8:1::25',
      ]);
    });

    it('TXT SPF and DMARC', async () => {
      expect(await digLines(['+answer', 'example.com', 'TXT'])).toEqual(['example.com. 3600 IN TXT "v=spf1 mx -all"']);
      expect(await digLines(['+answer', '_dmarc.example.com', 'TXT'])).toEqual([
        '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.com"',
      ]);
    });

    it('CAA', async () => {
      expect(await digLines(['+answer', 'example.com', 'CAA'])).toEqual([
        'example.com. 3600 IN CAA 0 iodef "mailto:security@example.com"',
        'example.com. 3600 IN CAA 0 issue "letsencrypt.org"',
      ]);
    });

    it('SRV with the target addresses in additional', async () => {
      expect(await digLines(['+answer', '+additional', '_sip._tcp.example.com', 'SRV'])).toEqual([
        '_sip._tcp.example.com. 3600 IN SRV 10 60 5060 sip.example.com.',
        'sip.example.com. 3600 IN A 192.0.2.60',
      ]);
      expect(await digLines(['+answer', '+additional', '_xmpp-server._tcp.example.com', 'SRV'])).toEqual([
        '_xmpp-server._tcp.example.com. 3600 IN SRV 5 0 5269 xmpp.example.com.',
        'xmpp.example.com. 3600 IN A 192.0.2.61',
        'xmpp.example.com. 3600 IN AAAA 2001:db8::61',
      ]);
    });

    it('wildcard synthesis with the query name as owner; the explicit name beside it wins', async () => {
      expect(await digLines(['+answer', 'tenant1.apps.example.com', 'A'])).toEqual(['tenant1.apps.example.com. 60 IN A 192.0.2.80']);
      expect(await digLines(['+answer', 'tenant1.apps.example.com', 'AAAA'])).toEqual(['tenant1.apps.example.com. 60 IN AAAA 2001:db8::80']);
      expect(await digLines(['+answer', 'status.apps.example.com', 'A'])).toEqual(['status.apps.example.com. 3600 IN A 192.0.2.81']);
      // RFC 4592 §2.2.1: status.apps exists, so it is NODATA for AAAA (no wildcard).
      const full = await digFull(['status.apps.example.com', 'AAAA']);
      expect(full).toMatch(/status: NOERROR/);
      expect(full).toMatch(/ANSWER: 0, AUTHORITY: 1,/);
    });

    it('delegation: referral with NS in authority, glue in additional, AA clear', async () => {
      const full = await digFull(['host.sub.example.com', 'A']);
      expect(full).toMatch(/status: NOERROR/);
      expect(full).toMatch(/;; flags: qr; QUERY: 1, ANSWER: 0, AUTHORITY: 2, ADDITIONAL: 3/);
      expect(await digLines(['+authority', '+additional', 'host.sub.example.com', 'A'])).toEqual([
        'ns1.sub.example.com. 3600 IN A 192.0.2.100',
        'ns1.sub.example.com. 3600 IN AAAA 2001:db8::100',
        'sub.example.com. 3600 IN NS ns.example.net.',
        'sub.example.com. 3600 IN NS ns1.sub.example.com.',
      ]);
    });

    it('NXDOMAIN: AA, SOA in authority with TTL min(SOA TTL 3600, MINIMUM 300) = 300 (RFC 2308 §3)', async () => {
      const full = await digFull(['nope.example.com', 'A']);
      expect(full).toMatch(/status: NXDOMAIN/);
      expect(full).toMatch(/;; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1/);
      expect(await digLines(['+authority', 'nope.example.com', 'A'])).toEqual([NEG_SOA]);
    });

    it('NODATA: NOERROR, no answer, SOA in authority', async () => {
      const full = await digFull(['www.example.com', 'MX']);
      expect(full).toMatch(/status: NOERROR/);
      expect(full).toMatch(/;; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1/);
      expect(await digLines(['+authority', 'www.example.com', 'MX'])).toEqual([NEG_SOA]);
    });

    it('empty non-terminals answer NODATA, not NXDOMAIN', async () => {
      for (const n of ['corp.example.com', 'eu.corp.example.com']) {
        const full = await digFull([n, 'A']);
        expect(full).toMatch(/status: NOERROR/);
        expect(full).toMatch(/ANSWER: 0, AUTHORITY: 1,/);
      }
      expect(await digLines(['+answer', 'host.eu.corp.example.com', 'A'])).toEqual(['host.eu.corp.example.com. 3600 IN A 192.0.2.90']);
    });
  });

  describe('raw packets', () => {
    it('echoes the query name case exactly (0x20) in question and answer owner', async () => {
      const m = await udp(port, { name: 'wWw.ExAmPlE.cOm', type: 'A', id: 0x1234 });
      expect(m.id).toBe(0x1234);
      expect(m.rcode).toBe(0);
      expect(m.aa).toBe(true);
      expect(m.question).toEqual([{ name: 'wWw.ExAmPlE.cOm.', type: 1, class: 1 }]);
      expect(lines(m.answer)).toEqual(['wWw.ExAmPlE.cOm. 300 IN A 192.0.2.10']);
    });

    it('ANY is answered with one RRset, never the whole node (RFC 8482 §4.1)', async () => {
      const m = await udp(port, { name: 'example.com', type: 'ANY' });
      expect(m.rcode).toBe(0);
      expect(m.aa).toBe(true);
      expect(new Set(m.answer.map((r) => r.type)).size).toBe(1);
      expect(lines(m.answer)).toEqual(['example.com. 300 IN A 192.0.2.10']);
    });

    it('CHAOS TXT id.server is on by default (the host name); version.bind is refused', async () => {
      const id = await udp(port, { name: 'id.server', type: 'TXT', class: 'CH' });
      expect(id.rcode).toBe(0);
      expect(lines(id.answer)).toEqual([`id.server. 0 CH TXT "${os.hostname()}"`]);
      const v = await udp(port, { name: 'version.bind', type: 'TXT', class: 'CH' });
      expect(v.rcode).toBe(5);
      expect(v.answer).toEqual([]);
    });

    it('NSID is returned when configured and requested, and only then (RFC 5001 §2.3)', async () => {
      const m = await udp(port, { name: 'example.com', type: 'SOA', edns: { udpSize: 1232, do: false, options: [{ code: 3, data: new Uint8Array(0) }] } });
      expect(m.opt?.options.map((o) => [o.code, Buffer.from(o.data).toString()])).toEqual([[3, NSID]]);
      const plain = await udp(port, { name: 'example.com', type: 'SOA', edns: { udpSize: 1232, do: false } });
      expect(plain.opt?.options).toEqual([]);
    });

    it('answers UDP queries longer than 4096 octets (a large EDNS option), up to the datagram maximum', async () => {
      // RFC 7830 padding (option 12) is one legal way a query grows past any buffer size; the answer ignores it.
      for (const pad of [4200, 20_000, 65_450]) {
        const m = await udp(port, { name: 'www.example.com', type: 'A', edns: { udpSize: 1232, do: false, options: [{ code: 12, data: new Uint8Array(pad) }] } });
        expect(m.rcode).toBe(0);
        expect(lines(m.answer)).toEqual(['www.example.com. 300 IN A 192.0.2.10']);
      }
    });

    it('EDNS version 1 gets BADVERS with an OPT of version 0 and no answer (RFC 6891 §6.1.3)', async () => {
      const m = await udp(port, { name: 'example.com', type: 'SOA', edns: { udpSize: 1232, do: false, version: 1 } });
      expect(m.rcode).toBe(16);
      expect(m.opt?.version).toBe(0);
      expect(m.opt?.udpSize).toBe(1232);
      expect(m.answer).toEqual([]);
    });

    it('a big RRset sets TC over UDP (with and without EDNS) and is complete over TCP', async () => {
      const noEdns = await udp(port, { name: 'big.example.com', type: 'TXT' });
      expect(noEdns.tc).toBe(true);
      expect(noEdns.size).toBeLessThanOrEqual(512);
      const edns = await udp(port, { name: 'big.example.com', type: 'TXT', edns: { udpSize: 1232, do: false } });
      expect(edns.tc).toBe(true);
      expect(edns.size).toBeLessThanOrEqual(1232);
      const full = await tcp(port, { name: 'big.example.com', type: 'TXT', edns: { udpSize: 1232, do: false } });
      expect(full.tc).toBe(false);
      expect(full.rcode).toBe(0);
      const want = Array.from({ length: BIG_COUNT }, (_, i) => `big.example.com. 300 IN TXT "${bigTxt(i)}"`).sort();
      expect(lines(full.answer)).toEqual(want);
      // RFC 6891 §6.2.5: the payload is min(client size, our advertised 1232): 8192 still truncates at 1232 ...
      const large = await udp(port, { name: 'big.example.com', type: 'TXT', edns: { udpSize: 8192, do: false } });
      expect(large.tc).toBe(true);
      expect(large.size).toBeLessThanOrEqual(1232);
      expect(large.opt?.udpSize).toBe(1232);
      // ... and a smaller client size is honoured.
      const small = await udp(port, { name: 'big.example.com', type: 'TXT', edns: { udpSize: 600, do: false } });
      expect(small.tc).toBe(true);
      expect(small.size).toBeLessThanOrEqual(600);
    });

    it('a name outside every zone is REFUSED with EDE 20 "Not Authoritative" (RFC 8914 §4.21)', async () => {
      const m = await udp(port, { name: 'example.org', type: 'A', edns: { udpSize: 1232, do: false } });
      expect(m.rcode).toBe(5);
      expect(m.aa).toBe(false);
      expect(m.answer).toEqual([]);
      const ede = m.opt?.options.find((o) => o.code === 15);
      expect(ede && Buffer.from(ede.data).subarray(0, 2).toString('hex')).toBe('0014');
    });

    it('AXFR over UDP is refused (RFC 5936 §4.2)', async () => {
      const m = await udp(port, { name: 'example.com', type: 'AXFR' });
      expect(m.qr).toBe(true);
      expect(m.answer).toEqual([]);
      expect(m.rcode).toBe(5);
    });

    it('IPv6 UDP and TCP answers match IPv4 exactly', async () => {
      const v4 = await udp(port, { name: 'example.com', type: 'MX', id: 7 });
      const v6 = await udp(port, { name: 'example.com', type: 'MX', id: 7 }, '::1');
      const v6t = await tcp(port, { name: 'example.com', type: 'MX', id: 7 }, '::1');
      expect(lines(v6.answer)).toEqual(lines(v4.answer));
      expect(lines(v6.additional)).toEqual(lines(v4.additional));
      expect(lines(v6t.answer)).toEqual(['example.com. 3600 IN MX 10 mail1.example.com.', 'example.com. 3600 IN MX 20 mail2.example.com.']);
    });
  });
});
