// TSIG (RFC 8945) unit tests: sign/verify for all algorithms, exact RR layout and MAC, error cases, truncation,
// original-ID handling, error responses and multi-message streams.

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  findTsig, signMessage, tsigAlgorithmFromName, tsigErrorResponse, tsigKeyFromConfig, tsigMinMacLength, TsigResponseSigner,
  TsigStream, verifyMessage,
  type TsigAlgorithm, type TsigKey, type VerifyFail,
} from '../../src/transfer/tsig.js';
import { Name } from '../../src/wire/name.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A query/response: header (id, flags, 1 question) + example.com. AXFR IN. */
function message(id: number, flags = 0, answers: readonly Uint8Array[] = []): Uint8Array {
  const q = Buffer.from('076578616d706c6503636f6d0000fc0001', 'hex');
  const head = Uint8Array.of(id >>> 8, id & 0xff, flags >>> 8, flags & 0xff, 0, 1, 0, answers.length, 0, 0, 0, 0);
  return Uint8Array.from([...head, ...q, ...answers.flatMap((x) => [...x])]);
}
/** example.com. 300 IN A 192.0.2.N with a compression pointer to the question name. */
function aRecord(n: number): Uint8Array {
  return Uint8Array.of(0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, n);
}

const ALGS: readonly [TsigAlgorithm, string, number, string][] = [
  ['hmac-md5', 'hmac-md5.sig-alg.reg.int.', 16, 'md5'],
  ['hmac-sha1', 'hmac-sha1.', 20, 'sha1'],
  ['hmac-sha224', 'hmac-sha224.', 28, 'sha224'],
  ['hmac-sha256', 'hmac-sha256.', 32, 'sha256'],
  ['hmac-sha384', 'hmac-sha384.', 48, 'sha384'],
  ['hmac-sha512', 'hmac-sha512.', 64, 'sha512'],
];

const secret = Buffer.from('c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==', 'base64');
function keyFor(alg: TsigAlgorithm, name = 'Xfr-Key.'): TsigKey {
  return { name: Name.parse(name), algorithm: alg, secret };
}
const ring = (...keys: TsigKey[]) => (n: Name): TsigKey | undefined => keys.find((k) => k.name.equals(n));
const T = 1_700_000_000;

describe('sign/verify round trip', () => {
  for (const [alg, algName, len, nodeHash] of ALGS) {
    it(alg, () => {
      const key = keyFor(alg);
      const msg = message(0xabcd);
      const { message: signed, mac } = signMessage(msg, key, { time: T, fudge: 300 });
      expect(mac.length).toBe(len);
      // ARCOUNT incremented, original bytes kept.
      expect(hex(signed.subarray(0, 10))).toBe(hex(msg.subarray(0, 10)));
      expect(signed[11]).toBe(1);
      expect(hex(signed.subarray(12, msg.length))).toBe(hex(msg.subarray(12)));
      // RR layout (RFC 8945 §4.2): owner, TYPE 250, CLASS ANY, TTL 0, RDLENGTH, alg, time, fudge, mac, id, error, other.
      const algWire = hex(Name.parse(algName).toWire());
      const rd = algWire + '00006553f100' + '012c' + len.toString(16).padStart(4, '0') + hex(mac) + 'abcd' + '0000' + '0000';
      const expected = hex(Name.parse('Xfr-Key.').toWire()) + '00fa' + '00ff' + '00000000' + (rd.length / 2).toString(16).padStart(4, '0') + rd;
      expect(hex(signed.subarray(msg.length))).toBe(expected);
      // MAC = HMAC(message ‖ TSIG variables) computed independently (RFC 8945 §4.3.3), key name lowercased.
      const vars = hex(Name.parse('xfr-key.').toWire()) + '00ff' + '00000000' + algWire + '00006553f100' + '012c' + '0000' + '0000';
      const ref = createHmac(nodeHash, secret).update(msg).update(Buffer.from(vars, 'hex')).digest();
      expect(hex(mac)).toBe(ref.toString('hex'));
      const r = verifyMessage(signed, ring(key), { now: T + 10 });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(hex(r.message)).toBe(hex(msg));
      expect(r.time).toBe(T);
      expect(r.fudge).toBe(300);
      expect(r.originalId).toBe(0xabcd);
      expect(r.key).toBe(key);
      expect(hex(r.mac)).toBe(hex(mac));
    });
  }
});

