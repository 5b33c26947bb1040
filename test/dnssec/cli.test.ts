// `apexdns dnssec keygen|ds|status`: key files in the configured directory, and a DS that dnssec-dsfromkey agrees with.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dnssecCommand } from '../../src/cli/dnssec.js';
import { tool } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'apexdns-dnssec-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await dnssecCommand(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

describe('apexdns dnssec', () => {
  writeFileSync(join(dir, 'e.zone'), '$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n');
  const config = join(dir, 'c.yaml');
  writeFileSync(config, 'zones:\n  - name: example.com\n    file: e.zone\n    dnssec:\n      state: pending\n      keys: keys/\n');

  it('ds before keygen fails with a hint; usage errors exit 2', async () => {
    const r = await run(['ds', 'example.com', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('run: apexdns dnssec keygen example.com');
    expect((await run(['nope', 'example.com'])).code).toBe(2);
    expect((await run(['ds', 'other.org', '--config', config])).err).toContain('zone other.org. is not in');
  });

  it('keygen writes a KSK and a ZSK; ds prints DS digest 2 + DNSKEY; status shows state and tags', async () => {
    const k = await run(['keygen', 'example.com', '--config', config]);
    expect(k.code).toBe(0);
    const tags = [...k.out.matchAll(/^(KSK|ZSK) (\d+) /gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(tags.length).toBe(2);
    const files = readdirSync(join(dir, 'keys')).sort();
    expect(files.length).toBe(4);
    const ds = await run(['ds', 'example.com', '--config', config]);
    const kskTag = tags.find((t) => t.startsWith('KSK'))!.split(' ')[1]!;
    expect(ds.out).toMatch(new RegExp(`^example\\.com\\. IN DS ${kskTag} 13 2 [0-9A-F]{64}\\nexample\\.com\\. IN DNSKEY 257 3 13 [A-Za-z0-9+/]{86}==\\n$`));
    const st = await run(['status', 'example.com', '--config', config]);
    expect(st.out).toContain('state: pending\ndenial: compact\n');
    expect(st.out).toContain(`key KSK tag ${kskTag} flags 257 algorithm 13 signing`);
    const dsfromkey = tool('dnssec-dsfromkey');
    if ('path' in dsfromkey) {
      const kskFile = join(dir, 'keys', files.find((f) => f.includes(kskTag.padStart(5, '0')) && f.endsWith('.key'))!);
      const theirs = execFileSync(dsfromkey.path, ['-2', kskFile], { encoding: 'utf8' }).trim();
      expect(theirs).toBe(ds.out.split('\n')[0]);
    }
  });
});
