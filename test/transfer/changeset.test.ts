// Changeset diff/apply round trips and the errors that signal disconnected histories.

import { describe, expect, it } from 'vitest';
import { applyChangeset, ChangesetError, diffRecords, soaSerial } from '../../src/transfer/changeset.js';
import { a, name, ns, show, soa, soaRdata } from './rr.js';
import type { RR } from '../../src/zone/model.js';

const sorted = (rrs: readonly RR[]): string[] => rrs.map(show).sort();

describe('soaSerial', () => {
  it('reads the serial after MNAME and RNAME', () => {
    expect(soaSerial(soaRdata(2024030501))).toBe(2024030501);
    expect(soaSerial(soaRdata(0xffffffff))).toBe(0xffffffff);
    expect(() => soaSerial(Uint8Array.of(3, 97))).toThrow(ChangesetError);
  });
});

describe('diffRecords', () => {
  const v1 = [soa(1), ns('@', 'ns1'), a('www', '192.0.2.1'), a('www', '192.0.2.2'), a('mail', '192.0.2.9')];
  const v2 = [soa(2), ns('@', 'ns1'), a('www', '192.0.2.1'), a('www', '192.0.2.3'), a('mail', '192.0.2.9', 600), a('new', '198.51.100.1')];

  it('lists SOAs first and the exact differences (TTL change = remove + add)', () => {
    const cs = diffRecords(v1, v2);
    expect(cs.fromSerial).toBe(1);
    expect(cs.toSerial).toBe(2);
    expect(show(cs.removed[0]!)).toBe(show(soa(1)));
    expect(show(cs.added[0]!)).toBe(show(soa(2)));
    expect(cs.removed.slice(1).map(show)).toEqual([show(a('www', '192.0.2.2')), show(a('mail', '192.0.2.9'))]);
    expect(cs.added.slice(1).map(show)).toEqual([show(a('www', '192.0.2.3')), show(a('mail', '192.0.2.9', 600)), show(a('new', '198.51.100.1'))]);
  });

  it('round-trips: apply(diff(old,new), old) == new', () => {
    const cs = diffRecords(v1, v2);
    expect(sorted(applyChangeset(v1, cs))).toEqual(sorted(v2));
    const back = diffRecords(v2, v1);
    expect(sorted(applyChangeset(v2, back))).toEqual(sorted(v1));
  });

  it('ignores owner-name and RDATA-name case (canonical form) but not other RDATA', () => {
    const upper = [soa(1), { ...ns('@', 'NS1'), owner: name('EXAMPLE.COM.') }];
    const lower = [soa(2), ns('@', 'ns1')];
    const cs = diffRecords(upper, lower);
    expect(cs.removed.length).toBe(1);
    expect(cs.added.length).toBe(1);
  });

  it('drops duplicate input records', () => {
    const cs = diffRecords([soa(1)], [soa(2), a('x', '192.0.2.1'), a('x', '192.0.2.1')]);
    expect(cs.added.map(show)).toEqual([show(soa(2)), show(a('x', '192.0.2.1'))]);
  });

  it('requires an SOA on both sides', () => {
    expect(() => diffRecords([a('x', '192.0.2.1')], v2)).toThrow(ChangesetError);
    try {
      diffRecords(v1, [a('x', '192.0.2.1')]);
    } catch (e) {
      expect((e as ChangesetError).code).toBe('no-soa');
    }
  });
});

describe('applyChangeset', () => {
  const base = [soa(5), a('www', '192.0.2.1'), a('db', '192.0.2.7')];
  it('fails when a removed record is absent', () => {
    const cs = { fromSerial: 5, toSerial: 6, removed: [soa(5), a('www', '192.0.2.99')], added: [soa(6)] };
    let err: unknown;
    try {
      applyChangeset(base, cs);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChangesetError);
    expect((err as ChangesetError).code).toBe('absent');
    expect(show((err as ChangesetError).record!)).toBe(show(a('www', '192.0.2.99')));
  });
  it('fails when the old SOA does not match (history does not connect)', () => {
    const cs = { fromSerial: 4, toSerial: 6, removed: [soa(4)], added: [soa(6)] };
    expect(() => applyChangeset(base, cs)).toThrow(/absent/);
  });
  it('fails when a removed record has another TTL', () => {
    const cs = { fromSerial: 5, toSerial: 6, removed: [soa(5), a('www', '192.0.2.1', 60)], added: [soa(6)] };
    expect(() => applyChangeset(base, cs)).toThrow(ChangesetError);
  });
  it('fails when an added record is already present (any TTL)', () => {
    const cs = { fromSerial: 5, toSerial: 6, removed: [soa(5)], added: [soa(6), a('db', '192.0.2.7', 999)] };
    let code: string | undefined;
    try {
      applyChangeset(base, cs);
    } catch (e) {
      code = (e as ChangesetError).code;
    }
    expect(code).toBe('present');
  });
  it('fails on the same record added twice', () => {
    const cs = { fromSerial: 5, toSerial: 6, removed: [soa(5)], added: [soa(6), a('n', '192.0.2.8'), a('n', '192.0.2.8')] };
    expect(() => applyChangeset(base, cs)).toThrow(/already present/);
  });
  it('keeps untouched records in order and appends additions', () => {
    const cs = { fromSerial: 5, toSerial: 6, removed: [soa(5)], added: [soa(6), a('n', '192.0.2.8')] };
    expect(applyChangeset(base, cs).map(show)).toEqual([show(a('www', '192.0.2.1')), show(a('db', '192.0.2.7')), show(soa(6)), show(a('n', '192.0.2.8'))]);
  });
});
