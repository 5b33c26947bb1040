// Tests for reload checks: DNSSEC state transitions (seed "DNSSEC states") and restart-only settings.

import { describe, expect, it } from 'vitest';
import {
  diffConfigForReload, dnssecTransitionError, formatConfigError, parseConfigText, reloadDiff, type Config,
} from '../../src/config/index.js';
import { suggest as suggestForTest } from '../../src/config/errors.js';

function cfg(text: string): Config {
  const r = parseConfigText(text, '/etc/apexdns/c.yaml');
  if (!r.ok) throw new Error(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}

const withState = (state: string, extra = ''): Config =>
  cfg(`${extra}zones:\n  - {name: a.test, file: a.zone}\n  - {name: example.com, file: e.zone, dnssec: {state: ${state}}}\n`);
const unsigned = (extra = ''): Config => cfg(`${extra}zones:\n  - {name: a.test, file: a.zone}\n  - {name: example.com, file: e.zone}\n`);

describe('diffConfigForReload: DNSSEC states', () => {
  it('refuses active -> deleted', () => {
    expect(diffConfigForReload(withState('active'), withState('deleted'))).toEqual([
      'zones[1].dnssec.state: DNSSEC state active -> deleted is not allowed; deleted may only follow disabled ' +
        '(set state: pending-disabled (or disabled once the parent DS is removed), reload, then delete)',
    ]);
  });

  it('refuses dropping the dnssec block of an active zone (unsigned = deleted)', () => {
    expect(diffConfigForReload(withState('active'), unsigned())).toEqual([
      'zones[1].dnssec.state: DNSSEC state active -> deleted is not allowed; deleted may only follow disabled ' +
        '(set state: pending-disabled (or disabled once the parent DS is removed), reload, then delete)',
    ]);
  });

  it('allows disabled -> deleted and disabled -> unsigned', () => {
    expect(diffConfigForReload(withState('disabled'), withState('deleted'))).toEqual([]);
    expect(diffConfigForReload(withState('disabled'), unsigned())).toEqual([]);
  });

  it('allows the forward path and re-enabling', () => {
    const path = ['pending', 'active', 'pending-disabled', 'disabled', 'deleted', 'active'];
    for (let i = 1; i < path.length; i++) {
      expect(diffConfigForReload(withState(path[i - 1]!), withState(path[i]!)), `${path[i - 1]} -> ${path[i]}`).toEqual([]);
    }
    expect(diffConfigForReload(unsigned(), withState('active'))).toEqual([]);
  });

  it('transition table', () => {
    expect(dnssecTransitionError('pending', 'deleted')).toMatch(/^DNSSEC state pending -> deleted is not allowed/);
    expect(dnssecTransitionError('pending-disabled', 'deleted')).toBe(
      'DNSSEC state pending-disabled -> deleted is not allowed; deleted may only follow disabled ' +
        '(wait until the DS is gone from the parent, set state: disabled, reload, then delete)');
    expect(dnssecTransitionError('deleted', 'deleted')).toBeUndefined();
    expect(dnssecTransitionError('active', 'disabled')).toBeUndefined();
  });

  it('zone name matching ignores case and the trailing dot', () => {
    const a = cfg('zones: [{name: Example.COM, file: e.zone, dnssec: {state: active}}]\n');
    const b = cfg('zones: [{name: example.com., file: e.zone, dnssec: {state: deleted}}]\n');
    expect(diffConfigForReload(a, b)).toHaveLength(1);
  });
});

describe('reloadDiff: restart-only settings', () => {
  it('listen and workers changes are accepted with needs-restart warnings', () => {
    const d = reloadDiff(unsigned('listen: ["127.0.0.1:5353"]\n'), unsigned('listen: ["127.0.0.1:53", "[::1]:53"]\nworkers: 4\n'));
    expect(d.errors).toEqual([]);
    expect(d.warnings).toEqual([
      'listen: changed from [127.0.0.1:5353] to [127.0.0.1:53, [::1]:53]; needs restart',
      'workers: changed from auto to 4; needs restart',
    ]);
  });

  it('removing a zone that is still signed is a warning', () => {
    const d = reloadDiff(withState('active'), cfg('zones: [{name: a.test, file: a.zone}]\n'));
    expect(d.errors).toEqual([]);
    expect(d.warnings).toEqual(['zone example.com. removed while its DNSSEC state was active; resolvers still holding its DS will fail']);
  });

  it('no changes, no findings', () => {
    expect(reloadDiff(withState('active'), withState('active'))).toEqual({ errors: [], warnings: [] });
  });
});

describe('did-you-mean', () => {
  it('suggests close spellings only', () => {
    expect(suggestForTest('alow-transfer', ['allow-transfer', 'allow-notify'])).toBe('allow-transfer');
    expect(suggestForTest('flattenAllCnames', ['flatten-all-cnames'])).toBe('flatten-all-cnames');
    expect(suggestForTest('backup', ['backup-ns', 'hidden-primary'])).toBe('backup-ns');
    expect(suggestForTest('zzz', ['listen', 'zones'])).toBeUndefined();
  });
});
