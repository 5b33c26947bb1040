// Fuzz test of the config loader: random YAML-ish text and mutated valid configs must give {ok:false, errors} with
// positioned, path-carrying errors (or a valid config), and parseConfigText must never throw.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatConfigError, parseConfigText, type ConfigError, type LoadResult } from '../../src/config/index.js';
import { ISSUE_SNIPPET, examplePath, uncommentedExample } from '../config/fixtures.js';
import { SCALE, int, mutateText, pick, prng, seed } from './fuzz-helpers.js';

const EXAMPLE = readFileSync(examplePath, 'utf8');

const VALID = [EXAMPLE, uncommentedExample(), ISSUE_SNIPPET];

const YAML_ALPHABET = [
  ' ', ' ', '  ', '\n', '\n  ', '\n- ', ':', ': ', '-', '[', ']', '{', '}', ',', '"', "'", '#', '&a', '*a', '!', '!!binary ',
  '|', '>', '?', '%', '@', '`', '\t', '0', '1', '99999999999999999999', '-1', '.5', 'null', '~', 'true', 'yes', 'a', 'zones',
  'name', 'dnssec', 'peers', '<<: ', '__proto__', 'constructor', '\\', '\u00e9', '\u0000', '\r', '\ufeff', '---\n', '...\n',
];

/** Top-level keys: a non-empty path starts with one of them, or with the unknown key being reported. */
const TOP = new Set(['listen', 'workers', 'zones-dir', 'state-dir', 'log', 'identity', 'edns', 'udp', 'tcp', 'answer-cache', 'signature-cache', 'signing-budget', 'api', 'tls', 'cookies', 'rrl', 'proxy', 'flattening', 'tsig-keys', 'peers', 'acl', 'zones', 'journal', 'limits', 'analytics']);

