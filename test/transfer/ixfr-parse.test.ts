// IXFR response classification (RFC 1995 §4) and AXFR assembly (RFC 5936 §2.2).

import { describe, expect, it } from 'vitest';
import { AxfrAssembler, IxfrParser, TransferStreamError } from '../../src/transfer/ixfr-parse.js';
import { Name } from '../../src/wire/name.js';
import type { RR } from '../../src/zone/model.js';
import { a, ZONE, ns, show, soa } from './rr.js';

function parse(rrs: readonly RR[], clientSerial: number): ReturnType<IxfrParser['finish']> {
  const p = new IxfrParser({ clientSerial, zone: ZONE });
  p.pushAll(rrs);
  return p.finish();
}

function errCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof TransferStreamError) return e.code;
    throw e;
  }
  return undefined;
}

describe('IxfrParser', () => {
  it('single SOA not newer than ours: up to date', () => {
    const r = parse([soa(10)], 10);
    expect(r.kind).toBe('uptodate');
    expect(parse([soa(9)], 10).kind).toBe('uptodate');
  });
  it('single SOA newer than ours: retry (TCP/AXFR)', () => {
    const r = parse([soa(11)], 10);
    expect(r.kind).toBe('retry');
    expect(show(r.soa)).toBe(show(soa(11)));
  });
  it('AXFR-style response', () => {
    const p = new IxfrParser({ clientSerial: 3 });
    p.pushAll([soa(7), ns('@', 'ns1'), a('www', '192.0.2.1')]);
    expect(p.done).toBe(false);
    p.push(soa(7));
    expect(p.done).toBe(true);
    const r = p.finish();
    expect(r.kind).toBe('axfr');
    if (r.kind !== 'axfr') return;
    expect(r.records.map(show)).toEqual([show(soa(7)), show(ns('@', 'ns1')), show(a('www', '192.0.2.1'))]);
  });
  it('AXFR-style reply of an SOA-only zone', () => {
    const r = parse([soa(7), soa(7)], 3);
    expect(r.kind).toBe('axfr');
    if (r.kind === 'axfr') expect(r.records.length).toBe(1);
  });
  it('two changesets (split across pushes like messages)', () => {
    const p = new IxfrParser({ clientSerial: 1, zone: ZONE });
    p.pushAll([soa(3), soa(1), a('old', '192.0.2.1'), soa(2)]);
    p.pushAll([a('new', '192.0.2.2'), soa(2), soa(3), a('x', '192.0.2.3')]);
    expect(p.done).toBe(false);
    p.push(soa(3));
    expect(p.done).toBe(true);
    const r = p.finish();
    expect(r.kind).toBe('ixfr');
    if (r.kind !== 'ixfr') return;
    expect(r.changesets.length).toBe(2);
    const [c1, c2] = r.changesets;
    expect([c1!.fromSerial, c1!.toSerial, c2!.fromSerial, c2!.toSerial]).toEqual([1, 2, 2, 3]);
    expect(c1!.removed.map(show)).toEqual([show(soa(1)), show(a('old', '192.0.2.1'))]);
    expect(c1!.added.map(show)).toEqual([show(soa(2)), show(a('new', '192.0.2.2'))]);
    expect(c2!.removed.map(show)).toEqual([show(soa(2))]);
    expect(c2!.added.map(show)).toEqual([show(soa(3)), show(a('x', '192.0.2.3'))]);
  });
  it('changesets crossing the serial wrap', () => {
    const r = parse([soa(1), soa(0xffffffff), soa(0), soa(0), soa(1), soa(1)], 0xffffffff);
    expect(r.kind).toBe('ixfr');
    if (r.kind === 'ixfr') expect(r.changesets.map((c) => [c.fromSerial, c.toSerial])).toEqual([[0xffffffff, 0], [0, 1]]);
  });
  it('rejects malformed sequences', () => {
    expect(errCode(() => parse([a('www', '192.0.2.1')], 1))).toBe('not-soa-first');
    expect(errCode(() => parse([], 1))).toBe('incomplete');
    expect(errCode(() => parse([soa(3), soa(1), a('x', '192.0.2.1')], 1))).toBe('incomplete');
    expect(errCode(() => parse([soa(3), soa(1), soa(2), soa(3)], 1))).toBe('bad-sequence'); // gap 2→3 not chained
    expect(errCode(() => parse([soa(3), soa(2), soa(3), soa(3)], 1))).toBe('wrong-start');
    expect(errCode(() => parse([soa(3), soa(1), soa(3), soa(4)], 1))).toBe('bad-sequence'); // wrong closing SOA
    expect(errCode(() => parse([soa(3), soa(1), soa(3), soa(3), a('x', '192.0.2.1')], 1))).toBe('trailing-data');
    expect(errCode(() => parse([soa(5), a('x', '192.0.2.1'), soa(6)], 1))).toBe('bad-sequence');
    const other = { ...soa(5), owner: Name.parse('example.net.') };
    expect(errCode(() => parse([other], 1))).toBe('wrong-zone');
  });
});

describe('AxfrAssembler', () => {
  it('assembles SOA ... SOA', () => {
    const asm = new AxfrAssembler({ zone: ZONE });
    asm.pushAll([soa(9), a('www', '192.0.2.1')]);
    expect(asm.done).toBe(false);
    asm.pushAll([ns('@', 'ns1'), soa(9)]);
    expect(asm.done).toBe(true);
    const r = asm.finish();
    expect(show(r.soa)).toBe(show(soa(9)));
    expect(r.records.map(show)).toEqual([show(soa(9)), show(a('www', '192.0.2.1')), show(ns('@', 'ns1'))]);
  });
  it('rejects bad streams', () => {
    expect(errCode(() => new AxfrAssembler().push(a('www', '192.0.2.1')))).toBe('not-soa-first');
    expect(errCode(() => new AxfrAssembler().pushAll([soa(9), soa(10)]))).toBe('bad-sequence');
    expect(errCode(() => new AxfrAssembler().pushAll([soa(9), soa(9), a('x', '192.0.2.1')]))).toBe('trailing-data');
    expect(errCode(() => {
      const asm = new AxfrAssembler();
      asm.pushAll([soa(9), a('x', '192.0.2.1')]);
      asm.finish();
    })).toBe('incomplete');
    expect(errCode(() => new AxfrAssembler({ zone: Name.parse('example.org.') }).push(soa(1)))).toBe('wrong-zone');
  });
});