describe('algorithm names', () => {
  it('maps names both ways', () => {
    expect(tsigAlgorithmFromName('HMAC-SHA256')).toBe('hmac-sha256');
    expect(tsigAlgorithmFromName('hmac-md5.sig-alg.reg.int.')).toBe('hmac-md5');
    expect(tsigAlgorithmFromName('hmac-md5')).toBe('hmac-md5');
    expect(tsigAlgorithmFromName(Name.parse('Hmac-Sha512.'))).toBe('hmac-sha512');
    expect(tsigAlgorithmFromName('gss-tsig')).toBeUndefined();
    expect(ALGS.map(([a]) => tsigMinMacLength(a))).toEqual([10, 10, 14, 16, 24, 32]);
  });
});

describe('tsigKeyFromConfig', () => {
  it('parses name, algorithm and base64 secret', () => {
    const k = tsigKeyFromConfig({ name: 'xfr.example', algorithm: 'HMAC-SHA512', secret: 'AQIDBA==' });
    expect(k.name.toString()).toBe('xfr.example.');
    expect(k.algorithm).toBe('hmac-sha512');
    expect(hex(k.secret)).toBe('01020304');
  });
  it('rejects bad algorithms and secrets', () => {
    expect(() => tsigKeyFromConfig({ name: 'k', algorithm: 'hmac-sha3', secret: 'AQIDBA==' })).toThrow('unsupported TSIG algorithm');
    expect(() => tsigKeyFromConfig({ name: 'k', algorithm: 'hmac-sha256', secret: 'not base64!' })).toThrow('not base64');
    expect(() => tsigKeyFromConfig({ name: 'k', algorithm: 'hmac-sha256', secret: 'AQI' })).toThrow('not base64');
  });
});

