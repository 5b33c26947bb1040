// Run NSD as a reference authoritative server on a loopback high port, serving given zone files from a throw-away
// directory (no privilege drop, no chroot, no database, no remote control), for differential tests.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { answersSoa } from './dig.js';
import type { ZoneSpec } from './knot.js';
import { freePort } from './ports.js';
import { readyOrStop, spawnServer, type ServerProcess } from './procs.js';
import { tool } from './tools.js';

export interface NsdServer {
  readonly label: string;
  readonly port: number;
  readonly dir: string;
  output(): string;
  stop(): Promise<void>;
}

function q(s: string): string {
  return JSON.stringify(s);
}

/** The nsd.conf text for `zones` (exported for inspection in tests). */
export function nsdConfig(dir: string, port: number, zones: readonly ZoneSpec[]): string {
  const lines = [
    'server:',
    `    port: ${port}`,
    '    ip-address: 127.0.0.1',
    '    do-ip6: no',
    `    zonesdir: ${q(dir)}`,
    `    pidfile: ${q(join(dir, 'nsd.pid'))}`,
    // Stay the user that started us (root in CI): a dropped-to user could not read the temporary directories.
    '    username: ""',
    '    chroot: ""',
    '    database: ""',
    `    zonelistfile: ${q(join(dir, 'zone.list'))}`,
    `    xfrdfile: ${q(join(dir, 'xfrd.state'))}`,
    `    xfrdir: ${q(dir)}`,
    '    verbosity: 1',
    '    server-count: 1',
    '    tcp-count: 64',
    // Identity and version answers off: implementation details, not zone data (as for Knot and BIND).
    '    hide-version: yes',
    '    hide-identity: yes',
    '    log-only-syslog: no',
    // Only what the protocol requires in authority/additional (as BIND with minimal-responses): NSD otherwise adds
    // the zone's NS RRset to positive answers (optional, RFC 1034 §4.3.2), which hides the comparisons that matter.
    '    minimal-responses: yes',
    // NSD's own rate limiting would drop part of the test traffic.
    '    rrl-ratelimit: 0',
    '    rrl-whitelist-ratelimit: 0',
    'remote-control:',
    '    control-enable: no',
  ];
  for (const z of zones) lines.push('zone:', `    name: ${q(z.name.replace(/\.$/, '') + '.')}`, `    zonefile: ${q(resolve(z.file))}`);
  return lines.join('\n') + '\n';
}

/** Start nsd in the foreground serving `zones`; resolves once it answers SOA for every zone authoritatively. */
export async function startNsd(zones: readonly ZoneSpec[], o: { readonly timeoutMs?: number } = {}): Promise<NsdServer> {
  const bin = tool('nsd');
  if ('skip' in bin) throw new Error(bin.skip);
  if (zones.length === 0) throw new Error('startNsd needs at least one zone');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'apexdns-nsd-'));
  const conf = join(dir, 'nsd.conf');
  writeFileSync(conf, nsdConfig(dir, port, zones));
  const p: ServerProcess = spawnServer(bin.path, ['-d', '-c', conf], { label: `nsd:${port}`, dir });
  await readyOrStop(
    p,
    `nsd on port ${port}`,
    async () => {
      for (const z of zones) if (!(await answersSoa(port, z.name))) return false;
      return true;
    },
    o.timeoutMs ?? 15_000,
  );
  return { label: p.label, port, dir, output: p.output, stop: p.stop };
}
