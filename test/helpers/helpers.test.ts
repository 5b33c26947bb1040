// Tests of the shared test helpers: tool lookup, ports, query building, message parsing, dig parsing and the
// knotd runner (start, answer over UDP/TCP, clean stop).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './daemon.js';
import { buildQuery, dig, digAnswer, digFlags, digStatus, encodeName, kdig, parseRecords, queryTcp, queryUdp, queryUdpOrTimeout } from './dig.js';
import { DnsParseError, parseMessage, rrText } from './dnsmsg.js';
import { knotConfig, startKnot } from './knot.js';
import { freePort, freePorts } from './ports.js';
import { liveCount, stopAll } from './procs.js';
import { requireTools, tool } from './tools.js';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

describe('tools', () => {
  it('finds an installed binary and skips or throws for a missing one', () => {
    const sh = tool('sh');
    expect('path' in sh && sh.path.endsWith('/sh')).toBe(true);
    const saved = process.env.APEXDNS_REQUIRE_PEERS;
    try {
      delete process.env.APEXDNS_REQUIRE_PEERS;
      expect(tool('apexdns-no-such-tool-xyz')).toEqual({ skip: 'apexdns-no-such-tool-xyz not installed' });
      expect(requireTools('sh', 'apexdns-no-such-tool-xyz')).toEqual({ skip: 'apexdns-no-such-tool-xyz not installed' });
      process.env.APEXDNS_REQUIRE_PEERS = '1';
      expect(() => tool('apexdns-no-such-tool-xyz')).toThrow(/apexdns-no-such-tool-xyz/);
    } finally {
      if (saved === undefined) delete process.env.APEXDNS_REQUIRE_PEERS;
      else process.env.APEXDNS_REQUIRE_PEERS = saved;
    }
    const both = requireTools('sh', 'ls');
    expect('paths' in both && both.paths.sh.endsWith('/sh') && both.paths.ls.endsWith('/ls')).toBe(true);
  });
});

describe('ports', () => {
  it('hands out distinct unprivileged ports free on both TCP and UDP', async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(1024);
      expect(p).not.toBe(53);
    }
    const p = await freePort();
    await new Promise<void>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(p, '127.0.0.1', () => srv.close(() => resolve()));
    });
    await new Promise<void>((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(p, '127.0.0.1', () => s.close(() => resolve()));
    });
  });
});

describe('query building', () => {
  it('writes header, case-preserved QNAME, type and class exactly', () => {
    expect(buildQuery({ name: 'Www.Example.com', type: 'A', id: 0x1234 }).toString('hex')).toBe(
      '1234' + '0000' + '0001' + '0000' + '0000' + '0000' + '03577777' + '074578616d706c65' + '03636f6d' + '00' + '0001' + '0001',
    );
    expect(buildQuery({ name: 'id.server', type: 'TXT', class: 'CH', id: 1, flags: 0x0100 }).toString('hex')).toBe(
      '0001' + '0100' + '0001000000000000' + '026964' + '06736572766572' + '00' + '0010' + '0003',
    );
  });

  it('appends an OPT RR with size, version, DO/CO and raw options (RFC 6891 §6.1.2)', () => {
    const q = buildQuery({ name: '.', type: 'SOA', id: 2, edns: { udpSize: 1232, do: true, co: true, version: 1, options: [{ code: 65001, data: Uint8Array.from([0xab]) }] } });
    expect(q.toString('hex')).toBe(
      '0002' + '0000' + '0001' + '0000' + '0000' + '0001' + '00' + '0006' + '0001' +
        '00' + '0029' + '04d0' + '00' + '01' + 'c000' + '0005' + 'fde9' + '0001' + 'ab',
    );
  });

  it('encodes escapes in names', () => {
    expect(encodeName('a\\.b.c\\065.').toString('hex')).toBe('03612e62' + '026341' + '00');
    expect(encodeName('.').toString('hex')).toBe('00');
  });
});

describe('message parsing', () => {
  // Response to "www.example.com A": answer owner compressed to the question, CNAME target compressed.
  const resp = Buffer.from(
    'abcd' + '8400' + '0001' + '0002' + '0000' + '0001' +
      '03777777' + '076578616d706c65' + '03636f6d' + '00' + '0001' + '0001' +
      'c00c' + '0005' + '0001' + '00000e10' + '0006' + '03576562' + 'c010' +
      '0357656' + '2' + 'c010' + '0001' + '0001' + '0000012c' + '0004' + 'c0000201' +
      '00' + '0029' + '04d0' + '00' + '00' + '8000' + '0000',
    'hex',
  );

  it('decodes header bits, decompresses names and keeps case for display only', () => {
    const m = parseMessage(resp);
    expect(m.id).toBe(0xabcd);
    expect([m.qr, m.aa, m.tc, m.rd, m.rcode, m.opcode]).toEqual([true, true, false, false, 0, 0]);
    expect(m.question).toEqual([{ name: 'www.example.com.', type: 1, class: 1 }]);
    expect(m.answer.map(rrText)).toEqual(['www.example.com. 3600 IN CNAME Web.example.com.', 'Web.example.com. 300 IN A 192.0.2.1']);
    expect(m.answer[0]!.rdataKey).toBe('03776562076578616d706c6503636f6d00');
    expect(m.opt).toEqual({ udpSize: 1232, extRcode: 0, version: 0, flags: 0x8000, options: [] });
    expect(m.additional).toEqual([]);
    expect(m.size).toBe(resp.length);
  });

  it('rejects forward pointers and trailing garbage', () => {
    const bad = Buffer.from(resp);
    bad[bad.length - 11 - 14 - 1] = 0xff; // the A owner's pointer c010 becomes c0ff: points forward
    expect(() => parseMessage(bad)).toThrow(DnsParseError);
    expect(() => parseMessage(Buffer.concat([resp, Buffer.from([0])]))).toThrow(/trailing/);
    expect(() => parseMessage(resp.subarray(0, 11))).toThrow(/shorter than a header/);
  });
});

