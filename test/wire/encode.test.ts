// Tests for the encoder: exact bytes, compression, pointer rules, truncation, OPT/extended RCODE, MessageWriter.

import { describe, expect, it } from 'vitest';
import { MessageWriter, encodeQuery, encodeResponse } from '../../src/wire/encode.js';
import { decodeMessage } from '../../src/wire/decode.js';
import { dnsPacketDecode } from '../../src/wire/dnspacket.js';
import { Flag, Opcode, Rcode, RRClass } from '../../src/wire/constants.js';
import type { ResponseMessage, SectionEntry } from '../../src/wire/message.js';
import { T, aRdata, ascii, hex, mxRdata, n, nameRdata, rrset, soaRdata, txtRdata } from './helpers.js';

const q = { name: n('www.example.com.'), type: T.A, class: RRClass.IN };

function resp(over: Partial<ResponseMessage>): ResponseMessage {
  return { id: 0x1234, opcode: 0, flags: Flag.AA | Flag.RD, rcode: 0, question: q, answer: [], authority: [], additional: [], ...over };
}

/** Walk every name in a message, asserting pointer rules; returns the number of pointers seen. */
function checkPointers(msg: Uint8Array): number {
  let pointers = 0;
  const walkName = (p: number): number => {
    for (;;) {
      const l = msg[p]!;
      if (l === 0) return p + 1;
      if (l >= 0xc0) {
        const target = ((l & 0x3f) << 8) | msg[p + 1]!;
        expect(target).toBeLessThan(p); // backwards only
        expect(target).toBeLessThan(0x4000);
        expect(target).toBeGreaterThanOrEqual(12);
        pointers++;
        return p + 2;
      }
      p += l + 1;
    }
  };
  const count = (i: number): number => (msg[i]! << 8) | msg[i + 1]!;
  let p = 12;
  for (let i = count(4); i > 0; i--) p = walkName(p) + 4;
  for (let i = count(6) + count(8) + count(10); i > 0; i--) {
    p = walkName(p);
    const type = count(p);
    const rdlen = count(p + 8);
    p += 10;
    if (type === T.NS || type === T.CNAME || type === T.PTR) expect(walkName(p)).toBe(p + rdlen);
    p += rdlen;
  }
  expect(p).toBe(msg.length);
  return pointers;
}

