// Argument parsing of the benchmark driver (bench/run.mjs): defaults, sections, --quick, --only, --workers.

import { describe, expect, it } from 'vitest';
import { parseArgs, selected } from '../../bench/args.mjs';

describe('bench parseArgs', () => {
  it('defaults to the unsigned section, auto workers, 15 s x 3 runs, 500k queries', () => {
    const o = parseArgs([]);
    expect(o.sections).toEqual(['unsigned']);
    expect(o.workers).toBe('auto');
    expect([o.seconds, o.runs, o.count, o.scaleQps]).toEqual([15, 3, 500000, 5000]);
    expect(o.only).toBeNull();
    expect(selected(o, 'nsd')).toBe(true);
  });

  it('--quick shortens runs; --pin defaults to one worker', () => {
    const o = parseArgs(['--quick', '--pin']);
    expect([o.seconds, o.runs, o.count]).toEqual([5, 1, 200000]);
    expect(o.workers).toBe(1);
    expect(o.pin).toBe(true);
  });

  it('sections given explicitly replace the default, in order, without duplicates', () => {
    expect(parseArgs(['--scale', '--signed', '--scale']).sections).toEqual(['scale', 'signed']);
  });

  it('--only selects servers and rejects unknown ones', () => {
    const o = parseArgs(['--only', 'apexdns,knot']);
    expect(o.only).toEqual(['apexdns', 'knot']);
    expect(selected(o, 'knot')).toBe(true);
    expect(selected(o, 'nsd')).toBe(false);
    expect(() => parseArgs(['--only', 'apexdns,bind'])).toThrow('--only: unknown server bind (known: apexdns, knot, nsd, pdns)');
  });

  it('--denial picks the apexdns denial modes of --signed (default compact,nsec) and rejects unknown ones', () => {
    expect(parseArgs([]).denials).toEqual(['compact', 'nsec']);
    expect(parseArgs(['--denial', 'nsec3,nsec']).denials).toEqual(['nsec3', 'nsec']);
    expect(() => parseArgs(['--denial', 'nsec5'])).toThrow('--denial: unknown mode nsec5 (known: compact, nsec3, nsec)');
  });

  it('numbers: --workers N|auto, --names, --seconds; bad values throw', () => {
    const o = parseArgs(['--workers', '2', '--names', '500000', '--seconds', '7', '--runs', '2']);
    expect([o.workers, o.names, o.seconds, o.runs]).toEqual([2, 500000, 7, 2]);
    expect(parseArgs(['--pin', '--workers', 'auto']).workers).toBe('auto');
    expect(() => parseArgs(['--names', '0'])).toThrow('--names needs a positive integer, got 0');
    expect(() => parseArgs(['--workers'])).toThrow('--workers needs a value');
    expect(() => parseArgs(['--frobnicate'])).toThrow('unknown option --frobnicate');
  });
});
