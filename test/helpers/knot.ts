// Run Debian's knotd as a reference authoritative server on a loopback high port, serving given zone files from a
// throw-away directory (config, rundir, storage, control socket), for differential and interop tests.

import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { answersSoa, buildQuery, queryUdpOrTimeout } from './dig.js';
import { freePort } from './ports.js';
import { readyOrStop, spawnServer, type Stoppable } from './procs.js';
import { tool } from './tools.js';

export interface ZoneSpec {
  /** Zone apex, e.g. "example.com" (trailing dot optional). */
  readonly name: string;
  /** Zone file path (relative paths resolve against the current directory). */
  readonly file: string;
}

/** A TSIG key in knot.conf `key:` (algorithm as Knot spells it, e.g. hmac-sha256; secret in base64). */
export interface KnotKey {
  readonly id: string;
  readonly algorithm: string;
  readonly secret: string;
}

/** A `remote:` entry (a primary to transfer from / NOTIFY source). */
export interface KnotRemote {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  /** `key:` id used to sign requests to this remote. */
  readonly key?: string;
}

/** An `acl:` rule. */
export interface KnotAcl {
  readonly id: string;
  readonly address?: string;
  readonly key?: string;
  /** notify, transfer, update (several allowed). */
  readonly action: readonly string[];
}

/** A secondary zone: transferred from `master` (a remote id); no zone file is given. */
export interface KnotSecondaryZone {
  readonly name: string;
  readonly master: string;
  /** ACL ids (e.g. one allowing NOTIFY from the primary). */
  readonly acl?: readonly string[];
}

export interface KnotOptions {
  /** Fixed port instead of a free one. */
  readonly port?: number;
  /** Extra lines appended inside `server:` (indented by the caller's 4 spaces convention is added here). */
  readonly serverConf?: readonly string[];
  /** Extra lines appended inside the default template. */
  readonly templateConf?: readonly string[];
  /** Readiness timeout, default 10 s. */
  readonly timeoutMs?: number;
  /** TSIG keys (`key:` section). */
  readonly keys?: readonly KnotKey[];
  /** `remote:` section. */
  readonly remotes?: readonly KnotRemote[];
  /** `acl:` section. */
  readonly acls?: readonly KnotAcl[];
  /**
   * Secondary zones. Readiness does not wait for them to be transferred (only for knotd to answer at all); they
   * keep the template's settings except that Knot's journal is on, so IXFR can be applied.
   */
  readonly secondaries?: readonly KnotSecondaryZone[];
}

export interface KnotServer extends Stoppable {
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  /** Captured stdout+stderr of knotd so far. */
  output(): string;
  stop(): Promise<void>;
}

/** `{ path }` of knotd or `{ skip }` (see tools.ts). */
export function knotd(): ReturnType<typeof tool> {
  return tool('knotd');
}

function q(s: string): string {
  return JSON.stringify(s);
}

/** The knot.conf text for the given zones (exported for inspection in tests). */
export function knotConfig(dir: string, port: number, zones: readonly ZoneSpec[], o: KnotOptions = {}): string {
  const lines = [
    'server:',
    `    rundir: ${q(join(dir, 'run'))}`,
    `    listen: 127.0.0.1@${port}`,
    // Identity, version and NSID answers off: they are implementation details, not zone data.
    '    identity: ""',
    '    version: ""',
    '    nsid: ""',
    '    udp-workers: 1',
    '    tcp-workers: 1',
    '    background-workers: 1',
    ...(o.serverConf ?? []).map((l) => `    ${l}`),
    'database:',
    `    storage: ${q(join(dir, 'db'))}`,
    'control:',
    `    listen: ${q(join(dir, 'knot.sock'))}`,
    'log:',
    '  - target: stderr',
    '    any: warning',
    'template:',
    '  - id: default',
    `    storage: ${q(join(dir, 'zones'))}`,
    // Fixtures deliberately contain odd data (CNAME loops, glue below cuts): load them as written.
    '    semantic-checks: off',
    // Never write back to the fixture files; no journal, no incremental loading.
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    ...(o.templateConf ?? []).map((l) => `    ${l}`),
  ];
  const fqdn = (n: string): string => (n.endsWith('.') ? n : n + '.');
  if (o.keys && o.keys.length > 0) {
    lines.push('key:');
    for (const k of o.keys) lines.push(`  - id: ${q(k.id)}`, `    algorithm: ${k.algorithm}`, `    secret: ${q(k.secret)}`);
  }
  if (o.remotes && o.remotes.length > 0) {
    lines.push('remote:');
    for (const r of o.remotes) lines.push(`  - id: ${q(r.id)}`, `    address: ${r.address}@${r.port}`, ...(r.key ? [`    key: ${q(r.key)}`] : []));
  }
  if (o.acls && o.acls.length > 0) {
    lines.push('acl:');
    for (const a of o.acls) {
      lines.push(`  - id: ${q(a.id)}`, ...(a.address ? [`    address: ${a.address}`] : []), ...(a.key ? [`    key: ${q(a.key)}`] : []), `    action: [${a.action.join(', ')}]`);
    }
  }
  lines.push('zone:');
  for (const z of zones) {
    lines.push(`  - domain: ${q(fqdn(z.name))}`, `    file: ${q(resolve(z.file))}`);
  }
  for (const z of o.secondaries ?? []) {
    lines.push(
      `  - domain: ${q(fqdn(z.name))}`,
      `    master: [${q(z.master)}]`,
      ...(z.acl && z.acl.length > 0 ? [`    acl: [${z.acl.map(q).join(', ')}]`] : []),
      // Keep transferred changes in Knot's journal (IXFR applies to it); nothing is written to a zone file.
      '    journal-content: changes',
    );
  }
  return lines.join('\n') + '\n';
}

/** Start knotd serving `zones`; resolves once it answers SOA for every zone authoritatively. */
export async function startKnot(zones: readonly ZoneSpec[], o: KnotOptions = {}): Promise<KnotServer> {
  const bin = knotd();
  if ('skip' in bin) throw new Error(bin.skip);
  if (zones.length === 0 && (o.secondaries ?? []).length === 0) throw new Error('startKnot needs at least one zone');
  const port = o.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'apexdns-knot-'));
  for (const sub of ['run', 'db', 'zones']) mkdirSync(join(dir, sub));
  const conf = join(dir, 'knot.conf');
  writeFileSync(conf, knotConfig(dir, port, zones, o));
  const p = spawnServer(bin.path, ['-c', conf], { label: `knotd:${port}`, dir });
  const server: KnotServer = { label: p.label, port, dir, pid: p.pid, output: p.output, stop: p.stop };
  await readyOrStop(
    p,
    `knotd on port ${port}`,
    async () => {
      for (const z of zones) if (!(await answersSoa(port, z.name))) return false;
      // Secondary zones only: knotd is up once it answers anything over UDP.
      if (zones.length === 0) return (await queryUdpOrTimeout(port, buildQuery({ name: '.', type: 'SOA' }), 300)) !== null;
      return true;
    },
    o.timeoutMs ?? 10_000,
  );
  return server;
}
