// The `limits:` caps in the config: defaults, the server-level block, per-zone overrides, and errors with YAML paths.

import { describe, expect, it } from 'vitest';
import { formatConfigError, parseConfigText, type Config } from '../../src/config/index.js';

const F = '/etc/apexdns/c.yaml';
const ZONES = 'zones:\n  - name: a.test\n    file: a.zone\n';

function ok(text: string): Config {
  const r = parseConfigText(text, F);
  if (!r.ok) throw new Error(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}
function errs(text: string): string[] {
  const r = parseConfigText(text, F);
  return r.ok ? [] : r.errors.map(formatConfigError);
}

describe('limits', () => {
  it('has documented defaults, inherited by every zone', () => {
    const c = ok(ZONES);
    expect(c.limits).toEqual({ maxRecords: 10_000_000, maxRrset: 1000, maxFileSize: 536_870_912, maxIncludeDepth: 10, maxCnameChain: 12 });
    expect(c.zones[0]!.limits).toEqual({ maxRecords: 10_000_000, maxRrset: 1000, maxFileSize: 536_870_912, maxIncludeDepth: 10 });
  });

  it('a zone overrides single keys of the server block and inherits the rest', () => {
    const c = ok(
      'limits: { max-records: 5000, max-rrset: 50, max-file-size: 1048576, max-include-depth: 2, max-cname-chain: 4 }\n' +
        ZONES + '    limits: { max-rrset: 7 }\n  - name: b.test\n    file: b.zone\n',
    );
    expect(c.limits.maxCnameChain).toBe(4);
    expect(c.zones.map((z) => z.limits)).toEqual([
      { maxRecords: 5000, maxRrset: 7, maxFileSize: 1_048_576, maxIncludeDepth: 2 },
      { maxRecords: 5000, maxRrset: 50, maxFileSize: 1_048_576, maxIncludeDepth: 2 },
    ]);
  });

  it('reports bad values and unknown keys at their YAML path and position', () => {
    expect(errs('limits:\n  max-rrset: 0\n  max-file-size: "1M"\n  max-cname-chain: 65\n  max-rrsets: 1\n' + ZONES)).toEqual([
      `${F}:2:14: limits.max-rrset: must be an integer 1..65535, got 0`,
      `${F}:3:18: limits.max-file-size: must be an integer 1..1099511627776, got "1M"`,
      `${F}:4:20: limits.max-cname-chain: must be an integer 1..64, got 65`,
      `${F}:5:3: limits.max-rrsets: unknown key (did you mean "max-rrset"?)`,
    ]);
    expect(errs(ZONES + '    limits: { max-records: -1, max-cname-chain: 3 }\n')).toEqual([
      `${F}:4:28: zones[0].limits.max-records: must be an integer 1..1000000000, got -1`,
      `${F}:4:49: zones[0].limits.max-cname-chain: is a server-level setting: set it in the top-level limits: block`,
    ]);
  });
});
