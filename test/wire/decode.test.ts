// Tests for decodeQuery (drop / FORMERR / query classification, EDNS, TSIG, fuzz), peekPlainQuery and decodeMessage.

import { describe, expect, it } from 'vitest';
import { decodeMessage, decodeQuery, peekPlainQuery, plainQuery } from '../../src/wire/decode.js';
import { encodeQuery, encodeResponse } from '../../src/wire/encode.js';
import { dnsPacketEncode } from '../../src/wire/dnspacket.js';
import { Flag, Opcode, RRClass } from '../../src/wire/constants.js';
import { WireError, type DecodeResult, type Query } from '../../src/wire/message.js';
import { T, aRdata, ascii, concat, hex, n, nameRdata, prng, rrset, soaRdata, u16, u32 } from './helpers.js';
import { locateTsig } from '../../src/wire/decode.js';
import { Name } from '../../src/wire/name.js';
import { signMessage } from '../../src/transfer/tsig.js';
import { mutateBytes } from '../fuzz/fuzz-helpers.js';

const question = { name: n('www.example.com.'), type: T.A, class: RRClass.IN };
const plain = (): Uint8Array => encodeQuery({ id: 0x4242, flags: Flag.RD, question });
const withEdns = (): Uint8Array =>
  encodeQuery({ id: 0x4242, flags: Flag.RD, question, edns: { udpSize: 1232, do: true, options: [{ code: 10, data: new Uint8Array(8).fill(7) }] } });

function expectQuery(r: DecodeResult): Query {
  if (r.kind !== 'query') throw new Error(`expected a query, got ${JSON.stringify(r)}`);
  return r.query;
}
function expectFormerr(r: DecodeResult, reason: RegExp): void {
  expect(r.kind).toBe('formerr');
  if (r.kind === 'formerr') expect(r.reason).toMatch(reason);
}
const opt = (options: number[] = [], owner: number[] = [0]): number[] => [...owner, ...u16(41), ...u16(4096), 0, 0, 0, 0, ...u16(options.length), ...options];
function setCount(buf: Uint8Array, at: 4 | 6 | 8 | 10, v: number): Uint8Array {
  const b = buf.slice();
  b[at] = v >> 8;
  b[at + 1] = v & 0xff;
  return b;
}

/** A query signed with a (fake) TSIG as the last additional record. */
function tsigQuery(extraAfter = false): Uint8Array {
  const base = setCount(plain(), 10, extraAfter ? 2 : 1);
  const rdata = concat(n('hmac-sha256.').toWire(), u16(0), u32(1700000000), u16(300), u16(32), new Uint8Array(32).fill(0xab), u16(0x4242), u16(0), u16(0));
  const rr = concat(n('key.example.').toWire(), u16(T.TSIG), u16(RRClass.ANY), u32(0), u16(rdata.length), rdata);
  return extraAfter ? concat(base, rr, opt()) : concat(base, rr);
}

