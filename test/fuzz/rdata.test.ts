// Fuzz test of the RDATA codecs: rdataFromText on random and mutated token lists, rdataValidateWire/rdataToText on
// random and mutated wire RDATA (only RdataError may escape), and the text round trip of every RDATA that validates.

import { describe, expect, it } from 'vitest';
import { RRType, typeToString } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { RdataError, type RdataToken } from '../../src/wire/rdata-api.js';
import { rdataFromText, rdataToText, rdataTypeSupported, rdataValidateWire } from '../../src/wire/rdata/index.js';
import { lexAll } from '../../src/zone/lexer.js';
import { SCALE, hex, int, mutateBytes, mutateText, pick, prng, randomBytes, seed, type Rnd } from './fuzz-helpers.js';

const origin = Name.parse('example.com.');
const T = RRType;

/** One valid presentation sample per supported type (the seed corpus of the mutators). */
const SAMPLES: ReadonlyMap<number, readonly string[]> = new Map<number, readonly string[]>([
  [T.A, ['192.0.2.1']],
  [T.NS, ['ns1', 'ns2.example.net.']],
  [T.MD, ['md.example.']],
  [T.MF, ['mf.example.']],
  [T.CNAME, ['@', 'a\\.b\\032c.example.']],
  [T.SOA, ['ns1 hostmaster 2024010101 7200 3600 1209600 300', 'a. b. 4294967295 1h 15m 2w 1d1s']],
  [T.MB, ['mb.example.']],
  [T.MG, ['mg.example.']],
  [T.MR, ['mr.example.']],
  [T.PTR, ['host.example.']],
  [T.HINFO, ['"Intel" "Linux"', 'a b']],
  [T.MINFO, ['rm.example. em.example.']],
  [T.MX, ['10 mail', '0 .']],
  [T.TXT, ['"hello \\"world\\"" "semi;colon"', '"\\000\\255x" y', '""']],
  [T.RP, ['mbox.example. txt.example.']],
  [T.AFSDB, ['1 afs.example.']],
  [T.RT, ['10 rt.example.']],
  [T.AAAA, ['2001:db8::1', '::ffff:192.0.2.1', '::']],
  [T.LOC, ['52 22 23 N 4 53 32 E -2m 0 10000 10', '0 0 0.001 S 0 0 0.5 W 1.5m 1.5m 0.1m 1234567m', '42 N 71 W 0m']],
  [T.SRV, ['0 5 443 www', '65535 65535 65535 .']],
  [T.NAPTR, ['100 10 "S" "SIP+D2U" "!^.*$!sip:info@example.com!" _sip._udp.example.com.', '1 2 "" "" "" .']],
  [T.KX, ['10 kx.example.']],
  [T.CERT, ['PGP 7 RSASHA256 AAAA', '1 0 3 AAECAwQ=']],
  [T.DNAME, ['target.example.']],
  [T.APL, ['1:192.168.32.0/21 !1:192.168.38.0/28', '2:2001:db8::/32 1:0.0.0.0/0', '']],
  [T.DS, ['12345 13 2 ' + 'ab'.repeat(32), '1 8 1 ' + '01'.repeat(20), '7 13 9 00']],
  [T.SSHFP, ['1 1 ' + '12'.repeat(20)]],
  [T.IPSECKEY, ['10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==', '10 0 2 . AQNRU3mG', '10 3 2 gw.example. AQNRU3mG', '10 2 2 2001:db8::1 AQNRU3mG']],
  [T.RRSIG, ['A 13 2 3600 20240101000000 20231201000000 12345 example.com. AAAA', 'TYPE65280 13 2 60 1600000000 1500000000 1 example.com. AQID']],
  [T.NSEC, ['a. A MX RRSIG NSEC TYPE1234', 'host.example.com. NS']],
  [T.DNSKEY, ['257 3 13 ' + 'AQID'.repeat(16), '256 3 ED25519 AAAA']],
  [T.DHCID, ['AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=']],
  [T.NSEC3, ['1 1 12 aabb 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG', '1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3s']],
  [T.NSEC3PARAM, ['1 0 10 aabb', '1 0 0 -']],
  [T.TLSA, ['3 1 1 ' + 'cd'.repeat(32)]],
  [T.SMIMEA, ['3 0 0 00ff']],
  [T.CDS, ['0 0 0 00', '12345 13 2 ' + 'ab'.repeat(32)]],
  [T.CDNSKEY, ['0 3 0 AA==', '257 3 13 AQID']],
  [T.OPENPGPKEY, ['mQINBF0=']],
  [T.CSYNC, ['66 3 A NS AAAA', '1 0']],
  [T.ZONEMD, ['7 1 240 000102030405060708090a0b', '2024 1 1 ' + '0f'.repeat(48)]],
  [T.SVCB, ['1 . ipv6hint=2001:db8:0::1 mandatory=ipv6hint ech=AAEC', '0 foo.', '1 . alpn="a\\\\,b" key65000=x key7="/{?dns}"', '2 svc.example. port=8443 no-default-alpn alpn=h2,h3 ipv4hint=192.0.2.1,192.0.2.2']],
  [T.HTTPS, ['1 . port=443 alpn=h2,h3', '0 alias.example.']],
  [T.SPF, ['"v=spf1 -all"']],
  [T.NID, ['10 0014:4fff:ff20:ee64']],
  [T.L32, ['10 10.1.2.0']],
  [T.L64, ['10 2001:0db8:1140:1000']],
  [T.LP, ['10 l64-subnet.example.']],
  [T.EUI48, ['00-00-5e-00-53-2a']],
  [T.EUI64, ['00-00-5e-ef-10-00-00-2a']],
  [T.URI, ['10 1 "ftp://ftp1.example.com/public"', '0 0 ""']],
  [T.CAA, ['0 issue "letsencrypt.org"', '128 tbs "\\"x;y\\""']],
  [T.TA, ['12345 13 2 ' + 'ab'.repeat(32)]],
  [T.DLV, ['12345 13 2 ' + 'ab'.repeat(32)]],
]);

