// Fixtures for the DNSSEC end-to-end tests: signed zone files with pre-generated keys, an unbound validating
// resolver stubbed to apexdns, and small dig/delv wrappers.

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Name } from '../../src/wire/name.js';
import { activeKeys, ensureKeys, generateKey, type ZoneKey } from '../../src/dnssec/keys.js';
import { dsRdata, dsRdataText } from '../../src/dnssec/ds.js';
import { freePort } from '../helpers/ports.js';
import { capture, register, terminate, trackChild, unregister, waitReady, type Stoppable } from '../helpers/procs.js';
import { dig as digAt } from '../helpers/dig.js';

export function b64(b: Uint8Array): string {
  return Buffer.from(b).toString('base64');
}

/** The KSK/ZSK of `zone` in `keysDir`, generated now so DS records can go into the parent zone file. */
export async function zoneKeys(keysDir: string, zone: string): Promise<{ ksk: ZoneKey; zsk: ZoneKey }> {
  const name = Name.parse(zone);
  return activeKeys(await ensureKeys(keysDir, name));
}

export function dsLine(owner: string, ksk: ZoneKey): string {
  return `${owner} 3600 IN DS ${dsRdataText(dsRdata(Name.parse(owner), ksk.dnskeyRdata, 2))}`;
}

/** A zone with every case the validator tests exercise. `Z` is the origin with trailing dot. */
export function signedZoneText(z: string, secureChildDs: string): string {
  return `$ORIGIN ${z}
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 127.0.0.1
www A 192.0.2.1
www AAAA 2001:db8::1
a.b.c A 192.0.2.3
*.wild A 192.0.2.4
*.wild TXT "wild"
alias CNAME www
alias2 CNAME alias
wcname CNAME x.wild
mx MX 10 www
dn DNAME c
${secureChildDs}
secure NS ns1.secure
ns1.secure A 127.0.0.1
insecure NS ns1.insecure
ns1.insecure A 127.0.0.1
`;
}

export function childZoneText(z: string): string {
  return `$ORIGIN ${z}
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 127.0.0.1
www A 192.0.2.9
`;
}

/** A DNSKEY of another provider (RFC 8901 model 2 foreign ZSK), as a zone file line. */
export function foreignZskLine(owner: string): string {
  const k = generateKey(Name.parse(owner), 'zsk');
  return `${owner} 3600 IN DNSKEY 256 3 13 ${b64(k.publicKey)}`;
}

export interface Unbound extends Stoppable {
  readonly port: number;
  output(): string;
}

/**
 * Start unbound as a validating resolver on a free loopback port: `anchors` are trust-anchor lines (DNSKEY or DS
 * presentation), `stubs` are zone names sent to apexdns at `authPort`.
 */
export async function startUnbound(bin: string, authPort: number, stubs: readonly string[], anchors: readonly string[]): Promise<Unbound> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'apexdns-unbound-'));
  const conf = join(dir, 'unbound.conf');
  const lines = [
    'server:',
    '  interface: 127.0.0.1',
    `  port: ${port}`,
    '  do-ip6: no',
    '  do-not-query-localhost: no',
    '  chroot: ""',
    '  username: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, 'unbound.pid')}"`,
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 1',
    '  num-threads: 1',
    '  so-reuseport: no',
    '  module-config: "validator iterator"',
    '  val-log-level: 2',
    '  access-control: 127.0.0.0/8 allow',
    '  target-fetch-policy: "0 0 0 0 0"',
    '  qname-minimisation: no',
    '  harden-referral-path: no',
    '  prefetch-key: no',
    // RFC 6761 §6.2: unbound serves `test.` as an empty local zone by default; let the stubs through.
    '  local-zone: "test." nodefault',
    ...anchors.map((a) => `  trust-anchor: "${a}"`),
    ...stubs.flatMap((s) => ['stub-zone:', `  name: "${s}"`, `  stub-addr: 127.0.0.1@${authPort}`]),
    'remote-control:',
    '  control-enable: no',
    '',
  ];
  writeFileSync(conf, lines.join('\n'));
  const child = spawn(bin, ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  const output = (): string => `--- unbound stderr ---\n${err()}\n--- stdout ---\n${out()}`;
  const u: Unbound = {
    label: `unbound:${port}`,
    port,
    output,
    async stop() {
      unregister(u);
      await terminate(child, 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  register(u);
  try {
    await waitReady(`unbound on ${port}`, child, output, async () => {
      const r = await digAt(port, ['+norec', 'version.server', 'CH', 'TXT']);
      return r.code === 0 && /status: /.test(r.stdout);
    }, 10_000);
  } catch (e) {
    await u.stop();
    throw e;
  }
  return u;
}

export interface Validated {
  readonly status: string | undefined;
  readonly ad: boolean;
  readonly stdout: string;
}

/** `dig +dnssec NAME TYPE` at `port`; status and the AD bit. */
export async function query(port: number, name: string, type: string, extra: readonly string[] = []): Promise<Validated> {
  const r = await digAt(port, ['+dnssec', '+time=5', ...extra, name, type], 20_000);
  const status = /status: ([A-Z]+)/.exec(r.stdout)?.[1];
  const flags = /;; flags: ([a-z ]*);/.exec(r.stdout)?.[1]?.trim().split(/\s+/) ?? [];
  return { status, ad: flags.includes('ad'), stdout: r.stdout };
}

/** Run delv against `port` with a `trust-anchors { }` file; resolves with stdout + stderr. */
export function delv(bin: string, port: number, anchorFile: string, root: string, name: string, type: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(bin, ['@127.0.0.1', '-p', String(port), '-a', anchorFile, `+root=${root}`, name, type], { timeout: 20_000 }, (_e, stdout, stderr) => {
      resolve(`${stdout}\n${stderr}`);
    });
  });
}
