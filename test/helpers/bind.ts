// Run BIND 9 (named) as a reference authoritative server on a loopback high port, serving given zone files as
// plain primaries (presigned data served as is, no recursion, no validation), for differential tests.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { answersSoa } from './dig.js';
import type { ZoneSpec } from './knot.js';
import { freePort } from './ports.js';
import { readyOrStop, spawnServer, type ServerProcess } from './procs.js';
import { tool } from './tools.js';

export interface BindServer {
  readonly label: string;
  readonly port: number;
  readonly dir: string;
  output(): string;
  stop(): Promise<void>;
}

function q(s: string): string {
  return JSON.stringify(s);
}

/** The named.conf text for `zones` (exported for inspection in tests). */
export function bindConfig(dir: string, port: number, zones: readonly ZoneSpec[]): string {
  const lines = [
    'options {',
    `  directory ${q(dir)};`,
    `  pid-file ${q(join(dir, 'named.pid'))};`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify no;',
    // Only what the protocol requires in authority/additional (RFC 1034 §4.3.2 leaves the zone NS RRset and the
    // NS/MX target addresses optional); referral glue and negative-answer SOAs are still included.
    '  minimal-responses yes;',
    // Identity and version answers off: implementation details, not zone data (as for Knot and NSD).
    '  version none;',
    '  hostname none;',
    '  server-id none;',
    // Fixtures deliberately contain odd data (CNAME loops, data below cuts, underscores): load them as written.
    '  check-names primary ignore;',
    '  check-integrity no;',
    '  check-sibling no;',
    '  check-mx ignore;',
    '  check-wildcard no;',
    '  check-dup-records ignore;',
    // Never write anything back (no journal, no re-signing of presigned data).
    '  zone-statistics no;',
    '};',
    'controls { };',
  ];
  for (const z of zones) {
    lines.push(`zone ${q(z.name.replace(/\.$/, '') + '.')} { type primary; file ${q(resolve(z.file))}; };`);
  }
  return lines.join('\n') + '\n';
}

/** Start named in the foreground (`-g`) serving `zones`; resolves once it answers SOA for every zone. */
export async function startBind(zones: readonly ZoneSpec[], o: { readonly timeoutMs?: number } = {}): Promise<BindServer> {
  const bin = tool('named');
  if ('skip' in bin) throw new Error(bin.skip);
  if (zones.length === 0) throw new Error('startBind needs at least one zone');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'apexdns-bind-'));
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, bindConfig(dir, port, zones));
  const p: ServerProcess = spawnServer(bin.path, ['-g', '-c', conf, '-n', '1'], { label: `named:${port}`, dir });
  await readyOrStop(
    p,
    `named on port ${port}`,
    async () => {
      for (const z of zones) if (!(await answersSoa(port, z.name))) return false;
      return true;
    },
    o.timeoutMs ?? 15_000,
  );
  return { label: p.label, port, dir, output: p.output, stop: p.stop };
}