describe('verification failures', () => {
  const key = keyFor('hmac-sha256');
  const signed = signMessage(message(0x1111), key, { time: T }).message;

  it('tampered byte → BADSIG', () => {
    const bad = signed.slice();
    bad[14] = bad[14]! ^ 0x01; // inside the question name
    const r = verifyMessage(bad, ring(key), { now: T }) as VerifyFail;
    expect(r.ok).toBe(false);
    expect(r.error).toBe('BADSIG');
    expect(r.keyName!.toString()).toBe('Xfr-Key.');
    const badMac = signed.slice();
    badMac[signed.length - 7] = badMac[signed.length - 7]! ^ 0x80; // last MAC octet
    expect((verifyMessage(badMac, ring(key), { now: T }) as VerifyFail).error).toBe('BADSIG');
  });
  it('wrong secret → BADSIG', () => {
    const other = { ...key, secret: Uint8Array.of(1, 2, 3) };
    expect((verifyMessage(signed, ring(other), { now: T }) as VerifyFail).error).toBe('BADSIG');
  });
  it('unknown key or other algorithm → BADKEY', () => {
    expect((verifyMessage(signed, () => undefined, { now: T }) as VerifyFail).error).toBe('BADKEY');
    expect((verifyMessage(signed, ring(keyFor('hmac-sha512')), { now: T }) as VerifyFail).error).toBe('BADKEY');
  });
  it('time outside fudge → BADTIME, edges inclusive', () => {
    expect(verifyMessage(signed, ring(key), { now: T + 300 }).ok).toBe(true);
    expect(verifyMessage(signed, ring(key), { now: T - 300 }).ok).toBe(true);
    const late = verifyMessage(signed, ring(key), { now: T + 301 }) as VerifyFail;
    expect(late.error).toBe('BADTIME');
    expect(late.time).toBe(T);
    expect((verifyMessage(signed, ring(key), { now: T - 301 }) as VerifyFail).error).toBe('BADTIME');
  });
  it('unsigned message → UNSIGNED; garbage → FORMERR', () => {
    expect((verifyMessage(message(1), ring(key)) as VerifyFail).error).toBe('UNSIGNED');
    expect((verifyMessage(Uint8Array.of(1, 2, 3), ring(key)) as VerifyFail).error).toBe('FORMERR');
    expect((verifyMessage(signed.subarray(0, signed.length - 3), ring(key)) as VerifyFail).error).toBe('FORMERR');
  });
  it('TSIG not last in the additional section → FORMERR', () => {
    const extra = Uint8Array.from([...signed, ...aRecord(1)]);
    extra[11] = 2;
    expect((verifyMessage(extra, ring(key), { now: T }) as VerifyFail).error).toBe('FORMERR');
  });
  it('never writes into the caller buffer (Buffer#slice is a view)', () => {
    const buf = Buffer.from(signed);
    const before = hex(buf);
    const r = verifyMessage(buf, ring(key), { now: T });
    expect(r.ok).toBe(true);
    expect(hex(buf)).toBe(before);
    const f = verifyMessage(buf, ring(key), { now: T + 1000 }) as VerifyFail;
    const resp = Buffer.from(message(0x1111, 0x8000));
    const respBefore = hex(resp);
    tsigErrorResponse(resp, f, { now: T + 1000 });
    expect(hex(resp)).toBe(respBefore);
    expect(hex(buf)).toBe(before);
  });
  it('restores the original ID (RFC 8945 §4.3.3) when a forwarder changed it', () => {
    const fwd = signed.slice();
    fwd[0] = 0x99;
    fwd[1] = 0x99;
    const r = verifyMessage(fwd, ring(key), { now: T });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.originalId).toBe(0x1111);
    expect(hex(r.message.subarray(0, 2))).toBe('9999');
  });
});

/** Rewrite the MAC of a signed message (for malformed-size cases). */
function withMac(signed: Uint8Array, macLen: number, mac: Uint8Array): Uint8Array {
  const t = findTsig(signed)!;
  const start = t.offset;
  const owner = 9; // \007Xfr-Key\000
  const algLen = 13; // hmac-sha256.
  const macPos = start + owner + 10 + algLen + 10;
  const oldLen = (signed[macPos - 2]! << 8) | signed[macPos - 1]!;
  const head = signed.slice(0, macPos);
  const tail = signed.slice(macPos + oldLen);
  const rdlen = ((head[start + owner + 8]! << 8) | head[start + owner + 9]!) - oldLen + macLen;
  head[start + owner + 8] = rdlen >>> 8;
  head[start + owner + 9] = rdlen & 0xff;
  head[macPos - 2] = macLen >>> 8;
  head[macPos - 1] = macLen & 0xff;
  return Uint8Array.from([...head, ...mac.subarray(0, macLen), ...tail]);
}

