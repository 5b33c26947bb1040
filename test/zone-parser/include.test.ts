// Tests for $INCLUDE (relative paths, origin scoping, TTL carry-over, zonesDir confinement, cycles, depth) and file octets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name } from '../../src/wire/name.js';
import { parseZoneFile, parseZoneText, type ParseOptions, type ParseResult } from '../../src/zone/parser.js';

const FIX = fileURLToPath(new URL('../fixtures/zones-parser/', import.meta.url));
const INC = path.join(FIX, 'inc');
const ORIGIN = Name.parse('example.com.');
const opts: ParseOptions = { origin: ORIGIN, zonesDir: INC };

function brief(res: ParseResult): string[] {
  return res.records.map((r) => `${r.owner.toString()} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`);
}
function diags(res: ParseResult): string[] {
  return res.diagnostics.map((d) => `${d.severity} ${d.pos.file}:${d.pos.line}:${d.pos.col} ${d.message}`);
}
function parseFixture(name: string, extra: Partial<ParseOptions> = {}): ParseResult {
  const file = path.join(INC, name);
  return parseZoneText(fs.readFileSync(file, 'utf8'), file, { ...opts, ...extra });
}

describe('$INCLUDE', () => {
  it('includes relative to the including file, with its own origin; the parent origin is restored (RFC 1035 §5.1)', () => {
    const res = parseFixture('main.zone');
    expect(diags(res)).toEqual([]);
    expect(brief(res).slice(1)).toEqual([
      'example.com. 300 ' + Buffer.from(Name.parse('ns.example.com.').toWire()).toString('hex'),
      'ns.example.com. 300 c0000201',
      'www.hosts.example.com. 300 c0000202',
      'x.deep.hosts.example.com. 60 c0000203',
      // $TTL set inside the include stays in force afterwards, as in BIND.
      'after.example.com. 60 c0000209',
    ]);
    expect(res.files).toEqual([path.join(INC, 'main.zone'), path.join(INC, 'sub/hosts.zone')]);
    expect(res.records[3]!.meta.pos).toEqual({ file: path.join(INC, 'sub/hosts.zone'), line: 2, col: 1 });
  });

  it('parseZoneFile gives the same result asynchronously', async () => {
    const file = path.join(INC, 'main.zone');
    const a = await parseZoneFile(file, opts);
    const b = parseZoneText(fs.readFileSync(file, 'utf8'), file, opts);
    expect(brief(a)).toEqual(brief(b));
    expect(a.files).toEqual(b.files);
    expect(diags(a)).toEqual([]);
  });

  it('refuses a path outside zonesDir', () => {
    const res = parseFixture('escape.zone');
    expect(diags(res)).toEqual([`error ${path.join(INC, 'escape.zone')}:1:10 $INCLUDE "../outside.zone" resolves outside the zones directory ${INC}`]);
    expect(res.records).toEqual([]);
  });

  it('detects include cycles', () => {
    const res = parseFixture('cycle-a.zone', { defaultTtl: 5 });
    expect(diags(res).filter((d) => d.startsWith('error'))).toEqual([
      `error ${path.join(INC, 'cycle-b.zone')}:2:10 $INCLUDE cycle: "cycle-a.zone" is already being read`,
    ]);
    expect(res.records.map((r) => r.owner.toString())).toEqual(['a.example.com.', 'b.example.com.']);
  });

  it('limits the include depth', () => {
    expect(diags(parseFixture('depth0.zone', { defaultTtl: 5 })).filter((d) => d.startsWith('error'))).toEqual([]);
    const res = parseFixture('depth0.zone', { defaultTtl: 5, maxIncludeDepth: 1 });
    expect(diags(res).filter((d) => d.startsWith('error'))).toEqual([
      `error ${path.join(INC, 'depth1.zone')}:1:10 $INCLUDE nested more than 1 levels deep (limits.max-include-depth)`,
    ]);
    expect(res.records.map((r) => r.owner.toString())).toEqual(['d1.example.com.']);
  });

  it('reports a missing file, a missing argument and extra text', () => {
    const res = parseZoneText('$INCLUDE nope.zone\n$INCLUDE\n$INCLUDE a.zone b c\n$INCLUDE x.zone bad..origin\n', path.join(INC, 't.zone'), opts);
    const d = diags(res);
    expect(d.length).toBe(4);
    expect(d[0]).toMatch(new RegExp(`^error ${path.join(INC, 't.zone')}:1:10 cannot read \\$INCLUDE file "nope.zone": ENOENT`));
    expect(d.slice(1)).toEqual([
      `error ${path.join(INC, 't.zone')}:2:9 $INCLUDE needs a file name`,
      `error ${path.join(INC, 't.zone')}:3:19 extra text "c"`,
      `error ${path.join(INC, 't.zone')}:4:17 bad $INCLUDE origin "bad..origin": empty label in "bad..origin"`,
    ]);
  });

  it('uses the readFile hook for included files', () => {
    const seen: string[] = [];
    const res = parseZoneText('$TTL 5\n$INCLUDE virt.zone v\n', path.join(INC, 'main-virt.zone'), {
      ...opts,
      readFile: (p) => {
        seen.push(p);
        return 'a A 10.0.0.1\n';
      },
    });
    expect(diags(res)).toEqual([]);
    expect(seen).toEqual([path.join(INC, 'virt.zone')]);
    expect(brief(res)).toEqual(['a.v.example.com. 5 0a000001']);
  });

  describe('symlinks', () => {
    let dir = '';
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apexdns-inc-'));
      fs.mkdirSync(path.join(dir, 'zones'));
      fs.writeFileSync(path.join(dir, 'secret.zone'), 'evil A 10.6.6.6\n');
      fs.writeFileSync(path.join(dir, 'zones', 'real.zone'), 'ok A 10.0.0.2\n');
      fs.symlinkSync(path.join(dir, 'secret.zone'), path.join(dir, 'zones', 'link.zone'));
      fs.symlinkSync(path.join(dir, 'zones', 'real.zone'), path.join(dir, 'zones', 'alias.zone'));
    });
    afterAll(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });
    it('refuses a symlink that points outside zonesDir and follows one that stays inside', () => {
      const zones = fs.realpathSync(path.join(dir, 'zones'));
      const main = path.join(zones, 'main.zone');
      const res = parseZoneText('$TTL 5\n$INCLUDE link.zone\n$INCLUDE alias.zone\n', main, { origin: ORIGIN, zonesDir: zones });
      expect(diags(res)).toEqual([`error ${main}:2:10 $INCLUDE "link.zone" resolves outside the zones directory ${zones}`]);
      expect(brief(res)).toEqual(['ok.example.com. 5 0a000002']);
      expect(res.files).toEqual([main, path.join(zones, 'real.zone')]);
    });
  });
});

describe('octets', () => {
  const expectUtf8 = (res: ParseResult): void => {
    expect(diags(res)).toEqual([]);
    expect(brief(res)).toEqual(['t.example.com. 5 07636166c3a920ff', '\\195\\169.example.com. 5 0a000001']);
    expect(res.records[1]!.owner.labels[0]).toBe('\u00c3\u00a9');
    expect(res.records[1]!.meta.comment).toBe('déjà vu');
    expect(res.records[1]!.meta.tags).toEqual([{ name: 'k', value: 'é' }]);
  };
  it('keeps the file octets in names and strings (UTF-8 stays UTF-8, invalid bytes stay as they are)', async () => {
    expectUtf8(await parseZoneFile(path.join(FIX, 'utf8.zone'), { origin: ORIGIN, zonesDir: FIX }));
  });
  it('encodes Unicode text given to parseZoneText as UTF-8', () => {
    const res = parseZoneText('$TTL 5\nt TXT "café \\255"\né A 10.0.0.1 ; déjà vu cf_tags=k:é\n', 'u.zone', { origin: ORIGIN, zonesDir: FIX });
    expectUtf8(res);
  });
});