const SUPPORTED: readonly number[] = Array.from({ length: 0x10000 }, (_, t) => t).filter(rdataTypeSupported);
/** Supported types plus a few unknown/meta codes handled by the RFC 3597 generic form. */
const TYPES: readonly number[] = [...SUPPORTED, 0, 99, 254, 255, 65280, 65535, T.OPT, T.TSIG, T.NXT, T.SIG];

/** Tokens of one RDATA text, split by the zone lexer (as the zone parser would hand them to the codec). */
function toks(text: string): readonly RdataToken[] | undefined {
  let bad = false;
  const recs = lexAll(`x IN TYPE1 ${text}\n`, () => {
    bad = true;
  });
  if (bad || recs.length !== 1) return undefined;
  // Drop owner, class and type.
  return recs[0]!.tokens.slice(3);
}

function tok(text: string, quoted = false, col = 1): RdataToken {
  return { text, quoted, line: 1, col };
}

const TOKEN_POOL: readonly string[] = [
  '', '.', '@', '-', '0', '1', '255', '256', '65535', '65536', '4294967295', '4294967296', '99999999999999999999',
  '\\#', '\\', '\\0', '\\256', '\\999', '"', 'A', 'AAAA', 'TYPE0', 'TYPE65535', 'TYPE65536', 'RRSIG', 'NSEC',
  'N', 'S', 'E', 'W', '90', '91', '180', '181', '59', '60', '59.999', '1m', '-100000m', '42849672.95m',
  '192.0.2.1', '::', '::1', '1::2::3', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8', 'AA==', 'AAAA', '=', 'A===',
  'ab', 'abc', 'zz', '2vptu5timamqttgl4luu9kg21e0aor3s', 'alpn=', 'alpn=h2', 'mandatory=alpn', 'port=', 'port=99999',
  'ipv4hint=1.2.3.4', 'ipv6hint=::1', 'ech=', 'ech=AAEC', 'key7=/{?dns}', 'key65535', 'key65536', 'key01',
  'no-default-alpn', 'dohpath=x', '1:1.2.3.4/32', '!2:::/0', '1:1.2.3.4/33', '3:1.2.3.4/1', 'a'.repeat(63),
  'a'.repeat(64), `${'a'.repeat(63)}.`.repeat(4), 'x'.repeat(300), '\\065\\066', '20240101000000', '20241301000000',
  '19700101000000', '99991231235959', '1h', '1w2d3h4m5s', '1h30', 'issue', 'tbs', 'PGP', 'URI', 'OID', 'PRIVATEOID',
  'ED25519', 'ECDSAP256SHA256', '00-00-5e-00-53-2a', '0014:4fff:ff20:ee64', 'é', '\u0100', '\uD83D\uDE00',
];