function check(text: string, file: string): LoadResult {
  let r: LoadResult;
  try {
    r = parseConfigText(text, file);
  } catch (e) {
    throw new Error(`parseConfigText threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e)}\n  input: ${JSON.stringify(text)}`);
  }
  const all: readonly ConfigError[] = [...r.warnings, ...(r.ok ? [] : r.errors)];
  for (const e of all) {
    const bad = (why: string): never => {
      throw new Error(`${why}: ${JSON.stringify(e)}\n  input: ${JSON.stringify(text)}`);
    };
    if (e.file !== file) bad('error without the file name');
    if (typeof e.message !== 'string' || e.message.length === 0) bad('error without a message');
    if (!['io', 'syntax', 'schema', 'reference', 'semantic'].includes(e.kind)) bad('unknown error kind');
    if (typeof e.path !== 'string') bad('path missing');
    if (e.kind === 'syntax' && e.path !== '') bad('syntax error with a path');
    // Keys are not escaped in paths, so only the first segment can be checked (an unknown top key is reported as is).
    const first = /^[^.[]*/.exec(e.path)![0];
    if (e.path !== '' && !TOP.has(first) && !e.message.startsWith('unknown key')) bad('path does not start at a top-level key');
    if (e.line !== undefined && (!Number.isInteger(e.line) || e.line < 1)) bad('bad line');
    if (e.col !== undefined && (!Number.isInteger(e.col) || e.col < 1)) bad('bad column');
    // Schema problems are always pinned to a YAML path and a position in the file.
    if ((e.kind === 'schema' || e.kind === 'reference') && e.severity === 'error' && e.line === undefined) bad('schema error without position');
    formatConfigError(e);
  }
  if (!r.ok) {
    if (r.errors.length === 0) throw new Error(`ok:false without errors\n  input: ${JSON.stringify(text)}`);
    if (r.errors.some((e) => e.severity !== 'error')) throw new Error('warning among errors');
  } else if (!Object.isFrozen(r.config)) {
    throw new Error('config not frozen');
  }
  return r;
}

describe('config fuzz', () => {
  it('the valid bases load', () => {
    for (const v of VALID) expect(check(v, '/etc/apexdns/apexdns.yaml').ok).toBe(true);
  });

  it('mutated valid configs never throw; every error carries file, path and position (300)', () => {
    const rnd = prng(seed(0xc0f19));
    let failed = 0;
    let schemaErrors = 0;
    for (let n = 0; n < 300 * SCALE; n++) {
      const r = check(mutateText(rnd, pick(rnd, VALID), YAML_ALPHABET, 4), '/etc/apexdns/fuzz.yaml');
      if (!r.ok) {
        failed++;
        if (r.errors.some((e) => e.kind !== 'syntax' && e.path.length > 0)) schemaErrors++;
      }
    }
    expect(failed).toBeGreaterThan(100 * SCALE);
    expect(schemaErrors).toBeGreaterThan(25 * SCALE);
  });

  it('random YAML-ish text never throws (1500)', () => {
    const rnd = prng(seed(0x7a31));
    for (let n = 0; n < 1500 * SCALE; n++) {
      let text = '';
      const len = int(rnd, 60);
      for (let i = 0; i < len; i++) text += rnd() < 0.85 ? pick(rnd, YAML_ALPHABET) : String.fromCharCode(int(rnd, 0x3000));
      check(text, rnd() < 0.5 ? '' : 'rel/c.yaml');
    }
  });

  it('structurally valid YAML of the wrong shape gives schema errors at the right paths (800)', () => {
    const rnd = prng(seed(0x5ca1a));
    const keys = ['listen', 'workers', 'zones', 'peers', 'acl', 'tsig-keys', 'tcp', 'edns', 'log', 'identity', 'proxy', 'flattening', 'journal', 'name', 'file', 'type', 'dnssec', 'state', 'address', 'secret', 'x'];
    const scalars = ['1', '-1', '0', '65536', '1.5', 'true', 'null', '""', '"a"', '"1h"', '"::1"', '"192.0.2.1:53"', '"10.0.0.0/8"', 'auto', '[]', '{}', '"AAAA"', '"a..b"', `"${'a'.repeat(300)}"`];
    const value = (depth: number): string => {
      const k = int(rnd, depth > 2 ? 1 : 3);
      if (k === 0) return pick(rnd, scalars);
      const items = Array.from({ length: int(rnd, 4) }, () => (k === 1 ? value(depth + 1) : `${pick(rnd, keys)}: ${value(depth + 1)}`));
      return k === 1 ? `[${items.join(', ')}]` : `{${[...new Set(items.map((i) => i.split(':')[0]))].map((key) => items.find((i) => i.startsWith(`${key}:`))).join(', ')}}`;
    };
    let errors = 0;
    for (let n = 0; n < 800 * SCALE; n++) {
      const top = Array.from({ length: 1 + int(rnd, 4) }, () => pick(rnd, keys));
      const text = [...new Set(top)].map((k) => `${k}: ${value(0)}`).join('\n') + '\n';
      const r = check(text, '/c.yaml');
      if (!r.ok && r.errors.every((e) => e.kind !== 'syntax')) errors++;
    }
    expect(errors).toBeGreaterThan(400 * SCALE);
  });

  it('hostile documents stay bounded: deep nesting, alias bombs, huge scalars', () => {
    const cases = [
      '['.repeat(2000) + ']'.repeat(2000),
      'zones: ' + '['.repeat(5000),
      '- '.repeat(3000) + 'x',
      'a: &a [1,2,3,4,5,6,7,8,9,10]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nzones: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
      'listen: ["' + '1'.repeat(200000) + '"]\n',
      'zones:\n' + '  - {name: a.test, file: a.zone}\n'.repeat(3000),
      'x: 1\n'.repeat(2) + 'tcp: {idle-timeout-ms: 1e309}\n',
      '__proto__: {listen: 1}\nconstructor: 2\n',
      'zones: [{name: "\\u0100.example", file: a}]\n',
    ];
    for (const text of cases) {
      const t0 = performance.now();
      const r = check(text, '/c.yaml');
      expect(r.ok).toBe(false);
      expect(performance.now() - t0).toBeLessThan(2000);
    }
  });
});
