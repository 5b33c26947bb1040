// allow-update and update-policy: the config as issue 13 writes it, and the owner/type rules of update-policy.

import { describe, expect, it } from 'vitest';
import { formatConfigError, parseConfigText, type Config } from '../../src/config/index.js';
import { ownerMatches, policyViolation } from '../../src/change/update.js';
import { RRClass, RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { NO_META } from '../../src/zone/model.js';
import type { ChangeOp } from '../../src/change/apply.js';

const zone = Name.parse('example.com.');
const n = (s: string): Name => Name.parse(s, zone);

function config(text: string): Config {
  const r = parseConfigText(text, '/etc/apexdns/c.yaml');
  if (!r.ok) throw new Error(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}

describe('allow-update config', () => {
  it('the snippet of issue 13 works as written', () => {
    const c = config('tsig-keys: [{name: acme-key, secret: "AAAA"}]\nacl:\n  - name: acme\n    key: acme-key\nzones:\n  - name: example.com\n    file: zones/example.com.zone\n    allow-update: [acme]\n');
    const z = c.zones[0]!;
    expect(z.allowUpdate.map((r) => (r.kind === 'acl' ? `acl ${r.acl.name} key ${r.acl.key?.name.toString()}` : 'peer'))).toEqual(['acl acme key acme-key.']);
    expect(z.updatePolicy).toEqual([]);
  });

  it('update-policy rules, checked against allow-update', () => {
    const base = 'tsig-keys: [{name: acme-key, secret: "AAAA"}]\nacl: [{name: acme, key: acme-key}]\nzones:\n  - name: example.com\n    file: z\n    allow-update: [acme]\n';
    const c = config(base + '    update-policy: [{acl: acme, owners: ["_acme-challenge.*"], types: [txt]}]\n');
    expect(c.zones[0]!.updatePolicy).toEqual([{ ref: 'acme', owners: ['_acme-challenge.*'], types: [RRType.TXT] }]);
    const r = parseConfigText(base + '    update-policy: [{acl: other, owners: ["x"]}, {acl: acme, owners: [], types: [NOPE]}]\n', '/etc/apexdns/c.yaml');
    expect(r.ok ? [] : r.errors.map(formatConfigError)).toEqual([
      '/etc/apexdns/c.yaml:7:27: zones[0].update-policy[0].acl: "other" is not listed in allow-update',
      '/etc/apexdns/c.yaml:7:70: zones[0].update-policy[1].owners: must list at least one owner pattern (e.g. "_acme-challenge.*")',
      '/etc/apexdns/c.yaml:7:82: zones[0].update-policy[1].types[0]: must be a record type (e.g. TXT), got "NOPE"',
    ]);
  });
});

describe('update-policy matching', () => {
  it('owner patterns', () => {
    const m = (p: string, o: string): boolean => ownerMatches(p, n(o), zone);
    expect([m('_acme-challenge.*', '_acme-challenge'), m('_acme-challenge.*', '_acme-challenge.www'), m('_acme-challenge.*', 'www._acme-challenge'), m('_acme-challenge.*', 'www')]).toEqual([true, true, false, false]);
    expect([m('*.dyn', 'a.dyn'), m('*.dyn', 'a.b.dyn'), m('*.dyn', 'dyn'), m('dyn', 'dyn'), m('dyn', 'a.dyn'), m('@', '@'), m('*', 'x.y')]).toEqual([true, true, false, true, false, true, true]);
  });

  it('a restricted ref may touch only matching owners and types; an unrestricted one anything', () => {
    const rules = [{ ref: 'acme', owners: ['_acme-challenge.*'], types: [RRType.TXT] }];
    const add = (o: string, type: number): ChangeOp => ({ kind: 'add', rr: { owner: n(o), type, class: RRClass.IN, ttl: 60, rdata: new Uint8Array([1, 0x41]), meta: NO_META } });
    expect(policyViolation(rules, ['acme'], zone, [add('_acme-challenge', RRType.TXT), { kind: 'delete-rrset', owner: n('_acme-challenge.www'), type: RRType.TXT }])).toBeUndefined();
    expect(policyViolation(rules, ['acme'], zone, [add('_acme-challenge', RRType.TXT), add('www', RRType.TXT)])).toBe('add www.example.com. type 16 is outside update-policy');
    expect(policyViolation(rules, ['acme'], zone, [add('_acme-challenge', RRType.A)])).toBe('add _acme-challenge.example.com. type 1 is outside update-policy');
    expect(policyViolation(rules, ['acme'], zone, [{ kind: 'delete-name', owner: n('_acme-challenge') }])).toBe('delete-name _acme-challenge.example.com. is outside update-policy');
    expect(policyViolation(rules, ['acme', 'ops'], zone, [add('www', RRType.A)])).toBeUndefined();
  });
});