describe('dig output parsing', () => {
  it('parses +noall +answer lines', () => {
    const text = [
      '; <<>> DiG 9.18 <<>> comment',
      'www.example.com.\t300\tIN\tA\t192.0.2.10',
      'example.com.  3600 IN  MX 10 mail1.example.com.',
      'example.com.\t3600\tIN\tTXT\t"v=spf1 mx -all"',
      '',
    ].join('\n');
    expect(parseRecords(text)).toEqual([
      { owner: 'www.example.com.', ttl: 300, class: 'IN', type: 'A', rdata: '192.0.2.10' },
      { owner: 'example.com.', ttl: 3600, class: 'IN', type: 'MX', rdata: '10 mail1.example.com.' },
      { owner: 'example.com.', ttl: 3600, class: 'IN', type: 'TXT', rdata: '"v=spf1 mx -all"' },
    ]);
    expect(digStatus(';; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 1')).toBe('NXDOMAIN');
    expect(digFlags(';; flags: qr aa rd; QUERY: 1, ANSWER: 0')).toEqual(['qr', 'aa', 'rd']);
  });
});

const knotd = tool('knotd');
const digTool = tool('dig');
const kdigTool = tool('kdig');

describe.skipIf('skip' in knotd || 'skip' in digTool || 'skip' in kdigTool)('knotd runner', () => {
  afterAll(async () => {
    await stopAll();
  });

  it('writes a config with the zones, temp storage and a loopback listener', () => {
    const c = knotConfig('/tmp/x', 15353, [{ name: 'example.com', file: '/z/e.zone' }]);
    expect(c).toContain('    listen: 127.0.0.1@15353\n');
    expect(c).toContain('  - domain: "example.com."\n    file: "/z/e.zone"\n');
    expect(c).toContain('    storage: "/tmp/x/db"\n');
    expect(c).toContain('    zonefile-sync: -1\n');
  });

  it('serves zones/example.com.zone, answers dig, kdig, UDP and TCP, and stops cleanly', async () => {
    const k = await startKnot([{ name: 'example.com', file: join(REPO_ROOT, 'zones', 'example.com.zone') }]);
    expect(liveCount()).toBe(1);
    expect(existsSync(k.dir)).toBe(true);

    expect(await digAnswer(k.port, 'www.example.com', 'A')).toEqual([{ owner: 'www.example.com.', ttl: 300, class: 'IN', type: 'A', rdata: '192.0.2.10' }]);
    const mx = await digAnswer(k.port, 'example.com', 'MX');
    expect(mx.map((r) => r.rdata).sort()).toEqual(['10 mail1.example.com.', '20 mail2.example.com.']);
    const full = await dig(k.port, ['nope.example.com', 'A']);
    expect(digStatus(full.stdout)).toBe('NXDOMAIN');
    expect(digFlags(full.stdout)).toContain('aa');
    const kd = await kdig(k.port, ['+noall', '+answer', 'blog.example.com', 'A']);
    expect(parseRecords(kd.stdout).map((r) => `${r.owner} ${r.type} ${r.rdata}`)).toEqual([
      'blog.example.com. CNAME www.example.com.',
      'www.example.com. A 192.0.2.10',
    ]);

    const udp = parseMessage(await queryUdp(k.port, buildQuery({ name: 'X.Apps.Example.COM', type: 'AAAA', id: 77 })));
    expect(udp.id).toBe(77);
    expect(udp.question[0]!.name).toBe('X.Apps.Example.COM.');
    expect(udp.answer.map((r) => `${r.owner.toLowerCase()} ${r.ttl} ${r.rdataText}`)).toEqual(['x.apps.example.com. 60 2001:db8:0:0:0:0:0:80']);
    const tcp = parseMessage(await queryTcp(k.port, buildQuery({ name: 'host.sub.example.com', type: 'A', id: 78 })));
    expect([tcp.aa, tcp.rcode, tcp.answer.length]).toEqual([false, 0, 0]);
    expect(tcp.authority.map(rrText).sort()).toEqual(['sub.example.com. 3600 IN NS ns.example.net.', 'sub.example.com. 3600 IN NS ns1.sub.example.com.']);
    expect(tcp.additional.map(rrText).sort()).toEqual(['ns1.sub.example.com. 3600 IN A 192.0.2.100', 'ns1.sub.example.com. 3600 IN AAAA 2001:db8:0:0:0:0:0:100']);
    // QR=1 must not be answered.
    expect(await queryUdpOrTimeout(k.port, buildQuery({ name: 'www.example.com', type: 'A', flags: 0x8000 }), 300)).toBeNull();

    await k.stop();
    expect(liveCount()).toBe(0);
    expect(existsSync(k.dir)).toBe(false);
    expect(() => process.kill(k.pid, 0)).toThrow();
    // Nothing listens on the port any more.
    expect(await queryUdpOrTimeout(k.port, buildQuery({ name: 'example.com', type: 'SOA' }), 200)).toBeNull();
  });

  it('reports knotd startup failures with its output', async () => {
    await expect(startKnot([{ name: 'example.com', file: join(REPO_ROOT, 'zones', 'does-not-exist.zone') }], { timeoutMs: 1500 })).rejects.toThrow(
      /not answering|exited early/,
    );
    expect(liveCount()).toBe(0);
  });
});
