// End-to-end CLI: `apexdns check-zone` (OK → exit 0 with the serial line; errors → exit 1 with file:line:col on
// stderr, on the same line named-checkzone reports for bad TTL, unknown type, bad A address, CNAME and other
// data, out-of-zone owner; missing SOA / apex NS; occluded-data and TTL-mismatch warnings keep exit 0),
// `apexdns check-config` (example → exit 0; schema and YAML errors → exit 1 with the YAML path and line:col),
// and `apexdns serve --config broken.yaml` exiting 1 with the YAML path.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON_MAIN, REPO_ROOT, daemonBuilt } from '../helpers/daemon.js';
import { tool } from '../helpers/tools.js';
import { EXAMPLE_ZONE } from './env.js';

const built = daemonBuilt();
const checkzone = tool('named-checkzone');

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}
function run(bin: string, args: readonly string[], cwd = REPO_ROOT): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, [...args], { cwd, timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1 });
    });
  });
}
const apexdns = (...args: string[]): Promise<Run> => run(process.execPath, [DAEMON_MAIN, ...args]);

const HEAD = '$ORIGIN example.com.\n$TTL 3600\n@ IN SOA ns1 host 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 192.0.2.1\n';

/** Broken zones: text, and the exact diagnostic our checker prints (file name prefixed at run time). */
const ERRORS: readonly { readonly name: string; readonly text: string; readonly diag: string; readonly namedLine: number | null }[] = [
  { name: 'bad-ttl', text: HEAD + 'www 1x IN A 192.0.2.2\n', diag: ':6:5: error: bad TTL "1x"', namedLine: 6 },
  { name: 'unknown-type', text: HEAD + 'www IN FOOBAR 1.2.3.4\n', diag: ':6:8: error: unknown RR type "FOOBAR"', namedLine: 6 },
  {
    name: 'bad-a',
    text: HEAD + 'www IN A 192.0.2.256\n',
    diag: ':6:10: error: A: bad IPv4 address "192.0.2.256" (need a dotted quad like 192.0.2.1)',
    namedLine: 6,
  },
  {
    name: 'cname-other',
    text: HEAD + 'www IN CNAME ns1\nwww IN A 192.0.2.3\n',
    diag: ':7:1: error: CNAME and other data at www.example.com. (A); RFC 2181 §10.1',
    namedLine: 7,
  },
  // named-checkzone only warns ("ignoring out-of-zone data") but on the same line; apexdns rejects (issue #2).
  { name: 'out-of-zone', text: HEAD + 'www.example.org. IN A 192.0.2.3\n', diag: ':6:1: error: owner www.example.org. is outside the zone example.com.', namedLine: 6 },
  // named-checkzone names no line for these two; apexdns points at the start of the file / the SOA.
  { name: 'no-soa', text: '$ORIGIN example.com.\n$TTL 3600\n@ IN NS ns1\nns1 IN A 192.0.2.1\n', diag: ':1:1: error: zone example.com. has no SOA record at its apex', namedLine: null },
  { name: 'no-ns', text: '$ORIGIN example.com.\n$TTL 3600\n@ IN SOA ns1 host 1 2 3 4 5\nns1 IN A 192.0.2.1\n', diag: ':3:1: error: zone example.com. has no NS records at its apex', namedLine: null },
];