describe('MAC truncation (RFC 8945 §5.2.2.1)', () => {
  const key = keyFor('hmac-sha256');
  const msg = message(0x2222);
  const full = signMessage(msg, key, { time: T });

  it('accepts MACs truncated to at least max(10, L/2)', () => {
    const s = signMessage(msg, key, { time: T, macLength: 16 });
    expect(hex(s.mac)).toBe(hex(full.mac.subarray(0, 16)));
    const r = verifyMessage(s.message, ring(key), { now: T });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.mac.length).toBe(16);
  });
  it('local policy longer than the truncation → BADTRUNC', () => {
    const s = signMessage(msg, key, { time: T, macLength: 16 });
    expect((verifyMessage(s.message, ring(key), { now: T, minMacLength: 20 }) as VerifyFail).error).toBe('BADTRUNC');
    expect(verifyMessage(full.message, ring(key), { now: T, minMacLength: 20 }).ok).toBe(true);
  });
  it('below the RFC minimum or above the hash size → FORMERR', () => {
    expect(withMac(full.message, 32, full.mac).length).toBe(full.message.length);
    expect(verifyMessage(withMac(full.message, 32, full.mac), ring(key), { now: T }).ok).toBe(true);
    const short = withMac(full.message, 15, full.mac);
    expect((verifyMessage(short, ring(key), { now: T }) as VerifyFail).error).toBe('FORMERR');
    const long = withMac(full.message, 33, Uint8Array.from([...full.mac, 0]));
    expect((verifyMessage(long, ring(key), { now: T }) as VerifyFail).error).toBe('FORMERR');
  });
  it('refuses to sign with a disallowed truncation', () => {
    expect(() => signMessage(msg, key, { macLength: 15 })).toThrow(RangeError);
    expect(() => signMessage(msg, key, { macLength: 33 })).toThrow(RangeError);
  });
});

describe('responses', () => {
  const key = keyFor('hmac-sha512');
  const req = signMessage(message(0x3333), key, { time: T });

  it('response MAC covers the request MAC (RFC 8945 §5.3)', () => {
    const resp = signMessage(message(0x3333, 0x8400, [aRecord(1)]), key, { time: T + 1, requestMac: req.mac });
    expect(verifyMessage(resp.message, ring(key), { now: T + 1, requestMac: req.mac }).ok).toBe(true);
    expect((verifyMessage(resp.message, ring(key), { now: T + 1 }) as VerifyFail).error).toBe('BADSIG');
    const other = signMessage(message(0x3333), key, { time: T + 5 });
    expect((verifyMessage(resp.message, ring(key), { now: T + 1, requestMac: other.mac }) as VerifyFail).error).toBe('BADSIG');
  });

  it('BADKEY/BADSIG error replies carry an unsigned TSIG', () => {
    const fail = verifyMessage(req.message, () => undefined, { now: T }) as VerifyFail;
    expect(fail.error).toBe('BADKEY');
    const { message: out, rr } = tsigErrorResponse(message(0x3333, 0x8000), fail, { now: T + 2 });
    expect(out[3]! & 0x0f).toBe(9); // NOTAUTH
    expect(out[11]).toBe(1);
    const algWire = hex(Name.parse('hmac-sha512.').toWire());
    const rd = algWire + '00006553f102' + '012c' + '0000' + '3333' + '0011' + '0000';
    expect(hex(rr)).toBe(hex(Name.parse('Xfr-Key.').toWire()) + '00fa00ff00000000' + (rd.length / 2).toString(16).padStart(4, '0') + rd);
    const seen = verifyMessage(out, ring(key), { now: T + 2, requestMac: req.mac }) as VerifyFail;
    expect(seen.error).toBe('BADKEY');
    expect(seen.peerError).toBe(true);
  });

  it('BADTIME error replies are signed and carry the server time (RFC 8945 §5.2.3)', () => {
    const fail = verifyMessage(req.message, ring(key), { now: T + 1000 }) as VerifyFail;
    expect(fail.error).toBe('BADTIME');
    const { message: out } = tsigErrorResponse(message(0x3333, 0x8000), fail, { now: T + 1000 });
    expect(out[3]! & 0x0f).toBe(9);
    const r = verifyMessage(out, ring(key), { now: T, requestMac: req.mac });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.tsigError).toBe(18);
    expect(r.time).toBe(T);
    expect(hex(r.otherData)).toBe('00006553f4e8'); // T + 1000
  });

  it('FORMERR replies have no TSIG', () => {
    const fail = verifyMessage(Uint8Array.of(0, 1, 2), ring(key)) as VerifyFail;
    const { message: out, rr } = tsigErrorResponse(message(0x3333, 0x8000), fail);
    expect(rr.length).toBe(0);
    expect(out[3]! & 0x0f).toBe(1);
    expect(out[11]).toBe(0);
  });
});