describe('decodeQuery', () => {
  it('decodes a plain query', () => {
    const buf = plain();
    const qr = expectQuery(decodeQuery(buf));
    expect(qr.id).toBe(0x4242);
    expect(qr.opcode).toBe(0);
    expect(qr.flags).toBe(0x0100);
    expect(qr.question.name.toString()).toBe('www.example.com.');
    expect(qr.question.type).toBe(1);
    expect(qr.question.class).toBe(1);
    expect(qr.questionOffset).toBe(12);
    expect(qr.questionLength).toBe(21);
    expect(qr.edns).toBeUndefined();
    expect(qr.tsig).toBeUndefined();
    expect(qr.counts).toEqual({ qd: 1, an: 0, ns: 0, ar: 0 });
    expect(qr.size).toBe(33);
  });

  it('keeps QNAME case in labels and lowercases the key', () => {
    const buf = encodeQuery({ id: 1, question: { name: n('WwW.Example.COM.'), type: T.AAAA, class: RRClass.IN } });
    const qr = expectQuery(decodeQuery(buf));
    expect(qr.question.name.labels).toEqual(['WwW', 'Example', 'COM']);
    expect(qr.question.name.key).toBe('\x03www\x07example\x03com\x00');
  });

  it('decodes EDNS fields and options', () => {
    const qr = expectQuery(decodeQuery(withEdns()));
    expect(qr.edns?.udpSize).toBe(1232);
    expect(qr.edns?.version).toBe(0);
    expect(qr.edns?.flags).toBe(0x8000);
    expect(qr.edns?.extendedRcodeHigh).toBe(0);
    expect(qr.edns?.options.length).toBe(1);
    expect(qr.edns?.options[0]?.code).toBe(10);
    expect(hex(qr.edns!.options[0]!.data)).toBe('0707070707070707');
  });

  it('decodes EDNS written by dns-packet (independent encoder), incl. version and flags', () => {
    const buf = dnsPacketEncode({
      type: 'query',
      id: 99,
      flags: 0,
      questions: [{ type: 'TXT', name: 'example.net' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 1, flags: 0x8000, flag_do: true, options: [{ code: 12, length: 4 }] }],
    });
    const qr = expectQuery(decodeQuery(buf));
    expect(qr.question.type).toBe(T.TXT);
    expect(qr.edns).toMatchObject({ udpSize: 4096, version: 1, flags: 0x8000 });
    expect(qr.edns?.options[0]?.code).toBe(12);
    expect(hex(qr.edns!.options[0]!.data)).toBe('00000000');
  });

  it('drops short packets and responses', () => {
    expect(decodeQuery(plain().subarray(0, 11))).toEqual({ kind: 'drop' });
    expect(decodeQuery(new Uint8Array(0))).toEqual({ kind: 'drop' });
    const resp = plain();
    resp[2] = resp[2]! | 0x80;
    expect(decodeQuery(resp)).toEqual({ kind: 'drop' });
  });

  it('answers FORMERR for QDCOUNT 0 and 2', () => {
    const zero = setCount(plain().subarray(0, 12), 4, 0);
    const r0 = decodeQuery(zero);
    expectFormerr(r0, /QDCOUNT 0/);
    if (r0.kind === 'formerr') {
      expect(r0.id).toBe(0x4242);
      expect(r0.flags).toBe(0x0100);
      expect(r0.question).toBeUndefined();
    }
    expectFormerr(decodeQuery(setCount(plain(), 4, 2)), /QDCOUNT 2/);
    const notify = encodeQuery({ id: 5, opcode: Opcode.NOTIFY, flags: Flag.AA, question: { name: n('example.com.'), type: T.SOA, class: 1 } });
    const rn = decodeQuery(setCount(notify, 4, 0).subarray(0, 12));
    expectFormerr(rn, /in NOTIFY/);
    if (rn.kind === 'formerr') expect(rn.opcode).toBe(4);
  });

  it('answers FORMERR for a truncated question', () => {
    const buf = plain();
    expectFormerr(decodeQuery(buf.subarray(0, 20)), /question name runs past/);
    expectFormerr(decodeQuery(buf.subarray(0, 31)), /QTYPE/);
  });

  it('answers FORMERR for a compression pointer or bad label type in QNAME', () => {
    const ptr = concat(plain().subarray(0, 12), [3, ...ascii('www'), 0xc0, 12, 0, 1, 0, 1]);
    expectFormerr(decodeQuery(ptr), /compression pointer in QNAME/);
    const ext = concat(plain().subarray(0, 12), [0x41, 0, 0, 1, 0, 1]);
    expectFormerr(decodeQuery(ext), /label type/);
  });

  it('answers FORMERR for two OPTs, a non-root OPT owner, a bad option, OPT in answer', () => {
    const two = concat(setCount(plain(), 10, 2), opt(), opt());
    const r = decodeQuery(two);
    expectFormerr(r, /more than one OPT/);
    if (r.kind === 'formerr') expect(r.question?.name.toString()).toBe('www.example.com.');
    expectFormerr(decodeQuery(concat(setCount(plain(), 10, 1), opt([], [1, 0x61, 0]))), /not the root/);
    expectFormerr(decodeQuery(concat(setCount(plain(), 10, 1), opt([0, 10, 0, 9, 1, 2]))), /option data/);
    expectFormerr(decodeQuery(concat(setCount(plain(), 10, 1), opt([0, 10, 0]))), /option header/);
    expectFormerr(decodeQuery(concat(setCount(plain(), 6, 1), opt())), /OPT outside/);
  });

  it('answers FORMERR for trailing bytes and RDATA running past the end', () => {
    expectFormerr(decodeQuery(concat(plain(), [0])), /1 octets after the last record/);
    const cut = concat(setCount(plain(), 10, 1), opt()).subarray(0, 33 + 10);
    expectFormerr(decodeQuery(cut), /RR header cut off/);
    const long = concat(setCount(plain(), 10, 1), [0, ...u16(41), ...u16(512), 0, 0, 0, 0, 0, 5]);
    expectFormerr(decodeQuery(long), /RDATA runs past/);
  });

  it('skips answer/authority records (NOTIFY with SOA) with compressed owners', () => {
    const notify = encodeQuery({
      id: 5,
      opcode: Opcode.NOTIFY,
      flags: Flag.AA,
      question: { name: n('example.com.'), type: T.SOA, class: RRClass.IN },
      answer: [rrset('example.com.', T.SOA, 60, soaRdata('ns.example.com.', 'h.example.com.', 9))],
      edns: { udpSize: 1232, do: false, options: [] },
    });
    const qr = expectQuery(decodeQuery(notify));
    expect(qr.opcode).toBe(4);
    expect(qr.counts).toEqual({ qd: 1, an: 1, ns: 0, ar: 1 });
    expect(qr.edns?.udpSize).toBe(1232);
  });

  it('locates a TSIG RR as the last additional record (RFC 8945 §5.1)', () => {
    const buf = tsigQuery();
    const qr = expectQuery(decodeQuery(buf));
    expect(qr.tsig?.offset).toBe(33);
    expect(qr.tsig?.name.toString()).toBe('key.example.');
    expect(qr.tsig?.algorithm.toString()).toBe('hmac-sha256.');
    expect(qr.tsig?.class).toBe(255);
    expect(qr.tsig?.timeSigned).toBe(1700000000);
    expect(qr.tsig?.fudge).toBe(300);
    expect(qr.tsig?.mac.length).toBe(32);
    expect(qr.tsig?.mac[31]).toBe(0xab);
    expect(qr.tsig?.originalId).toBe(0x4242);
    expect(qr.tsig?.error).toBe(0);
    expect(qr.tsig?.otherData.length).toBe(0);
    expectFormerr(decodeQuery(tsigQuery(true)), /TSIG is not the last/);
  });

  it('never throws or hangs on 20000 random and mutated packets (seeded)', () => {
    const rnd = prng(0xdecade);
    const seeds = [plain(), withEdns(), tsigQuery(), tsigQuery(true), encodeResponse({ id: 1, opcode: 0, flags: 0, rcode: 0, question, answer: [rrset('www.example.com.', T.CNAME, 5, nameRdata('a.example.com.')), rrset('a.example.com.', T.A, 5, aRdata('1.2.3.4'))], authority: [], additional: [], edns: { udpSize: 512, do: true, options: [] } }, 512)];
    const counts = { drop: 0, formerr: 0, query: 0 };
    let messageOk = 0;
    for (let i = 0; i < 20000; i++) {
      let buf: Uint8Array;
      if (i % 4 === 0) {
        buf = new Uint8Array(Math.floor(rnd() * 300));
        for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rnd() * 256);
        if (buf.length > 2 && rnd() < 0.7) buf[2] = buf[2]! & 0x7f;
      } else {
        const seed = seeds[Math.floor(rnd() * seeds.length)]!;
        buf = seed.slice();
        const edits = 1 + Math.floor(rnd() * 4);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(rnd() * buf.length);
          const op = rnd();
          if (op < 0.5) buf[at] = Math.floor(rnd() * 256);
          else if (op < 0.7) buf[at] = buf[at]! ^ (1 << Math.floor(rnd() * 8));
          else if (op < 0.85) buf = buf.subarray(0, at);
          else buf = concat(buf.subarray(0, at), [0xc0, Math.floor(rnd() * 64)], buf.subarray(at));
        }
        if (buf.length > 2 && rnd() < 0.8) buf[2] = buf[2]! & 0x7f;
      }
      const r = decodeQuery(buf);
      counts[r.kind]++;
      try {
        decodeMessage(buf);
        messageOk++;
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
      }
    }
    expect(counts.drop + counts.formerr + counts.query).toBe(20000);
    expect(counts.formerr).toBeGreaterThan(1000);
    expect(counts.query).toBeGreaterThan(1000);
    expect(messageOk).toBeGreaterThan(1000);
  });
});

