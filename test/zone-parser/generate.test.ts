// Tests for the BIND $GENERATE directive: ranges, `$` substitution, ${offset,width,base} modifiers, errors.
// Expected owners were checked against named-checkzone 9.18.
import { describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { MAX_GENERATE_RECORDS, parseZoneText, type ParseResult } from '../../src/zone/parser.js';

const ORIGIN = Name.parse('example.com.');
function parse(text: string): ParseResult {
  return parseZoneText(`$TTL 300\n${text}\n`, 'g.zone', { origin: ORIGIN, zonesDir: '/nonexistent' });
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
function brief(res: ParseResult): string[] {
  return res.records.map((r) => `${r.owner.toString()} ${r.ttl} ${r.type} ${hex(r.rdata)}`);
}
function owners(text: string): string[] {
  const res = parse(text);
  expect(diags(res)).toEqual([]);
  return res.records.map((r) => r.owner.toString());
}
function diags(res: ParseResult): string[] {
  return res.diagnostics.map((d) => `${d.severity} ${d.pos.line}:${d.pos.col} ${d.message}`);
}

describe('$GENERATE', () => {
  it('substitutes $ in owner and RDATA', () => {
    expect(brief(parse('$GENERATE 1-3 h$ A 10.0.0.$'))).toEqual([
      'h1.example.com. 300 1 0a000001',
      'h2.example.com. 300 1 0a000002',
      'h3.example.com. 300 1 0a000003',
    ]);
  });

  it('honours the step and zero-padded decimal width', () => {
    expect(brief(parse('$GENERATE 1-20/7 a${0,3,d} A 10.0.0.$'))).toEqual([
      'a001.example.com. 300 1 0a000001',
      'a008.example.com. 300 1 0a000008',
      'a015.example.com. 300 1 0a00000f',
    ]);
  });

  it('formats octal and hex, lower and upper case', () => {
    expect(owners('$GENERATE 250-251 x${0,3,x}.y${0,4,X}.o${0,0,o} A 10.0.1.1')).toEqual([
      'x0fa.y00FA.o372.example.com.',
      'x0fb.y00FB.o373.example.com.',
    ]);
  });

  it('formats nibbles like BIND (width counts dots; a full width ends in a dot, making the name absolute)', () => {
    expect(owners('$GENERATE 300-300 n${0,0,n} A 10.0.1.2')).toEqual(['nc.2.1.example.com.']);
    expect(owners('$GENERATE 300-300 nw${0,3,n} A 10.0.1.2')).toEqual(['nwc.2.1.example.com.']);
    expect(owners('$GENERATE 300-300 nw${0,8,N}ip6.arpa. A 10.0.1.2')).toEqual(['nwC.2.1.0.ip6.arpa.']);
    expect(owners('$GENERATE 300-300 w${0,10,n} A 10.0.1.2')).toEqual(['wc.2.1.0.0.']);
    expect(owners('$GENERATE 0-0 z${0,0,n} A 10.0.1.2')).toEqual(['z0.example.com.']);
    // Negative values wrap to 32 bits.
    expect(owners('$GENERATE 300-300 q${-400,0,n} A 10.0.1.2')).toEqual(['qc.9.f.f.f.f.f.f.example.com.']);
  });

  it('applies negative and positive offsets', () => {
    expect(owners('$GENERATE 5-5 neg${-10} A 1.1.1.1')).toEqual(['neg-5.example.com.']);
    expect(owners('$GENERATE 5-5 p${+10,3} A 1.1.1.1')).toEqual(['p015.example.com.']);
    expect(owners('$GENERATE 5-5 m${-10,3} A 1.1.1.1')).toEqual(['m-05.example.com.']);
  });

  it('\\$ and $$ are a literal dollar; other escapes are kept for the name parser', () => {
    const res = parse('$GENERATE 5-5 d\\$$$x 7200 IN TXT "v=$ ${1}"');
    expect(diags(res)).toEqual([]);
    expect(res.records.map((r) => r.owner.labels)).toEqual([['d$$x', 'example', 'com']]);
    expect(brief(res)).toEqual([`d\\$\\$x.example.com. 7200 16 0376${'3d'}35${'01'}36`]);
    expect(owners('$GENERATE 1-1 a\\.b$ A 1.1.1.1').map((o) => o)).toEqual(['a\\.b1.example.com.']);
  });

  it('re-reads a quoted RDATA template as several fields', () => {
    expect(brief(parse('$GENERATE 5-5 mx$ MX "10 mail$"'))).toEqual([
      `mx5.example.com. 300 15 000a${hex(Name.parse('mail5.example.com.').toWire())}`,
    ]);
  });

  it('accepts TTL and class in either order and @ as owner', () => {
    expect(brief(parse('$GENERATE 1-1 q$ 1h IN A 10.0.1.2\n$GENERATE 1-1 r$ IN 2h A 10.0.1.3\n$GENERATE 1-2 @ A 1.2.3.$'))).toEqual([
      'q1.example.com. 3600 1 0a000102',
      'r1.example.com. 7200 1 0a000103',
      'example.com. 300 1 01020301',
      'example.com. 300 1 01020302',
    ]);
  });

  it('supports CNAME targets and ALIAS', () => {
    const res = parse('$GENERATE 1-2 q$ ALIAS t$.example.net.');
    expect(brief(res)).toEqual([
      `q1.example.com. 300 5 ${hex(Name.parse('t1.example.net.').toWire())}`,
      `q2.example.com. 300 5 ${hex(Name.parse('t2.example.net.').toWire())}`,
    ]);
    expect(res.records.map((r) => r.meta.flatten)).toEqual([true, true]);
  });

  it('copies the cf_tags comment to every generated record', () => {
    const res = parse('$GENERATE 1-2 h$ A 10.0.0.$ ; gen cf_tags=cf-proxied:true');
    expect(res.records.map((r) => r.meta)).toEqual([
      { comment: 'gen', tags: [], proxied: true, flatten: false, pos: { file: 'g.zone', line: 2, col: 1 } },
      { comment: 'gen', tags: [], proxied: true, flatten: false, pos: { file: 'g.zone', line: 2, col: 1 } },
    ]);
  });

  it('allows exactly 65536 records and refuses more', () => {
    const res = parse('$GENERATE 0-65535 h$ A 10.0.0.1');
    expect(res.records.length).toBe(65536);
    expect(res.records[65535]!.owner.toString()).toBe('h65535.example.com.');
    expect(MAX_GENERATE_RECORDS).toBe(65536);
    expect(diags(parse('$GENERATE 0-65536 h$ A 10.0.0.1'))).toEqual([
      'error 2:11 $GENERATE range "0-65536" makes 65537 records, more than 65536',
    ]);
    const stepped = parse('$GENERATE 0-131072/2 h$ A 10.0.0.1');
    expect(diags(stepped)).toEqual(['error 2:11 $GENERATE range "0-131072/2" makes 65537 records, more than 65536']);
    expect(stepped.records.length).toBe(0);
    expect(parse('$GENERATE 0-131071/2 h$ A 10.0.0.1').records.length).toBe(65536);
  });

  it('reports bad ranges at the range', () => {
    for (const r of ['3-1', '1-3/0', '1-3/-1', '1', 'a-b', '-1-3', '1-2147483648']) {
      expect(diags(parse(`$GENERATE ${r} q$ A 10.0.1.2`)), r).toEqual([
        `error 2:11 bad $GENERATE range "${r}": expected start-stop[/step] with start <= stop`,
      ]);
    }
  });

  it('reports bad modifiers at the template', () => {
    const bad = 'expected ${offset[,width[,base]]} with base d, o, x, X, n or N';
    expect(diags(parse('$GENERATE 1-1 q${1,2,z} A 10.0.1.2'))).toEqual([`error 2:15 $GENERATE owner: bad modifier "\${1,2,z}": ${bad}`]);
    expect(diags(parse('$GENERATE 1-1 q${} A 10.0.1.2'))).toEqual([`error 2:15 $GENERATE owner: bad modifier "\${}": ${bad}`]);
    expect(diags(parse('$GENERATE 1-1 q${a} A 10.0.1.2'))).toEqual([`error 2:15 $GENERATE owner: bad modifier "\${a}": ${bad}`]);
    expect(diags(parse('$GENERATE 1-1 q${1,} A 10.0.1.2'))).toEqual([`error 2:15 $GENERATE owner: bad modifier "\${1,}": ${bad}`]);
    expect(diags(parse('$GENERATE 1-1 q${1,2 A 10.0.1.2'))).toEqual(['error 2:15 $GENERATE owner: unterminated "${" modifier']);
    expect(diags(parse('$GENERATE 1-1 q$ A 10.0.1.${0,999}'))).toEqual(['error 2:20 $GENERATE RDATA: modifier width 999 is above 255']);
  });

  it('reports class, type, missing and extra fields', () => {
    expect(diags(parse('$GENERATE 1-1 q$ CH A 10.0.1.2'))).toEqual(['error 2:18 class CH is not supported: zone data must be class IN']);
    expect(diags(parse('$GENERATE 1-1 q$ FOO x'))).toEqual(['error 2:18 unknown RR type "FOO"']);
    expect(diags(parse('$GENERATE 1-1 q$ A 10.0.1.$ extra'))).toEqual(['error 2:29 extra text "extra"']);
    expect(diags(parse('$GENERATE 1-1 q$ A'))).toEqual(['error 2:19 $GENERATE needs RDATA after the type']);
    expect(diags(parse('$GENERATE 1-1'))).toEqual(['error 2:14 $GENERATE needs a range, an owner, a type and RDATA']);
  });

  it('reports a bad generated owner or RDATA once per directive', () => {
    const res = parse('$GENERATE 1-5 a${0,70}.b A 10.0.0.$\n$GENERATE 250-260 h$ A 10.0.0.$');
    const d = diags(res);
    expect(d[0]).toBe(`error 2:15 $GENERATE owner "a${'0'.repeat(69)}1.b": label length 71 outside 1..63`);
    expect(d.length).toBe(2);
    expect(d[1]).toMatch(/^error 3:24 A: /);
    expect(res.records.map((r) => r.owner.toString())).toEqual([
      'h250.example.com.', 'h251.example.com.', 'h252.example.com.', 'h253.example.com.', 'h254.example.com.', 'h255.example.com.',
    ]);
  });
});
