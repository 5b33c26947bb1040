// Run BIND 9 (named) as a reference authoritative server on a loopback high port, serving given zone files as
// plain primaries (presigned data served as is, no recursion, no validation), for differential tests.

import { join, resolve } from 'node:path';
import type { ZoneSpec } from './knot.js';
import { q, startRefServer, type RefServer } from './ref-server.js';

export type BindServer = RefServer;

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
export function startBind(zones: readonly ZoneSpec[], o: { readonly timeoutMs?: number } = {}): Promise<BindServer> {
  return startRefServer({ bin: 'named', confName: 'named.conf', config: bindConfig, args: (conf) => ['-g', '-c', conf, '-n', '1'] }, zones, o.timeoutMs);
}
