// Run NSD as a reference authoritative server on a loopback high port, serving given zone files from a throw-away
// directory (no privilege drop, no chroot, no database, no remote control), for differential tests.

import { join, resolve } from 'node:path';
import type { ZoneSpec } from './knot.js';
import { q, startRefServer, type RefServer } from './ref-server.js';

export type NsdServer = RefServer;

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
export function startNsd(zones: readonly ZoneSpec[], o: { readonly timeoutMs?: number } = {}): Promise<NsdServer> {
  return startRefServer({ bin: 'nsd', confName: 'nsd.conf', config: nsdConfig, args: (conf) => ['-d', '-c', conf] }, zones, o.timeoutMs);
}