describe('encodeResponse', () => {
  it('writes exact bytes with compression of owners and NS RDATA', () => {
    const out = encodeResponse(
      resp({
        answer: [rrset('www.example.com.', T.A, 300, aRdata('192.0.2.1'))],
        authority: [rrset('example.com.', T.NS, 3600, nameRdata('ns1.example.com.'))],
      }),
      512,
    );
    const expected = [
      0x12, 0x34, 0x85, 0x00, 0, 1, 0, 1, 0, 1, 0, 0,
      3, ...ascii('www'), 7, ...ascii('example'), 3, ...ascii('com'), 0, 0, 1, 0, 1,
      0xc0, 12, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4, 192, 0, 2, 1,
      0xc0, 16, 0, 2, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 3, ...ascii('ns1'), 0xc0, 16,
    ];
    expect(hex(out)).toBe(hex(new Uint8Array(expected)));
    const d = dnsPacketDecode(out);
    expect(d.id).toBe(0x1234);
    expect(d.answers?.[0]).toMatchObject({ name: 'www.example.com', type: 'A', ttl: 300, data: '192.0.2.1' });
    expect(d.authorities?.[0]).toMatchObject({ name: 'example.com', type: 'NS', data: 'ns1.example.com' });
  });

  it('echoes the raw question (QNAME case) and compresses against it case-insensitively', () => {
    const raw = new Uint8Array([3, ...ascii('WwW'), 7, ...ascii('ExAmple'), 3, ...ascii('com'), 0, 0, 1, 0, 1]);
    const out = encodeResponse(resp({ question: undefined, rawQuestion: raw, answer: [rrset('www.example.com.', T.A, 60, aRdata('10.0.0.1'))] }), 512);
    expect(hex(out.subarray(12, 12 + raw.length))).toBe(hex(raw));
    expect([...out.subarray(33, 35)]).toEqual([0xc0, 12]);
    const d = dnsPacketDecode(out);
    expect(d.questions?.[0]?.name).toBe('WwW.ExAmple.com');
    expect(d.answers?.[0]?.name).toBe('WwW.ExAmple.com');
  });

  it('compresses SOA and MX RDATA but not SRV or RRSIG names (RFC 3597 §4)', () => {
    const srv = new Uint8Array([0, 1, 0, 2, 0, 80, ...n('www.example.com.').toWire()]);
    const out = encodeResponse(
      resp({
        answer: [
          rrset('example.com.', T.MX, 300, mxRdata(10, 'mail.example.com.')),
          rrset('_http._tcp.example.com.', T.SRV, 300, srv),
        ],
        authority: [rrset('example.com.', T.SOA, 300, soaRdata('ns1.example.com.', 'hostmaster.example.com.', 7))],
      }),
      4096,
    );
    checkPointers(out);
    const m = decodeMessage(out);
    expect(hex(m.answer[0]!.rdata)).toBe(hex(mxRdata(10, 'mail.example.com.')));
    expect(hex(m.answer[1]!.rdata)).toBe(hex(srv));
    expect(hex(m.authority[0]!.rdata)).toBe(hex(soaRdata('ns1.example.com.', 'hostmaster.example.com.', 7)));
    // SRV RDATA appears verbatim (uncompressed) in the message
    expect(Buffer.from(out).includes(Buffer.from(srv))).toBe(true);
    // MX RDATA: pref 10, "mail", pointer to example.com at offset 16
    expect(Buffer.from(out).includes(Buffer.from([0, 10, 4, ...ascii('mail'), 0xc0, 16]))).toBe(true);
    const d = dnsPacketDecode(out);
    expect(d.answers?.[0]).toMatchObject({ type: 'MX', data: { preference: 10, exchange: 'mail.example.com' } });
    expect(d.authorities?.[0]).toMatchObject({ type: 'SOA', data: { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 7 } });
  });

  it('keeps every pointer backwards and below 0x4000 in a large message', () => {
    const answer: SectionEntry[] = [];
    for (let i = 0; i < 1500; i++) answer.push(rrset(`host${i}.sub${i % 7}.example.com.`, T.CNAME, 60, nameRdata(`t${i}.sub${i % 5}.example.com.`)));
    const out = encodeResponse(resp({ answer }), 65535);
    expect(out.length).toBeGreaterThan(0x4000);
    const pointers = checkPointers(out);
    expect(pointers).toBe(3000); // one per owner and per CNAME target
    const d = dnsPacketDecode(out);
    expect(d.answers?.length).toBe(1500);
    expect(d.answers?.[1499]).toMatchObject({ name: 'host1499.sub1.example.com', data: 't1499.sub4.example.com' });
    const m = decodeMessage(out);
    expect(m.answer[1234]!.owner.toString()).toBe('host1234.sub2.example.com.');
    expect(hex(m.answer[1234]!.rdata)).toBe(hex(nameRdata('t1234.sub4.example.com.')));
  });

  const big = (label: string, count: number): SectionEntry =>
    rrset('www.example.com.', T.TXT, 60, ...Array.from({ length: count }, (_, i) => txtRdata(`${label}${i}`.padEnd(100, 'x'))));

  it('truncates at an RRset boundary, sets TC and keeps the OPT', () => {
    const out = encodeResponse(
      resp({
        answer: [rrset('www.example.com.', T.A, 60, aRdata('192.0.2.1')), big('t', 10)],
        authority: [rrset('example.com.', T.NS, 60, nameRdata('ns1.example.com.'))],
        additional: [rrset('ns1.example.com.', T.A, 60, aRdata('192.0.2.53'))],
        edns: { udpSize: 1232, do: true, options: [] },
      }),
      512,
    );
    expect(out.length).toBeLessThanOrEqual(512);
    expect(out[2]! & 0x02).toBe(0x02); // TC
    expect([...out.subarray(4, 12)]).toEqual([0, 1, 0, 1, 0, 0, 0, 1]);
    const d = dnsPacketDecode(out);
    expect(d.answers?.map((a) => a.type)).toEqual(['A']);
    expect(d.additionals?.[0]).toMatchObject({ type: 'OPT', udpPayloadSize: 1232, flags: 0x8000 });
    const m = decodeMessage(out);
    expect(m.edns).toMatchObject({ udpSize: 1232, version: 0, flags: 0x8000, extendedRcodeHigh: 0 });
  });

  it('truncates in the authority section too', () => {
    const out = encodeResponse(
      resp({ answer: [rrset('www.example.com.', T.A, 60, aRdata('192.0.2.1'))], authority: [big('a', 6)] }),
      512,
    );
    expect(out[2]! & 0x02).toBe(0x02);
    expect([...out.subarray(4, 12)]).toEqual([0, 1, 0, 1, 0, 0, 0, 0]);
    expect(out.length).toBe(49);
  });

  it('omits additional RRsets that do not fit, without TC, and keeps later ones that fit', () => {
    const out = encodeResponse(
      resp({
        answer: [rrset('www.example.com.', T.A, 60, aRdata('192.0.2.1'))],
        additional: [big('x', 6), rrset('ns1.example.com.', T.A, 60, aRdata('192.0.2.53'))],
        edns: { udpSize: 1232, do: false, options: [{ code: 3, data: new Uint8Array(ascii('ns-a')) }] },
      }),
      512,
    );
    expect(out[2]! & 0x02).toBe(0);
    expect([...out.subarray(4, 12)]).toEqual([0, 1, 0, 1, 0, 0, 0, 2]);
    const m = decodeMessage(out);
    expect(m.additional.map((r) => r.owner.toString())).toEqual(['ns1.example.com.']);
    expect(m.edns?.options).toEqual([{ code: 3, data: new Uint8Array(ascii('ns-a')) }]);
    expect(m.edns?.flags).toBe(0);
  });

  it('splits the extended RCODE: BADVERS=16 → header 0, OPT high bits 1 (RFC 6891 §6.1.3)', () => {
    const out = encodeResponse(resp({ rcode: Rcode.BADVERS, edns: { udpSize: 1232, do: false, options: [] } }), 512);
    expect(out[3]! & 0x0f).toBe(0);
    // OPT: root, type 41, class 1232, TTL = 01 00 00 00, rdlen 0
    expect(hex(out.subarray(out.length - 11))).toBe('00002904d00100000000' + '00');
    expect(decodeMessage(out).rcode).toBe(16);
    const nx = encodeResponse(resp({ rcode: Rcode.NXDOMAIN, edns: { udpSize: 512, do: false, options: [] } }), 512);
    expect(nx[3]! & 0x0f).toBe(3);
    expect(decodeMessage(nx).rcode).toBe(3);
  });

  it('sets only allowed flags and always QR', () => {
    const out = encodeResponse(resp({ flags: 0xffff, opcode: Opcode.NOTIFY, rcode: 0 }), 512);
    // QR | opcode 4 | AA TC RD = 0xA7 ; RA AD CD = 0xB0 (Z bit 0x40 cleared)
    expect([out[2], out[3]]).toEqual([0xa7, 0xb0]);
  });

  it('keeps reserve octets free', () => {
    const answer = [big('r', 4)];
    const without = encodeResponse(resp({ answer }), 512 + 40);
    expect(without[7]).toBe(4);
    const withReserve = encodeResponse(resp({ answer, reserve: 100 }), 512 + 40);
    expect(withReserve[7]).toBe(0);
    expect(withReserve[2]! & 0x02).toBe(0x02);
  });
});