/** peekPlainQuery's findings, with the COOKIE option as its data in hex ('' when there is none). */
interface Plain {
  readonly questionEnd: number;
  readonly edns: boolean;
  readonly udpSize: number;
  readonly ednsFlags: number;
  readonly nsid: boolean;
  readonly cookie?: string;
}

/** What decodeQuery makes of a packet peekPlainQuery accepted, in peekPlainQuery's terms (undefined: it does not accept). */
function asPlain(buf: Uint8Array): Plain | undefined {
  const r = decodeQuery(buf);
  if (r.kind !== 'query') return undefined;
  const q = r.query;
  if (q.opcode !== Opcode.QUERY || q.counts.an + q.counts.ns !== 0 || q.counts.ar !== (q.edns ? 1 : 0) || (q.edns !== undefined && q.edns.version !== 0)) return undefined;
  const e = q.edns;
  const base = { questionEnd: q.questionOffset + q.questionLength, edns: e !== undefined };
  if (e === undefined) return { ...base, udpSize: 0, ednsFlags: 0, nsid: false };
  const cookies = e.options.filter((o) => o.code === 10);
  // Two COOKIE options are left to decodeQuery (and FORMERR).
  if (cookies.length > 1) return undefined;
  const cookie = cookies.length === 1 ? { cookie: Buffer.from(cookies[0]!.data).toString('hex') } : {};
  return { ...base, udpSize: e.udpSize, ednsFlags: e.flags, nsid: e.options.some((o) => o.code === 3), ...cookie };
}