describe('TsigStream (RFC 8945 §5.3.1)', () => {
  const key = keyFor('hmac-sha256');
  const req = signMessage(message(0x4444), key, { time: T });
  /** Server side: sign messages with index in `signedIdx`, chaining MACs and covering unsigned ones. */
  function serverStream(n: number, signedIdx: (i: number) => boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    let prev = req.mac;
    let unsigned: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const m = message(0x4444, 0x8400, [aRecord(i)]);
      if (!signedIdx(i)) {
        unsigned.push(m);
        out.push(m);
        continue;
      }
      const s = i === 0
        ? signMessage(m, key, { time: T, requestMac: prev })
        : signMessage(m, key, { time: T, previousMac: prev, unsignedMessages: unsigned });
      prev = s.mac;
      unsigned = [];
      out.push(s.message);
    }
    return out;
  }

  it('verifies all-signed and partly-unsigned streams', () => {
    for (const sel of [(_: number) => true, (i: number) => i === 0 || i === 4 || i === 5]) {
      const st = new TsigStream(key, req.mac, { now: () => T });
      const msgs = serverStream(6, sel);
      const res = msgs.map((m) => st.push(m));
      expect(res.every((r) => r.ok)).toBe(true);
      expect(res.map((r) => (r.ok ? r.signed : null))).toEqual(msgs.map((_, i) => sel(i)));
      expect(st.finish()).toBe(true);
    }
  });
  it('later messages are timers-only: full-variable signing is rejected', () => {
    const st = new TsigStream(key, req.mac, { now: () => T });
    const m0 = signMessage(message(0x4444, 0x8400, [aRecord(0)]), key, { time: T, requestMac: req.mac });
    expect(st.push(m0.message).ok).toBe(true);
    const m1 = signMessage(message(0x4444, 0x8400, [aRecord(1)]), key, { time: T, requestMac: m0.mac });
    const r = st.push(m1.message);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe('BADSIG');
  });
  it('fails when the last message is unsigned', () => {
    const st = new TsigStream(key, req.mac, { now: () => T });
    for (const m of serverStream(3, (i) => i === 0)) expect(st.push(m).ok).toBe(true);
    expect(st.finish()).toBe(false);
  });
  it('fails when the first message is unsigned', () => {
    const st = new TsigStream(key, req.mac, { now: () => T });
    const r = st.push(message(0x4444, 0x8400));
    expect(r.ok).toBe(false);
    expect(st.finish()).toBe(false);
  });
  it('fails after more than 99 unsigned messages in a row', () => {
    const st = new TsigStream(key, req.mac, { now: () => T });
    const msgs = serverStream(101, (i) => i === 0);
    const res = msgs.map((m) => st.push(m));
    expect(res.slice(0, 100).every((r) => r.ok)).toBe(true);
    expect(res[100]!.ok).toBe(false);
  });
  it('TsigResponseSigner output verifies message by message', () => {
    const signer = new TsigResponseSigner(key, req.mac, { now: () => T });
    const st = new TsigStream(key, req.mac, { now: () => T });
    const msgs = [0, 1, 2].map((i) => signer.sign(message(0x4444, 0x8400, [aRecord(i)])));
    expect(msgs.map((m) => hex(m))).toEqual(serverStream(3, () => true).map((m) => hex(m)));
    for (const m of msgs) expect(st.push(m).ok).toBe(true);
    expect(st.finish()).toBe(true);
  });
  it('fails on a dropped message', () => {
    const st = new TsigStream(key, req.mac, { now: () => T });
    const msgs = serverStream(4, () => true);
    expect(st.push(msgs[0]!).ok).toBe(true);
    expect(st.push(msgs[2]!).ok).toBe(false);
  });
});