describe('encodeQuery', () => {
  it('encodes a query with EDNS exactly', () => {
    const out = encodeQuery({ id: 0xbeef, flags: Flag.RD, question: { name: n('example.org.'), type: T.SOA, class: RRClass.IN }, edns: { udpSize: 1232, do: true, options: [] } });
    const expected = [
      0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
      7, ...ascii('example'), 3, ...ascii('org'), 0, 0, 6, 0, 1,
      0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0,
    ];
    expect(hex(out)).toBe(hex(new Uint8Array(expected)));
  });
  it('carries SOA in the answer section for NOTIFY, compressed against the question', () => {
    const soa = soaRdata('ns1.example.org.', 'admin.example.org.', 42);
    const out = encodeQuery({
      id: 7,
      opcode: Opcode.NOTIFY,
      flags: Flag.AA,
      question: { name: n('example.org.'), type: T.SOA, class: RRClass.IN },
      answer: [rrset('example.org.', T.SOA, 3600, soa)],
    });
    expect([out[2], out[3]]).toEqual([0x24, 0x00]);
    expect([...out.subarray(29, 31)]).toEqual([0xc0, 12]);
    const m = decodeMessage(out);
    expect(m.opcode).toBe(4);
    expect(hex(m.answer[0]!.rdata)).toBe(hex(soa));
  });
});

describe('MessageWriter', () => {
  it('restarts compression per message and reports fullness', () => {
    const w = new MessageWriter();
    const owner = n('a.example.');
    w.begin(1, 0x8000, 100);
    w.question({ name: owner, type: T.AXFR, class: RRClass.IN });
    let added = 0;
    while (w.addRR('answer', owner, T.A, RRClass.IN, 60, aRdata('192.0.2.1'))) added++;
    // header 12 + question 15 + 16 octets per compressed A record
    expect(added).toBe(4);
    const first = w.finish();
    expect(first.length).toBe(12 + 15 + 64);
    w.begin(1, 0x8000, 100);
    expect(w.addRR('answer', owner, T.A, RRClass.IN, 60, aRdata('192.0.2.2'))).toBe(true);
    const second = w.finish();
    // no stale pointer: the owner is written in full in the new message
    expect(hex(second.subarray(12, 23))).toBe(hex(owner.toWire()));
    expect(second.length).toBe(12 + 11 + 14);
  });
  it('rejects sections out of order', () => {
    const w = new MessageWriter();
    w.begin(1, 0, 512);
    w.addRRset('authority', rrset('a.', T.A, 1, aRdata('1.2.3.4')));
    expect(() => w.addRRset('answer', rrset('a.', T.A, 1, aRdata('1.2.3.4')))).toThrow(/after a later section/);
  });
});