describe.skipIf('skip' in built)('apexdns CLI', () => {
  let dir = '';
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('check-zone on the example zone: exit 0 with the serial line', async () => {
    const r = await apexdns('check-zone', 'example.com', EXAMPLE_ZONE);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('zone example.com.: loaded serial 2024060101, 35 records\nOK\n');
    expect(r.stderr).toBe('');
  });

  for (const e of ERRORS) {
    it(`check-zone ${e.name}: exit 1 with file:line:col`, async () => {
      const p = file(`${e.name}.zone`, e.text);
      const r = await apexdns('check-zone', 'example.com', p);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${p}${e.diag}\n`);
      expect(r.stdout).toBe('zone example.com.: not loaded due to errors.\n');
    });
  }

  describe.skipIf('skip' in checkzone)('error lines agree with named-checkzone', () => {
    for (const e of ERRORS.filter((x) => x.namedLine !== null)) {
      it(`${e.name}: named-checkzone reports line ${e.namedLine} too`, async () => {
        if ('skip' in checkzone) throw new Error(checkzone.skip);
        const p = file(`${e.name}.named.zone`, e.text);
        const named = await run(checkzone.path, ['example.com', p], dir);
        const m = new RegExp(`${basename(p).replace(/\./g, '\\.')}:(\\d+):`).exec(named.stdout + named.stderr);
        expect(m?.[1]).toBe(String(e.namedLine));
        const ours = await apexdns('check-zone', 'example.com', p);
        expect(/:(\d+):\d+: error/.exec(ours.stderr)?.[1]).toBe(String(e.namedLine));
      });
    }
  });

  it('check-zone warns about data occluded below a delegation and keeps exit 0', async () => {
    const p = file('occluded.zone', HEAD + 'sub IN NS ns.other.net.\nhost.sub IN TXT "hidden"\nglue.sub IN A 192.0.2.9\n');
    const r = await apexdns('check-zone', 'example.com', p);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`${p}:7:1: warning: TXT at host.sub.example.com. is below a zone cut or DNAME and will not be served (occluded)\n`);
    expect(r.stdout).toBe('zone example.com.: loaded serial 1, 6 records\nOK\n');
  });

  it('check-zone warns about a TTL mismatch inside an RRset, uses the lowest, keeps exit 0', async () => {
    const p = file('ttl.zone', HEAD + 'www 300 IN A 192.0.2.3\nwww 600 IN A 192.0.2.4\n');
    const r = await apexdns('check-zone', 'example.com', p);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`${p}:7:1: warning: TTL 600 differs from 300 in the A RRset at www.example.com.; using 300 (RFC 2181 §5.2)\n`);
    expect(r.stdout).toBe('zone example.com.: loaded serial 1, 5 records\nOK\n');
  });

  it('check-config on config.example.yaml: exit 0', async () => {
    const r = await apexdns('check-config', 'config.example.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('config.example.yaml: OK (1 zones)\n');
  });

  it('check-config on a schema error: exit 1 with file:line:col and the YAML path', async () => {
    const p = file('bad-serial.yaml', 'listen: ["127.0.0.1:5353"]\nworkers: 1\nzones:\n  - name: example.com\n    file: x.zone\n    serial: sometimes\n');
    const r = await apexdns('check-config', p);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${p}:6:13: zones[0].serial: must be one of keep, increment, unixtime, dateserial\n`);
    const p2 = file('bad-tcp.yaml', 'listen: ["127.0.0.1:5353"]\ntcp:\n  idle-timeout-ms: fast\nzones: []\n');
    const r2 = await apexdns('check-config', p2);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toBe(`${p2}:3:20: tcp.idle-timeout-ms: must be an integer 100..3600000, got "fast"\n`);
  });

  it('check-config on a YAML syntax error: exit 1 with line:col', async () => {
    const p = file('syntax.yaml', 'listen: [\n');
    const r = await apexdns('check-config', p);
    expect(r.code).toBe(1);
    expect(r.stderr.startsWith(`${p}:2:1: `)).toBe(true);
  });

  it('serve --config broken.yaml exits 1 naming the YAML path', async () => {
    const p = file('broken.yaml', 'listen: ["127.0.0.1:5353"]\nworkers: 1\nzones:\n  - name: example.com\n    file: x.zone\n    serial: sometimes\n');
    const r = await apexdns('serve', '--config', p);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${p}:6:13: zones[0].serial: must be one of keep, increment, unixtime, dateserial\napexdns: configuration ${p} rejected\n`,
    );
  });
});
