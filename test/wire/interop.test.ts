// Interop: a loopback UDP responder built on decodeQuery/encodeResponse, queried by kdig and dig.

import { createSocket, type Socket } from 'node:dgram';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tool } from '../helpers/tools.js';
import { decodeQuery } from '../../src/wire/decode.js';
import { encodeResponse } from '../../src/wire/encode.js';
import { Flag, Rcode } from '../../src/wire/constants.js';
import type { SectionEntry } from '../../src/wire/message.js';
import { T, aRdata, mxRdata, nameRdata, rrset, soaRdata, txtRdata } from './helpers.js';

const run = promisify(execFile);
const kdig = tool('kdig');
const dig = tool('dig');

const zone = new Map<string, SectionEntry[]>([
  ['\x03www\x07example\x03com\x00/1', [rrset('www.example.com.', T.A, 300, aRdata('192.0.2.1'), aRdata('192.0.2.2'))]],
  ['\x07example\x03com\x00/15', [rrset('example.com.', T.MX, 300, mxRdata(10, 'mail.example.com.'), mxRdata(20, 'mx2.example.com.'))]],
  ['\x03big\x07example\x03com\x00/16', [rrset('big.example.com.', T.TXT, 60, ...Array.from({ length: 6 }, (_, i) => txtRdata(`chunk${i}`.padEnd(120, '.'))))]],
]);
const authority = [rrset('example.com.', T.NS, 3600, nameRdata('ns1.example.com.'))];
const soa = [rrset('example.com.', T.SOA, 300, soaRdata('ns1.example.com.', 'hostmaster.example.com.', 2024))];

let sock: Socket;
let port = 0;

beforeAll(async () => {
  sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const r = decodeQuery(msg);
    if (r.kind === 'drop') return;
    if (r.kind === 'formerr') {
      const out = encodeResponse({ id: r.id, opcode: r.opcode, flags: 0, rcode: Rcode.FORMERR, answer: [], authority: [], additional: [] }, 512);
      sock.send(out, rinfo.port, rinfo.address);
      return;
    }
    const q = r.query;
    const answer = zone.get(`${q.question.name.key}/${q.question.type}`);
    const max = q.edns ? Math.max(512, Math.min(q.edns.udpSize, 1232)) : 512;
    const out = encodeResponse(
      {
        id: q.id,
        opcode: q.opcode,
        flags: Flag.AA | (q.flags & (Flag.RD | Flag.CD)),
        rcode: answer ? 0 : Rcode.NXDOMAIN,
        question: q.question,
        rawQuestion: msg.subarray(q.questionOffset, q.questionOffset + q.questionLength),
        answer: answer ?? [],
        authority: answer ? authority : soa,
        additional: [],
        edns: q.edns ? { udpSize: 1232, do: (q.edns.flags & 0x8000) !== 0, options: [] } : undefined,
      },
      max,
    );
    sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  port = sock.address().port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => sock.close(() => resolve()));
});

describe.skipIf('skip' in kdig)('kdig reads our responses', () => {
  const k = async (...args: string[]): Promise<string> =>
    (await run((kdig as { path: string }).path, ['@127.0.0.1', '-p', String(port), '+notcp', '+retry=0', '+time=2', ...args])).stdout;

  it('A answer with compressed owners and NS authority', async () => {
    const out = await k('+noall', '+answer', '+authority', 'www.example.com', 'A');
    const lines = out.trim().split('\n').map((l) => l.split(/\s+/).join(' '));
    expect(lines).toEqual([
      'www.example.com. 300 IN A 192.0.2.1',
      'www.example.com. 300 IN A 192.0.2.2',
      'example.com. 3600 IN NS ns1.example.com.',
    ]);
  });

  it('MX with compressed exchange names, NXDOMAIN with SOA', async () => {
    const mx = await k('+short', 'example.com', 'MX');
    expect(mx.trim().split('\n')).toEqual(['10 mail.example.com.', '20 mx2.example.com.']);
    const nx = await k('nope.example.com', 'A');
    expect(nx).toMatch(/status: NXDOMAIN/);
    expect(nx.split(/\s+/).join(' ')).toMatch(/example\.com\. 300 IN SOA ns1\.example\.com\. hostmaster\.example\.com\. 2024 7200 3600 1209600 300/);
  });
});

describe.skipIf('skip' in dig)('dig sees truncation and EDNS', () => {
  const d = async (...args: string[]): Promise<string> =>
    (await run((dig as { path: string }).path, ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', ...args])).stdout;

  it('sets TC on a 512-octet UDP answer without EDNS and keeps the OPT with EDNS', async () => {
    const plain = await d('+noedns', '+ignore', 'big.example.com', 'TXT');
    expect(plain).toMatch(/flags: qr aa tc rd;/);
    expect(plain).toMatch(/ANSWER: 0,/);
    const small = await d('+bufsize=512', '+ignore', 'big.example.com', 'TXT');
    expect(small).toMatch(/flags: qr aa tc rd;/);
    expect(small).toMatch(/OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232/);
    const full = await d('+bufsize=1232', 'big.example.com', 'TXT');
    expect(full).toMatch(/flags: qr aa rd;/);
    expect(full).toMatch(/ANSWER: 6,/);
  });

  it('echoes the QNAME case through compression pointers', async () => {
    const out = await d('+noall', '+answer', 'WwW.ExAmPle.com', 'A');
    expect(out.trim().split('\n').map((l) => l.split(/\s+/).join(' '))).toEqual([
      'WwW.ExAmPle.com. 300 IN A 192.0.2.1',
      'WwW.ExAmPle.com. 300 IN A 192.0.2.2',
    ]);
  });
});
