// Fuzz test: random bytes and mutated valid zone files must only ever produce diagnostics, never exceptions.
import { describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { parseZoneText, type ParseResult } from '../../src/zone/parser.js';
import { prng } from '../helpers/prng.js';

const VALID = `$TTL 1h
$ORIGIN example.com.
@ IN SOA ns1 hostmaster ( 2024010101 ; serial
      7200 3600 1209600 300 )
  NS ns1
  NS ns2.example.net.
  MX 10 mail
ns1 A 192.0.2.1
    AAAA 2001:db8::1
www 300 IN CNAME @ ; web cf_tags=cf-proxied:true,team:"a,b"
txt TXT "hello \\"world\\"" "semi;colon" \\# 
srv._tcp SRV 0 5 443 www
caa CAA 0 issue "letsencrypt.org"
gen ALIAS target.example.net. ; cf_tags=cf-flatten-cname
$GENERATE 1-20/3 h\${0,3,d} A 10.0.0.$
$GENERATE 1-4 r\${0,8,n} PTR host-$.example.com.
unk TYPE65280 \\# 3 abcdef
sub 1 IN NS ns.sub
$INCLUDE missing.zone
`;

const SPECIAL = ['(', ')', '"', ';', '\\', '$', '\n', ' ', '\t', '@', '.', '{', '}', ',', '0', '9', 'A', '\r', '\u00e9', '\u0000', '#'];
const origin = Name.parse('example.com.');

function check(text: string): ParseResult {
  const res = parseZoneText(text, 'fuzz.zone', { origin, zonesDir: '/nonexistent-apexdns-fuzz', maxRecords: 100_000 });
  for (const d of res.diagnostics) {
    if (!(d.pos.line >= 1 && d.pos.col >= 1) || d.message.length === 0) throw new Error(`bad diagnostic ${JSON.stringify(d)}`);
  }
  for (const r of res.records) {
    if (!(r.rdata instanceof Uint8Array) || r.ttl < 0 || r.ttl > 0x7fffffff) throw new Error('bad record');
  }
  return res;
}

describe('fuzz', () => {
  it('the valid base file parses without errors', () => {
    const res = check(VALID);
    expect(res.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.pos.line}:${d.pos.col} ${d.message}`)).toEqual([
      '19:10 $INCLUDE "missing.zone" resolves outside the zones directory /nonexistent-apexdns-fuzz',
    ]);
    expect(res.records.length).toBe(24);
  });

  it('random bytes never throw (1000 iterations)', () => {
    const rnd = prng(0xdecafbad);
    let errors = 0;
    for (let n = 0; n < 1000; n++) {
      const len = Math.floor(rnd() * 400);
      let s = '';
      for (let i = 0; i < len; i++) {
        s += rnd() < 0.4 ? SPECIAL[Math.floor(rnd() * SPECIAL.length)]! : String.fromCharCode(Math.floor(rnd() * 256));
      }
      const res = check(s);
      if (res.diagnostics.some((d) => d.severity === 'error')) errors++;
    }
    expect(errors).toBeGreaterThan(500);
  });

  it('mutated valid files never throw (1000 iterations)', () => {
    const rnd = prng(12345);
    let changed = 0;
    for (let n = 0; n < 1000; n++) {
      const chars = VALID.split('');
      const edits = 1 + Math.floor(rnd() * 6);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * chars.length);
        const op = rnd();
        const ch = rnd() < 0.7 ? SPECIAL[Math.floor(rnd() * SPECIAL.length)]! : String.fromCharCode(Math.floor(rnd() * 128));
        if (op < 0.33) chars.splice(at, 1);
        else if (op < 0.66) chars.splice(at, 0, ch);
        else chars[at] = ch;
      }
      const res = check(chars.join(''));
      if (res.diagnostics.length !== 1) changed++;
    }
    expect(changed).toBeGreaterThan(100);
  });
});
