// Tests for the zone-file parser: records, inheritance, TTLs, classes, types, directives, cf_tags, error positions.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Name } from '../../src/wire/name.js';
import { parseZoneText, type ParseOptions, type ParseResult } from '../../src/zone/parser.js';
import type { RR } from '../../src/zone/model.js';

const FIX = fileURLToPath(new URL('../fixtures/zones-parser/', import.meta.url));
const ORIGIN = Name.parse('example.com.');

function parse(text: string, extra: Partial<ParseOptions> = {}): ParseResult {
  return parseZoneText(text, 'z.zone', { origin: ORIGIN, zonesDir: FIX, ...extra });
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const nameHex = (s: string): string => hex(Name.parse(s).toWire());
const u32 = (n: number): string => n.toString(16).padStart(8, '0');
function brief(r: RR): string {
  return `${r.owner.toString()} ${r.ttl} ${r.class} ${r.type} ${hex(r.rdata)}`;
}
function diags(res: ParseResult): string[] {
  return res.diagnostics.map((d) => `${d.severity} ${d.pos.file}:${d.pos.line}:${d.pos.col} ${d.message}`);
}
function ok(text: string, extra: Partial<ParseOptions> = {}): string[] {
  const res = parse(text, extra);
  expect(diags(res).filter((d) => d.startsWith('error'))).toEqual([]);
  return res.records.map(brief);
}

describe('records', () => {
  it('parses a small zone with @, relative names, multi-line SOA and blank owners', () => {
    const res = parse(
      [
        '$TTL 300',
        '@ IN SOA ns hostmaster ( 1 ; serial',
        '    7200 3600 1209600 300 )',
        '  NS ns',
        '  NS ns2.example.net.',
        'ns A 192.0.2.1',
        '   AAAA 2001:db8::1',
        'www.example.com. 60 A 192.0.2.2',
        '',
      ].join('\n'),
    );
    expect(diags(res)).toEqual([]);
    expect(res.records.map(brief)).toEqual([
      `example.com. 300 1 6 ${nameHex('ns.example.com.')}${nameHex('hostmaster.example.com.')}${u32(1)}${u32(7200)}${u32(3600)}${u32(1209600)}${u32(300)}`,
      `example.com. 300 1 2 ${nameHex('ns.example.com.')}`,
      `example.com. 300 1 2 ${nameHex('ns2.example.net.')}`,
      'ns.example.com. 300 1 1 c0000201',
      'ns.example.com. 300 1 28 20010db8000000000000000000000001',
      'www.example.com. 60 1 1 c0000202',
    ]);
    expect(res.files).toEqual(['z.zone']);
    expect(res.records[0]!.meta).toEqual({ comment: 'serial', tags: [], proxied: false, flatten: false, pos: { file: 'z.zone', line: 2, col: 1 } });
    expect(res.records[4]!.meta.pos).toEqual({ file: 'z.zone', line: 7, col: 4 });
  });

  it('accepts TTL and class in either order, either omitted', () => {
    expect(ok('$TTL 99\na 60 IN A 1.1.1.1\nb IN 61 A 1.1.1.2\nc IN A 1.1.1.3\nd 62 A 1.1.1.4\ne A 1.1.1.5\nf CLASS1 1h TYPE1 1.1.1.6\n')).toEqual([
      'a.example.com. 60 1 1 01010101',
      'b.example.com. 61 1 1 01010102',
      'c.example.com. 99 1 1 01010103',
      'd.example.com. 62 1 1 01010104',
      'e.example.com. 99 1 1 01010105',
      'f.example.com. 3600 1 1 01010106',
    ]);
  });

  it('treats the first token as the owner even when it looks like a type, class or TTL (like BIND)', () => {
    expect(ok('$TTL 5\nA A 9.9.9.9\nIN A 9.9.9.8\n300 A 9.9.9.7\n')).toEqual([
      'A.example.com. 5 1 1 09090909',
      'IN.example.com. 5 1 1 09090908',
      '300.example.com. 5 1 1 09090907',
    ]);
  });

  it('reports a blank owner with no previous owner at the first token', () => {
    expect(diags(parse('$TTL 5\n   A 1.1.1.1\n'))).toEqual(['error z.zone:2:4 no previous owner name for a line starting with a blank']);
  });

  it('rejects other classes at the class token', () => {
    expect(diags(parse('$TTL 5\na CH A 1.1.1.1\nb 5 HS A 1.1.1.1\nc CLASS3 A 1.1.1.1\n'))).toEqual([
      'error z.zone:2:3 class CH is not supported: zone data must be class IN',
      'error z.zone:3:5 class HS is not supported: zone data must be class IN',
      'error z.zone:4:3 class CH is not supported: zone data must be class IN',
    ]);
  });

  it('reports unknown types, repeated classes/TTLs and bad TTLs at the token', () => {
    expect(diags(parse('$TTL 5\na FOO 1.1.1.1\na IN IN A 1.1.1.1\na 5 6 A 1.1.1.1\na 1x A 1.1.1.1\na 1H30 A 1.1.1.1\na "A" 1.1.1.1\na\n'))).toEqual([
      'error z.zone:2:3 unknown RR type "FOO"',
      'error z.zone:3:6 unknown RR type "IN"',
      'error z.zone:4:5 unknown RR type "6"',
      'error z.zone:5:3 bad TTL "1x"',
      'error z.zone:6:3 bad TTL "1H30"',
      'error z.zone:7:3 unknown RR type "A"',
      'error z.zone:8:2 missing record type',
    ]);
  });

  it('rejects meta types', () => {
    expect(diags(parse('$TTL 5\na ANY \\# 0\nb OPT \\# 0\nc AXFR \\# 0\n'))).toEqual([
      'error z.zone:2:3 ANY is a meta type and cannot appear in zone data',
      'error z.zone:3:3 OPT is a meta type and cannot appear in zone data',
      'error z.zone:4:3 AXFR is a meta type and cannot appear in zone data',
    ]);
  });

  it('supports RFC 3597 TYPEnnn / CLASSnnn and \\# generic RDATA', () => {
    expect(ok('$TTL 5\na CLASS1 TYPE1 \\# 4 01020304\nb TYPE65280 \\# 3 ( ab\n cd ef )\nc TYPE65280 \\# 0\n')).toEqual([
      'a.example.com. 5 1 1 01020304',
      'b.example.com. 5 1 65280 abcdef',
      'c.example.com. 5 1 65280 ',
    ]);
  });

  it('passes quoted strings with escapes to the codec', () => {
    expect(ok('$TTL 5\na TXT "a\\"b\\059c" ( "x"\n  "y y" ) ; end\n')).toEqual([
      `a.example.com. 5 1 16 05${hex(Buffer.from('a"b;c'))}0178037920${'79'}`,
    ]);
  });

  it('stores ALIAS and ANAME as flattened CNAMEs', () => {
    const res = parse('$TTL 5\n@ ALIAS target.example.net.\nw ANAME @\n');
    expect(diags(res)).toEqual([]);
    expect(res.records.map(brief)).toEqual([
      `example.com. 5 1 5 ${nameHex('target.example.net.')}`,
      `w.example.com. 5 1 5 ${nameHex('example.com.')}`,
    ]);
    expect(res.records.map((r) => r.meta.flatten)).toEqual([true, true]);
  });

  it('reports bad owner names at the owner and skips its blank-owner continuation lines silently', () => {
    const res = parse(`$TTL 5\n${'x'.repeat(64)} A 1.1.1.1\n  A 1.1.1.2\nok A 1.1.1.3\n"q" A 1.1.1.4\n`);
    expect(diags(res)).toEqual([
      'error z.zone:2:1 bad owner name "' + 'x'.repeat(64) + '": label length 64 outside 1..63',
      'error z.zone:5:1 owner name must not be quoted',
    ]);
    expect(res.records.map(brief)).toEqual(['ok.example.com. 5 1 1 01010103']);
  });

  it('maps RDATA errors to the offending token, or to the end of the record when a field is missing', () => {
    const res = parse('$TTL 5\na A 1.2.3\nb MX 10\nc MX ( 10\n )\n');
    const d = diags(res);
    expect(d.length).toBe(3);
    expect(d[0]).toMatch(/^error z\.zone:2:5 A: /);
    expect(d[1]).toMatch(/^error z\.zone:3:8 MX: /);
    expect(d[2]).toMatch(/^error z\.zone:4:10 MX: /);
    expect(res.records).toEqual([]);
  });

  it('continues after errors and reports several', () => {
    const res = parse('$TTL 5\na A 1.1.1\nb A 1.1.1.1\nc FOO x\nd A 1.1.1.2\n');
    expect(res.diagnostics.map((x) => `${x.pos.line}:${x.pos.col}`)).toEqual(['2:5', '4:3']);
    expect(res.records.map((r) => r.owner.toString())).toEqual(['b.example.com.', 'd.example.com.']);
  });

  it('caps errors at 100 and stops', () => {
    const res = parse('$TTL 5\n' + 'a FOO x\n'.repeat(150) + 'z A 1.1.1.1\n');
    expect(res.diagnostics.length).toBe(100);
    expect(res.diagnostics[99]!.pos.line).toBe(101);
    expect(res.records).toEqual([]);
  });

  it('honours maxRecords', () => {
    const res = parse('$TTL 5\na A 1.1.1.1\nb A 1.1.1.2\nc A 1.1.1.3\n', { maxRecords: 2 });
    expect(diags(res)).toEqual(['error z.zone:4:1 zone has more than 2 records (limits.max-records)']);
    expect(res.records.length).toBe(2);
  });

  it('never throws on a byte-order mark and handles a missing final newline', () => {
    expect(ok('\ufeff$TTL 5\na A 1.1.1.1')).toEqual(['a.example.com. 5 1 1 01010101']);
  });
});

describe('TTLs', () => {
  it('accepts unit forms and $TTL with units', () => {
    expect(ok('$TTL 2W\na A 1.1.1.1\nb 1h30m A 1.1.1.2\nc 1D A 1.1.1.3\n$ttl 45s\nd A 1.1.1.4\n')).toEqual([
      'a.example.com. 1209600 1 1 01010101',
      'b.example.com. 5400 1 1 01010102',
      'c.example.com. 86400 1 1 01010103',
      'd.example.com. 45 1 1 01010104',
    ]);
  });

  it('maps TTL 1 (Cloudflare "Auto") to 300, explicit or from $TTL', () => {
    expect(ok('$TTL 1\na A 1.1.1.1\nb 1 A 1.1.1.2\nc 2 A 1.1.1.3\n')).toEqual([
      'a.example.com. 300 1 1 01010101',
      'b.example.com. 300 1 1 01010102',
      'c.example.com. 2 1 1 01010103',
    ]);
  });

  it('clamps TTLs above 2^31-1 to 0 with a warning (RFC 2181 §8, like BIND)', () => {
    const res = parse('$TTL 5\na 2147483648 A 1.1.1.1\nb 2147483647 A 1.1.1.2\n$TTL 4294967295\nc A 1.1.1.3\n');
    expect(diags(res)).toEqual([
      'warning z.zone:2:3 TTL 2147483648 is above 2147483647; using 0 (RFC 2181 §8)',
      'warning z.zone:4:6 TTL 4294967295 is above 2147483647; using 0 (RFC 2181 §8)',
    ]);
    expect(res.records.map((r) => r.ttl)).toEqual([0, 2147483647, 0]);
  });

  it('rejects a bad $TTL and a missing one', () => {
    expect(diags(parse('$TTL 1h2\n$TTL\n$TTL 5 6\n'))).toEqual([
      'error z.zone:1:6 bad TTL "1h2"',
      'error z.zone:2:5 $TTL needs a TTL value',
      'error z.zone:3:8 extra text "6"',
    ]);
    expect(diags(parse('a 4294967296 A 1.1.1.1\n'))).toEqual(['error z.zone:1:3 bad TTL "4294967296"']);
  });

  it('without $TTL: SOA takes its MINIMUM, later records inherit the last TTL (BIND)', () => {
    const res = parse('@ SOA ns host 1 2 3 4 5\n@ NS ns\nns 77 A 1.2.3.4\nb A 1.1.1.1\n');
    expect(diags(res)).toEqual([
      'warning z.zone:1:1 no TTL specified: using the SOA MINIMUM 5',
      'warning z.zone:2:1 no $TTL: using the TTL of the previous record (RFC 1035 §5.1)',
    ]);
    expect(res.records.map((r) => r.ttl)).toEqual([5, 5, 77, 77]);
  });

  it('without $TTL or SOA: uses defaultTtl (3600 unless set)', () => {
    const a = parse('a A 1.1.1.1\n');
    expect(diags(a)).toEqual(['warning z.zone:1:1 no TTL specified: using the default 3600']);
    expect(a.records[0]!.ttl).toBe(3600);
    const b = parse('a A 1.1.1.1\n', { defaultTtl: 120 });
    expect(b.records[0]!.ttl).toBe(120);
  });
});

describe('directives', () => {
  it('$ORIGIN is relative to the current origin; @ follows it', () => {
    expect(ok('$TTL 5\n$ORIGIN sub\na A 1.1.1.1\n$ORIGIN deeper\n@ A 1.1.1.2\n$origin other.test.\nb A 1.1.1.3\n')).toEqual([
      'a.sub.example.com. 5 1 1 01010101',
      'deeper.sub.example.com. 5 1 1 01010102',
      'b.other.test. 5 1 1 01010103',
    ]);
  });

  it('reports $ORIGIN errors and unknown directives', () => {
    expect(diags(parse('$ORIGIN\n$ORIGIN a b\n$FOO bar\n $TTL 5\n$ORIGIN a..b\n'))).toEqual([
      'error z.zone:1:8 $ORIGIN needs a domain name',
      'error z.zone:2:11 extra text "b"',
      'error z.zone:3:1 unknown directive "$FOO"',
      'error z.zone:4:2 no previous owner name for a line starting with a blank',
      'error z.zone:5:9 bad $ORIGIN name "a..b": empty label in "a..b"',
    ]);
  });

  it('a directive after a blank is a record (like BIND: unknown type)', () => {
    expect(diags(parse('$TTL 5\na A 1.1.1.1\n $TTL 5\n'))).toEqual(['error z.zone:3:2 unknown RR type "$TTL"']);
  });
});

describe('cf_tags comments', () => {
  it('sets proxied, flatten, tags and comment on the record meta', () => {
    const res = parse(
      [
        '$TTL 60',
        'a.example.com.  1  IN  CNAME  example.net. ; cf_tags=test:1,cf-flatten-cname',
        'b  1  IN  CNAME  example.net. ; cf_tags=cf-proxied:false',
        'c  1  IN  CNAME  example.net. ; cf_tags=tag-without-value,cf-proxied:true',
        'd  A 1.1.1.1 ; this comment contains cf_tags= as text cf_tags=',
        'e  A 1.1.1.1 ; simple example cf_tags=important,ticket:THIS-12345',
        'f  TXT ( "a" ; part one',
        '   "b" ) ; cf_tags=cf-proxied:true,x:"y,z"',
        '',
      ].join('\n'),
    );
    expect(diags(res)).toEqual([]);
    const m = res.records.map((r) => r.meta);
    expect(m[0]).toEqual({ tags: [{ name: 'test', value: '1' }], proxied: false, flatten: true, pos: { file: 'z.zone', line: 2, col: 1 } });
    expect(m[1]).toEqual({ tags: [], proxied: false, flatten: false, pos: { file: 'z.zone', line: 3, col: 1 } });
    expect(m[2]).toEqual({ tags: [{ name: 'tag-without-value' }], proxied: true, flatten: false, pos: { file: 'z.zone', line: 4, col: 1 } });
    expect(m[3]).toEqual({ comment: 'this comment contains cf_tags= as text', tags: [], proxied: false, flatten: false, pos: { file: 'z.zone', line: 5, col: 1 } });
    expect(m[4]).toEqual({
      comment: 'simple example', tags: [{ name: 'important' }, { name: 'ticket', value: 'THIS-12345' }], proxied: false, flatten: false,
      pos: { file: 'z.zone', line: 6, col: 1 },
    });
    expect(m[5]).toEqual({ comment: 'part one', tags: [{ name: 'x', value: 'y,z' }], proxied: true, flatten: false, pos: { file: 'z.zone', line: 7, col: 1 } });
    expect(res.records.map((r) => r.ttl)).toEqual([300, 300, 300, 60, 60, 60]);
  });

  it('reports bad cf_tags at the comment', () => {
    expect(diags(parse('$TTL 5\na A 1.1.1.1   ; cf_tags=cf-proxied:maybe\n'))).toEqual([
      'error z.zone:2:15 cf-proxied needs the value true or false, not "maybe"',
    ]);
  });

  it('ignores comments on their own lines', () => {
    const res = parse('$TTL 5\n; cf_tags=cf-proxied:true\na A 1.1.1.1\n');
    expect(res.records[0]!.meta).toEqual({ tags: [], proxied: false, flatten: false, pos: { file: 'z.zone', line: 3, col: 1 } });
  });
});