const TEXT_ALPHABET = [' ', ' ', '"', '\\', '.', ';', '(', ')', '0', '1', '9', 'a', 'A', 'f', 'Z', '=', ',', ':', '-', '/', '!', '#', '@', '*', '+', '\t', 'é'];

const TOKEN_ALPHABET = ['\\', '.', '0', '9', 'a', 'F', 'z', '=', ',', ':', '-', '/', '!', '"', ' ', '+', '\u00ff', '\u0100'];

function mutateTokens(rnd: Rnd, base: readonly RdataToken[]): RdataToken[] {
  const out = base.slice();
  const edits = 1 + int(rnd, 3);
  for (let e = 0; e < edits; e++) {
    const at = int(rnd, out.length + 1);
    switch (int(rnd, 6)) {
      case 0:
        out.splice(at, 1);
        break;
      case 1:
        out.splice(at, 0, tok(pick(rnd, TOKEN_POOL), rnd() < 0.2));
        break;
      case 2:
        if (out[at]) out[at] = tok(pick(rnd, TOKEN_POOL), out[at].quoted);
        break;
      case 3:
        if (out[at]) out[at] = { ...out[at], text: mutateText(rnd, out[at].text, TOKEN_ALPHABET, 2) };
        break;
      case 4:
        if (out[at]) out.splice(at, 0, out[at]);
        break;
      default:
        if (out[at]) out[at] = { ...out[at], quoted: !out[at].quoted };
    }
  }
  return out;
}

