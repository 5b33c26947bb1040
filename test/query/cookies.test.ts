// DNS Cookies (RFC 7873) with RFC 9018 server cookies: the RFC's test vectors, validity window, rotation, malformed
// options, and the pipeline (answer cache included): echo, refresh, FORMERR and BADCOOKIE.

import { describe, expect, it } from 'vitest';
import { checkCookie, type CookieSettings } from '../../src/query/cookies.js';
import { sipHash24 } from '../../src/util/siphash.js';
import { Name } from '../../src/wire/name.js';
import { EdnsOption, Rcode } from '../../src/wire/constants.js';
import { ZoneSet, ZoneStore } from '../../src/zone/store.js';
import { QueryEngine } from '../../src/query/pipeline.js';
import { buildQuery } from '../helpers/dig.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { zoneFromText } from './zone-helper.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));
const text = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const v4 = (a: string): Uint8Array => Uint8Array.from(a.split('.').map(Number));

describe('SipHash-2-4', () => {
  it('matches the reference vectors (key 00..0f, message 00..n-1)', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const msg = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);
    expect(text(sipHash24(key, msg(0)))).toBe('310e0edd47db6f72');
    expect(text(sipHash24(key, msg(1)))).toBe('fd67dc93c539f874');
    expect(text(sipHash24(key, msg(15)))).toBe('e545be4961ca29a1');
    expect(text(sipHash24(key, msg(63)))).toBe('724506eb4c328a95');
  });
});

describe('RFC 9018 server cookies', () => {
  const secret = hex('e5e973e5a6b2a43f48e7dc849e37bfcf');
  const s: CookieSettings = { secrets: [secret], require: false };
  const ip = v4('198.51.100.100');

  it('Appendix A.1: a new server cookie for a client cookie', () => {
    const r = checkCookie(hex('2464c4abcf10c957'), 0, 8, ip, 1559731985, s);
    expect(r.kind).toBe('client');
    expect(r.kind !== 'malformed' && text(r.reply)).toBe('2464c4abcf10c957' + '010000005cf79f11' + '1f8130c3eee29480');
  });

  it('a fresh cookie is echoed; past 30 minutes it is renewed; past an hour or from another address it is not valid', () => {
    const sent = hex('2464c4abcf10c957 010000005cf79f11 1f8130c3eee29480');
    const at = (now: number, from = ip) => checkCookie(sent, 0, 24, from, now, s);
    const fresh = at(1559731985 + 600);
    expect(fresh.kind).toBe('valid');
    expect(fresh.kind !== 'malformed' && text(fresh.reply)).toBe(text(sent));
    const renewed = at(1559731985 + 2400);
    expect(renewed.kind).toBe('valid');
    expect(renewed.kind !== 'malformed' && text(renewed.reply.subarray(8, 16))).toBe('01000000' + (1559731985 + 2400).toString(16));
    expect(at(1559731985 + 3601).kind).toBe('client');
    expect(at(1559731985 - 301).kind).toBe('client');
    expect(at(1559731985 + 10, v4('198.51.100.101')).kind).toBe('client');
  });

  it('rotation: a cookie made with the previous secret is still valid and replaced by one of the new secret', () => {
    const sent = hex('2464c4abcf10c957 010000005cf79f11 1f8130c3eee29480');
    const next = hex('00112233445566778899aabbccddeeff');
    const r = checkCookie(sent, 0, 24, ip, 1559731985 + 5, { secrets: [next, secret], require: false });
    expect(r.kind).toBe('valid');
    const fresh = r.kind !== 'malformed' ? r.reply : new Uint8Array(0);
    expect(text(fresh.subarray(8, 16))).toBe('01000000' + (1559731985 + 5).toString(16));
    expect(checkCookie(fresh, 0, 24, ip, 1559731985 + 6, { secrets: [next], require: false }).kind).toBe('valid');
    expect(checkCookie(sent, 0, 24, ip, 1559731985 + 5, { secrets: [next], require: false }).kind).toBe('client');
  });

  it('RFC 7873 §5.2.2: lengths other than 8 and 16..40 are malformed; other servers\' cookies of legal size are not ours', () => {
    for (const n of [0, 1, 7, 9, 15, 41, 60]) expect(checkCookie(new Uint8Array(n), 0, n, ip, 1, s).kind, `${n}`).toBe('malformed');
    for (const n of [8, 16, 24, 40]) expect(checkCookie(new Uint8Array(n), 0, n, ip, 1, s).kind, `${n}`).toBe('client');
  });
});

