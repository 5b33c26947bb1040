// RFC 9432 catalog producer (src/zone/catalog.ts): the zone text parses, ids are stable and unique, groups are
// quoted; the config rejects keys a generated zone cannot have.

import { describe, expect, it } from 'vitest';
import { catalogMemberId, catalogZoneText } from '../../src/zone/catalog.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { parseConfigText } from '../../src/config/index.js';
import { Name } from '../../src/wire/name.js';

describe('catalog zone text', () => {
  it('version 2, invalid. NS, one PTR per member under zones, group TXT; sorted, ids from the member name', () => {
    const origin = Name.parse('cat.example.');
    const text = catalogZoneText(origin, [{ name: Name.parse('b.test.') }, { name: Name.parse('A.Test.'), group: 'say "hi"' }]);
    const r = parseZoneText(text, 'cat', { origin, zonesDir: '/nonexistent' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const idA = catalogMemberId(Name.parse('a.test.'));
    expect(idA).toBe(catalogMemberId(Name.parse('A.TEST.')));
    expect(idA).toMatch(/^[0-9a-f]{16}$/);
    expect(idA).not.toBe(catalogMemberId(Name.parse('b.test.')));
    expect(text.split('\n').filter((l) => !l.startsWith(';') && l !== '')).toEqual([
      '$ORIGIN cat.example.',
      '$TTL 0',
      '@ SOA invalid. invalid. 1 3600 600 2147483646 0',
      '@ NS invalid.',
      'version TXT "2"',
      `${idA}.zones PTR A.Test.`,
      `group.${idA}.zones TXT "say \\"hi\\""`,
      `${catalogMemberId(Name.parse('b.test.'))}.zones PTR b.test.`,
    ]);
  });

  it('config: a catalog has no file, dnssec or serial of its own; members only on catalogs', () => {
    const r = parseConfigText('zones:\n  - { name: cat.example, type: catalog, file: x.zone, serial: keep }\n  - { name: a.test, file: a.zone, members: [b.test] }\n', '/etc/apexdns/c.yaml');
    expect(r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'zones[0].file: not allowed on a catalog zone (its contents are generated)',
      'zones[0].serial: not allowed on a catalog zone (its contents are generated)',
      'zones[1].members: only valid for catalog zones (type: catalog)',
    ]);
  });
});