function fromTextOnlyRdataError(type: number, tokens: readonly RdataToken[]): Uint8Array | undefined {
  try {
    const rdata = rdataFromText(type, tokens, origin);
    if (!(rdata instanceof Uint8Array) || rdata.length > 0xffff) throw new Error('bad RDATA result');
    return rdata;
  } catch (e) {
    if (e instanceof RdataError) {
      // The error points at a token, or one past the last when a field is missing.
      if (!Number.isInteger(e.tokenIndex) || e.tokenIndex < 0 || e.tokenIndex > tokens.length || e.message.length === 0) {
        throw new Error(`bad RdataError position ${e.tokenIndex} for ${tokens.length} tokens: ${e.message}`);
      }
      return undefined;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    throw new Error(`${typeToString(type)} fromText ${JSON.stringify(tokens.map((t) => [t.text, t.quoted]))}: unexpected ${err.name}: ${err.message}\n${err.stack ?? ''}`);
  }
}

/**
 * Validate wire RDATA; when valid, print it, which must not throw, and parse the text back, which must give the
 * same bytes. Returns whether it validated. Any exception other than RdataError from validation is a failure.
 */
function checkWire(type: number, rdata: Uint8Array): boolean {
  const where = (): string => `${typeToString(type)} wire ${hex(rdata)}`;
  try {
    rdataValidateWire(type, rdata);
  } catch (e) {
    if (e instanceof RdataError) {
      // toText must agree with the validator: it throws RdataError too.
      let threw = false;
      try {
        rdataToText(type, rdata);
      } catch (e2) {
        if (!(e2 instanceof RdataError)) throw new Error(`${where()}: toText threw ${String(e2)}`);
        threw = true;
      }
      if (!threw) throw new Error(`${where()}: validate rejected (${e.message}) but toText accepted`);
      return false;
    }
    throw new Error(`${where()}: validate threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e)}`);
  }
  let text: string;
  try {
    text = rdataToText(type, rdata);
  } catch (e) {
    throw new Error(`${where()}: validated but toText threw ${String(e)}`);
  }
  const tokens = toks(text);
  if (tokens === undefined) throw new Error(`${where()}: toText output ${JSON.stringify(text)} does not lex`);
  let back: Uint8Array;
  try {
    back = rdataFromText(type, tokens, origin);
  } catch (e) {
    throw new Error(`${where()}: toText ${JSON.stringify(text)} does not parse back: ${String(e)}`);
  }
  if (hex(back) !== hex(rdata)) throw new Error(`${where()}: round trip via ${JSON.stringify(text)} gave ${hex(back)}`);
  return true;
}

/** Valid wire RDATA of every sample, per type. */
function seedWire(): Map<number, Uint8Array[]> {
  const m = new Map<number, Uint8Array[]>();
  for (const [type, texts] of SAMPLES) {
    m.set(type, texts.map((t) => rdataFromText(type, toks(t)!, origin)));
  }
  return m;
}

describe('rdata fuzz', () => {
  it('has a valid sample for every supported type, and every sample round-trips', () => {
    expect(SUPPORTED.filter((t) => !SAMPLES.has(t)).map(typeToString)).toEqual([]);
    expect(SUPPORTED.length).toBe(SAMPLES.size);
    for (const [type, wires] of seedWire()) for (const w of wires) expect(checkWire(type, w)).toBe(true);
  });

  it('rdataFromText: mutated sample token lists throw only RdataError (120 per type)', () => {
    const rnd = prng(seed(0x5eed0001));
    let accepted = 0;
    let rejected = 0;
    for (const [type, texts] of SAMPLES) {
      for (let n = 0; n < 120 * SCALE; n++) {
        const base = toks(pick(rnd, texts))!;
        const tokens = mutateTokens(rnd, base);
        const r = fromTextOnlyRdataError(type, tokens);
        if (r === undefined) rejected++;
        else {
          accepted++;
          // Whatever the parser accepts must be valid wire that prints and parses back identically.
          expect(checkWire(type, r)).toBe(true);
        }
      }
    }
    expect(rejected).toBeGreaterThan(2000);
    expect(accepted).toBeGreaterThan(300);
  });

  it('rdataFromText: mutated sample text (through the lexer) throws only RdataError (60 per type)', () => {
    const rnd = prng(seed(0x5eed0002));
    let lexed = 0;
    for (const [type, texts] of SAMPLES) {
      for (let n = 0; n < 60 * SCALE; n++) {
        const tokens = toks(mutateText(rnd, pick(rnd, texts), TEXT_ALPHABET));
        if (tokens === undefined) continue;
        lexed++;
        const r = fromTextOnlyRdataError(type, tokens);
        if (r !== undefined) expect(checkWire(type, r)).toBe(true);
      }
    }
    expect(lexed).toBeGreaterThan(1500);
  });

  it('rdataFromText: random token lists for every type (incl. \\# generic form) throw only RdataError', () => {
    const rnd = prng(seed(0x5eed0003));
    for (const type of TYPES) {
      for (let n = 0; n < 40 * SCALE; n++) {
        const len = int(rnd, 10);
        const tokens: RdataToken[] = [];
        for (let i = 0; i < len; i++) tokens.push(tok(pick(rnd, TOKEN_POOL), rnd() < 0.3, 1 + i * 3));
        if (rnd() < 0.25) tokens.unshift(tok('\\#'));
        fromTextOnlyRdataError(type, tokens);
      }
      // Generic form of random bytes: accepted exactly when the wire validates.
      for (let n = 0; n < 10; n++) {
        const b = randomBytes(rnd, int(rnd, 40));
        const tokens = [tok('\\#'), tok(String(b.length)), ...(b.length > 0 ? [tok(hex(b))] : [])];
        let valid = true;
        try {
          rdataValidateWire(type, b);
        } catch {
          valid = false;
        }
        const r = fromTextOnlyRdataError(type, tokens);
        expect(r === undefined ? undefined : hex(r)).toBe(valid ? hex(b) : undefined);
      }
    }
  });

  it('rdataValidateWire / rdataToText: random wire RDATA throws only RdataError (150 per type)', () => {
    const rnd = prng(seed(0x5eed0004));
    let valid = 0;
    for (const type of TYPES) {
      for (let n = 0; n < 150 * SCALE; n++) {
        const len = rnd() < 0.5 ? int(rnd, 24) : int(rnd, 300);
        if (checkWire(type, randomBytes(rnd, len))) valid++;
      }
    }
    expect(valid).toBeGreaterThan(500);
  });

  it('mutated valid wire RDATA: validate/toText throw only RdataError, and every survivor round-trips (250 per type)', () => {
    const rnd = prng(seed(0x5eed0005));
    const seeds = seedWire();
    let survivors = 0;
    let total = 0;
    for (const [type, wires] of seeds) {
      // Survivors join the corpus, so mutations compound (deeper coverage of the valid space).
      const corpus = wires.slice();
      for (let n = 0; n < 250 * SCALE; n++) {
        const m = mutateBytes(rnd, pick(rnd, corpus));
        total++;
        if (checkWire(type, m)) {
          survivors++;
          if (corpus.length < 64) corpus.push(m);
        }
      }
    }
    expect(total).toBe(250 * SCALE * SAMPLES.size);
    expect(survivors).toBeGreaterThan(1500);
  });

  it('regressions: wire forms without a text form are invalid (as in BIND), in both wire and \\# input', () => {
    const cases: [number, string, string][] = [
      [T.CERT, '0003000708', 'RDATA too short for base64 data'], // empty certificate
      [T.DNSKEY, '01010d03', 'RDATA too short for base64 data'], // empty public key
      [T.IPSECKEY, '0a0002', 'RDATA too short for base64 data'], // no gateway, no key
      [T.DS, '00010d09', 'RDATA too short for hex data'], // unknown digest type, empty digest
      [T.SSHFP, '0101', 'RDATA too short for hex data'],
      [T.LOC, '00091616890321' + '0070c3da8000989680', 'LOC precision byte with a zero mantissa and a non-zero exponent'],
      [T.RRSIG, '00010d0000000e106553f1005f5e10003039076578616d706c6503636f6d00010203', "labels 0 is below the signer's 2 labels"],
      [T.APL, '000220042001b800', 'APL address with a trailing zero octet'],
    ];
    for (const [type, h, message] of cases) {
      const b = Uint8Array.from(Buffer.from(h, 'hex'));
      expect(() => rdataValidateWire(type, b)).toThrow(new RdataError(message, 0));
      expect(() => rdataToText(type, b)).toThrow(message);
      expect(() => rdataFromText(type, [tok('\\#'), tok(String(b.length)), tok(h)], origin)).toThrow(message);
    }
    // A quoted empty token is not base64 data either.
    expect(() => rdataFromText(T.CERT, [tok('PGP'), tok('7'), tok('RSASHA256'), tok('', true)], origin)).toThrow(RdataError);
    // The valid neighbours still print and parse back.
    expect(checkWire(T.LOC, Uint8Array.from(Buffer.from('00121613890321' + '0070c3da8000989680', 'hex')))).toBe(true);
    expect(checkWire(T.APL, Uint8Array.from(Buffer.from('000220032001b8', 'hex')))).toBe(true);
  });

  it('oversized RDATA is refused with RdataError', () => {
    const big = new Uint8Array(0x10000);
    expect(() => rdataValidateWire(T.TXT, big)).toThrow(RdataError);
    expect(() => rdataValidateWire(65280, big)).toThrow('RDATA longer than 65535 octets');
    const longHex = 'ab'.repeat(0x10000);
    expect(() => rdataFromText(T.TLSA, [tok('1'), tok('1'), tok('1'), tok(longHex)], origin)).toThrow('RDATA longer than 65535 octets');
  });
});