describe('cookies in the query pipeline', () => {
  const origin = Name.parse('example.');
  const store = new ZoneStore();
  store.publish(new ZoneSet(new Map([[origin.key, { snapshot: zoneFromText('example.', '@ 300 SOA ns h 1 2 3 4 5\n@ 300 NS ns\nns 300 A 192.0.2.1\n'), expired: false }]]), 1));
  const secret = hex('e5e973e5a6b2a43f48e7dc849e37bfcf');
  const engines = {
    open: new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 100, cookies: { secrets: [secret], require: false } }),
    strict: new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 100, cookies: { secrets: [secret], require: true } }),
  };
  const ask = (engine: QueryEngine, options: { code: number; data: Uint8Array }[], transport: 'udp' | 'tcp' = 'udp', address = '198.51.100.100') => {
    const out = engine.handle(buildQuery({ name: 'ns.example', type: 'A', id: 5, edns: { udpSize: 1232, do: false, options } }), { transport, address, port: 1 });
    return parseMessage(out as Uint8Array);
  };
  const cookieOf = (m: ReturnType<typeof parseMessage>): string | undefined => {
    const o = m.opt?.options.find((x) => x.code === EdnsOption.COOKIE);
    return o === undefined ? undefined : text(o.data);
  };

  it('answers a client cookie with its server cookie, from the cache too, per client address', () => {
    for (const engine of [engines.open]) {
      const client = hex('0102030405060708');
      const a = ask(engine, [{ code: 10, data: client }]);
      expect(a.rcode).toBe(Rcode.NOERROR);
      expect(a.answer.length).toBe(1);
      const c1 = cookieOf(a)!;
      expect(c1.slice(0, 16)).toBe('0102030405060708');
      expect(c1.length).toBe(48);
      // The second query is answered from the cache: its cookie is made for its own client cookie and address.
      const b = ask(engine, [{ code: 10, data: hex('1111111111111111') }], 'udp', '203.0.113.9');
      const c2 = cookieOf(b)!;
      expect(c2.slice(0, 16)).toBe('1111111111111111');
      expect(c2.slice(32)).not.toBe(c1.slice(32));
      const valid = ask(engine, [{ code: 10, data: hex(c2) }], 'udp', '203.0.113.9');
      expect(cookieOf(valid)).toBe(c2);
      // No cookie, no COOKIE option in the answer (a separate cache entry).
      expect(cookieOf(ask(engine, []))).toBeUndefined();
      // A query without EDNS after a cookie query: nothing of the previous request's cookie leaks into its answer.
      ask(engine, [{ code: 10, data: client }]);
      for (let i = 0; i < 2; i++) {
        const plain = parseMessage(engine.handle(buildQuery({ name: 'ns.example', type: 'A', id: 6 }), { transport: 'udp', address: '198.51.100.100', port: 1 }) as Uint8Array);
        expect(plain.opt).toBeUndefined();
        expect(plain.answer.map((r) => [...r.rdata])).toEqual([[192, 0, 2, 1]]);
      }
    }
  });

  it('FORMERR for a malformed COOKIE option or two of them (RFC 7873 §5.2.2)', () => {
    expect(ask(engines.open, [{ code: 10, data: new Uint8Array(12) }]).rcode).toBe(Rcode.FORMERR);
    expect(ask(engines.open, [{ code: 10, data: new Uint8Array(8) }, { code: 10, data: new Uint8Array(8) }]).rcode).toBe(Rcode.FORMERR);
  });

  it('require: BADCOOKIE with a fresh cookie over UDP without a valid server cookie; answered over TCP; answered with one', () => {
    const bad = ask(engines.strict, [{ code: 10, data: hex('0102030405060708') }]);
    expect(bad.rcode).toBe(Rcode.BADCOOKIE);
    expect(bad.answer.length).toBe(0);
    const fresh = cookieOf(bad)!;
    expect(ask(engines.strict, [{ code: 10, data: hex('0102030405060708') }], 'tcp').rcode).toBe(Rcode.NOERROR);
    const good = ask(engines.strict, [{ code: 10, data: hex(fresh) }]);
    expect(good.rcode).toBe(Rcode.NOERROR);
    expect(good.answer.length).toBe(1);
    // A cached answer is never handed to a client without a valid cookie.
    expect(ask(engines.strict, [{ code: 10, data: hex('0102030405060708') }]).rcode).toBe(Rcode.BADCOOKIE);
  });
});