/** peekPlainQuery's findings about `buf` in the same shape (the EDNS fields are stale when there is no OPT). */
function peeked(buf?: Uint8Array): Plain {
  const { cookieAt, cookieLength, ...rest } = plainQuery;
  if (!rest.edns) return { ...rest, udpSize: 0, ednsFlags: 0, nsid: false };
  return cookieAt < 0 || buf === undefined ? rest : { ...rest, cookie: Buffer.from(buf.subarray(cookieAt, cookieAt + cookieLength)).toString('hex') };
}

/** A query for a name of `octets` octets in wire form (63-octet labels, then one shorter). */
function longName(octets: number): Uint8Array {
  const labels: number[] = [];
  let left = octets - 1;
  while (left > 0) {
    const l = Math.min(63, left - 1);
    labels.push(l, ...new Array<number>(l).fill(0x61));
    left -= l + 1;
  }
  return concat(plain().subarray(0, 12), labels, [0, 0, 1, 0, 1]);
}

describe('peekPlainQuery', () => {
  it('finds the question end and the EDNS fields of plain queries', () => {
    expect(peekPlainQuery(plain())).toBe(true);
    expect(peeked()).toEqual({ questionEnd: 12 + 17 + 4, edns: false, udpSize: 0, ednsFlags: 0, nsid: false });
    expect(peekPlainQuery(withEdns())).toBe(true);
    expect(peeked()).toEqual({ questionEnd: 33, edns: true, udpSize: 1232, ednsFlags: 0x8000, nsid: false });
    const nsid = encodeQuery({ id: 1, question, edns: { udpSize: 512, do: false, options: [{ code: 10, data: new Uint8Array(8) }, { code: 3, data: new Uint8Array(0) }] } });
    expect(peekPlainQuery(nsid)).toBe(true);
    expect(peeked()).toMatchObject({ edns: true, udpSize: 512, ednsFlags: 0, nsid: true });
  });

  it('leaves everything that is not a plain query to decodeQuery', () => {
    const versioned = withEdns();
    versioned[versioned.length - 14 - 4 + 1] = 1; // OPT VERSION 1: BADVERS comes from the full path
    const notPlain: Record<string, Uint8Array> = {
      response: (() => { const b = plain(); b[2] = b[2]! | 0x80; return b; })(),
      notify: encodeQuery({ id: 1, opcode: Opcode.NOTIFY, question }),
      'two questions': setCount(plain(), 4, 2),
      'an answer record': setCount(plain(), 6, 1),
      'an authority record': setCount(plain(), 8, 1),
      'two additional records': concat(setCount(plain(), 10, 2), opt(), opt()),
      tsig: tsigQuery(),
      'OPT version 1': versioned,
      'OPT not owned by the root': concat(setCount(plain(), 10, 1), opt([], [1, 0x61, 0])),
      'option past RDATA': concat(setCount(plain(), 10, 1), opt([0, 10, 0, 9, 1, 2, 3, 4])),
      'trailing octet': concat(plain(), [0]),
      'cut question': plain().subarray(0, 30),
      'pointer in QNAME': concat(plain().subarray(0, 12), [0xc0, 0x0c, 0, 1, 0, 1]),
      'QNAME of 256 octets': longName(256),
    };
    expect(peekPlainQuery(longName(255))).toBe(true);
    expectFormerr(decodeQuery(longName(256)), /longer than 255/);
    expect(decodeQuery(versioned)).toMatchObject({ kind: 'query', query: { edns: { version: 1 } } });
    for (const [what, buf] of Object.entries(notPlain)) expect(peekPlainQuery(buf), what).toBe(false);
  });

  it('accepts exactly the plain queries decodeQuery reads, with the same fields (20000 seeded mutations)', () => {
    const rnd = prng(0x9eed);
    const cookie = encodeQuery({ id: 7, question, edns: { udpSize: 4096, do: true, co: true, options: [{ code: 10, data: new Uint8Array(24).fill(3) }, { code: 3, data: new Uint8Array(0) }] } });
    const seeds = [plain(), withEdns(), cookie, tsigQuery(), concat(setCount(plain(), 10, 1), opt())];
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      // A third of the packets unchanged (so many are plain), the rest with one or two edits.
      const seed = seeds[i % seeds.length]!;
      const buf = i % 3 === 0 ? seed : mutateBytes(rnd, seed, 2);
      const ok = peekPlainQuery(buf);
      if (ok) accepted++;
      expect(ok ? peeked(buf) : undefined, `packet ${i}`).toEqual(asPlain(buf));
    }
    expect(accepted).toBeGreaterThan(5000);
  });
});

