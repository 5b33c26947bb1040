// Cross-check with BIND: for tricky zone-file snippets, named-checkzone and our parser must agree on accept/reject.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Name } from '../../src/wire/name.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { tool } from '../helpers/tools.js';

const checkzone = tool('named-checkzone');
const HEADER = '$TTL 300\n@ IN SOA ns hostmaster 1 7200 3600 1209600 300\n@ NS ns\nns A 192.0.2.1\n';

// [snippet, accepted?] — what BIND 9.18 does; our parser must do the same.
const CASES: ReadonlyArray<readonly [string, boolean]> = [
  ['a 1h30M A 1.1.1.1', true],
  ['a 1H30 A 1.1.1.1', false],
  ['a 1h1h A 1.1.1.1', true],
  ['a 2W A 1.1.1.1', true],
  ['a 1x A 1.1.1.1', false],
  ['a 2147483648 A 1.1.1.1', true],
  ['a 4294967296 A 1.1.1.1', false],
  ['a 0 A 1.1.1.1', true],
  ['a IN IN A 1.1.1.1', false],
  ['a 5 6 A 1.1.1.1', false],
  ['a IN 60 A 1.1.1.1', true],
  ['a CLASS1 TYPE1 \\# 4 01020304', true],
  ['a TYPE65280 \\# 0', true],
  ['a CH A 1.1.1.1', false],
  ['a CLASS3 A 1.1.1.1', false],
  ['a FOO 1.1.1.1', false],
  ['a ANY \\# 0', false],
  ['a AXFR \\# 0', false],
  ['a A ( 1.1.1.1', false],
  ['a A 1.1.1.1 )', false],
  ['a TXT (( "x" ) "y" )', true],
  ['a TXT ( "x" ) ( "y" )', true],
  ['a MX 10 ( a\n; comment only line inside\n)', true],
  ['a TXT "abc', false],
  ['a TXT "x"y', true],
  ['a TXT a"b', false],
  ['a"b" A 1.1.1.1', false],
  ['a TXT "a;b" ; c', true],
  ['a TXT "a\\"b\\059c" ( "x"\n   "y" ) ; end', true],
  ['a\\\nb A 1.1.1.1', false],
  ['a A 1.1.1.1\r\nb A 1.1.1.2\r', true],
  ['  A 192.0.2.9', true],
  ['A A 9.9.9.9', true],
  ['300 A 9.9.9.9', true],
  ['a.b..c A 1.1.1.1', false],
  [`${'x'.repeat(64)} A 1.1.1.1`, false],
  ['a A 1.2.3', false],
  ['a MX 10', false],
  ['a 60 IN A 1.1.1.1 ; cf_tags=cf-proxied:true,t:"x,y"', true],
  ['$ORIGIN', false],
  ['$ORIGIN a b', false],
  ['$FOO bar', false],
  [' $TTL 5', false],
  ['$TTL 1h2', false],
  ['$ttl 60\n$origin foo\na A 1.1.1.1', true],
  ['$TTL 60 ; hello', true],
  ['$INCLUDE', false],
  ['$GENERATE 1-3 h$ A 10.0.0.$', true],
  ['$GENERATE 3-1 q$ A 10.0.1.2', false],
  ['$GENERATE 1-3/0 q$ A 10.0.1.2', false],
  ['$GENERATE 1-3/-1 q$ A 10.0.1.2', false],
  ['$GENERATE 1 q$ A 10.0.1.2', false],
  ['$GENERATE 1-1 q${1,2,z} A 10.0.1.2', false],
  ['$GENERATE 1-1 q${1,2 A 10.0.1.2', false],
  ['$GENERATE 1-1 q${} A 10.0.1.2', false],
  ['$GENERATE 1-1 q${a} A 10.0.1.2', false],
  ['$GENERATE 1-1 q${1,} A 10.0.1.2', false],
  ['$GENERATE 1-1 q${-1,3,x} A 10.0.1.2', true],
  ['$GENERATE 1-1 q$ 1h IN A 10.0.1.2', true],
  ['$GENERATE 1-1 q$ IN 1h A 10.0.1.2', true],
  ['$GENERATE 1-1 q$ CH A 10.0.1.2', false],
  ['$GENERATE 1-1 q$ A 10.0.1.$ ; comment', true],
  ['$GENERATE 1-1 q$ A 10.0.1.$ extra', false],
  ['$GENERATE 1-1 q$ A', false],
  ['$GENERATE 250-260 h$ A 10.0.0.$', false],
  ['$GENERATE 5-5 d\\$$$x 7200 IN TXT "v=$ ${1}"', true],
  ['$GENERATE 5-5 mx$ MX "10 mail$"', true],
  ['$GENERATE 1-2 q$ CNAME @', true],
];

describe.skipIf('skip' in checkzone)('agreement with named-checkzone', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apexdns-bindcmp-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES.map(([s, acc], i) => [i, s, acc] as const))('case %i: %j accepted=%s', (i, snippet, accepted) => {
    const text = `${HEADER}${snippet}\n`;
    const file = path.join(dir, `c${i}.zone`);
    fs.writeFileSync(file, text);
    const bin = 'path' in checkzone ? checkzone.path : '';
    const r = spawnSync(bin, ['-q', 'example.com', file], { cwd: dir, timeout: 20_000 });
    expect(r.status === 0, 'named-checkzone').toBe(accepted);
    const ours = parseZoneText(text, file, { origin: Name.parse('example.com.'), zonesDir: dir });
    const errors = ours.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.pos.line}:${d.pos.col} ${d.message}`);
    expect(errors.length === 0, `apexdns: ${errors.join('; ')}`).toBe(accepted);
  });
});