describe('decodeMessage', () => {
  it('decodes a compressed response into uncompressed RRs with EDNS and full rcode', () => {
    const soa = soaRdata('ns1.example.com.', 'hostmaster.example.com.', 3);
    const buf = encodeResponse(
      {
        id: 77,
        opcode: 0,
        flags: Flag.AA,
        rcode: 3,
        question,
        answer: [rrset('www.example.com.', T.CNAME, 30, nameRdata('web.example.com.'))],
        authority: [rrset('example.com.', T.SOA, 300, soa)],
        additional: [],
        edns: { udpSize: 1400, do: true, options: [] },
      },
      1400,
    );
    const m = decodeMessage(buf);
    expect(m.id).toBe(77);
    expect(m.flags).toBe(0x8403);
    expect(m.rcode).toBe(3);
    expect(m.question[0]?.name.toString()).toBe('www.example.com.');
    expect(m.answer.length).toBe(1);
    expect(m.answer[0]?.owner.toString()).toBe('www.example.com.');
    expect(m.answer[0]?.ttl).toBe(30);
    expect(hex(m.answer[0]!.rdata)).toBe(hex(nameRdata('web.example.com.')));
    expect(hex(m.authority[0]!.rdata)).toBe(hex(soa));
    expect(m.additional.length).toBe(0);
    expect(m.edns).toMatchObject({ udpSize: 1400, version: 0, flags: 0x8000 });
  });
  it('returns TSIG info separately', () => {
    const m = decodeMessage(tsigQuery());
    expect(m.additional.length).toBe(0);
    expect(m.tsig?.offset).toBe(33);
    expect(m.tsig?.originalId).toBe(0x4242);
  });
  it('throws WireError on malformed input', () => {
    const kinds: string[] = [];
    for (const bad of [new Uint8Array(5), plain().subarray(0, 25), concat(plain(), [1]), concat(setCount(plain(), 10, 2), opt(), opt())]) {
      try {
        decodeMessage(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        kinds.push((e as WireError).kind);
      }
    }
    expect(kinds).toEqual(['truncated', 'truncated', 'trailing', 'bad-opt']);
  });
});

describe('locateTsig', () => {
  const key = { name: Name.parse('k.example.'), algorithm: 'hmac-sha256' as const, secret: new Uint8Array(32).fill(1) };
  const unsigned = encodeQuery({ id: 9, question, answer: [{ owner: Name.parse('a.example.com.'), type: 1, class: 1, ttl: 60, rdata: [Uint8Array.of(192, 0, 2, 1)] }] });

  it('finds the TSIG RR after the other records, with every field, or undefined without one', () => {
    const signed = signMessage(unsigned, key, { time: 1_700_000_000 }).message;
    const t = locateTsig(signed)!;
    expect(t.offset).toBe(unsigned.length);
    expect(t.name.toString()).toBe('k.example.');
    expect(t.algorithm.toString()).toBe('hmac-sha256.');
    expect([t.class, t.timeSigned, t.fudge, t.mac.length, t.originalId, t.error, t.otherData.length]).toEqual([255, 1_700_000_000, 300, 32, 9, 0, 0]);
    expect(locateTsig(unsigned)).toBeUndefined();
  });

  it('one name reader for everything: bounds, forward pointers and loops are WireErrors', () => {
    const signed = signMessage(unsigned, key, { time: 1_700_000_000 }).message;
    expect(() => locateTsig(signed.subarray(0, signed.length - 3))).toThrow(WireError);
    // The answer owner rewritten as a pointer to itself (offset 12 + question length): a loop / forward pointer.
    const loop = Uint8Array.from(signed);
    const at = 12 + (question.name.toWire().length + 4);
    loop[at] = 0xc0 | (at >> 8);
    loop[at + 1] = at & 0xff;
    expect(() => locateTsig(loop)).toThrow(/does not point backwards/);
    // A TSIG that is not the last record.
    const twice = concat(signed.subarray(0, 11), [2], signed.subarray(12), signed.subarray(unsigned.length));
    expect(() => locateTsig(twice)).toThrow(/not the last record/);
  });
});
