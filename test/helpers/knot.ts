// Run Debian's knotd as a reference authoritative server on a loopback high port, serving given zone files from a
// throw-away directory (config, rundir, storage, control socket), for differential and interop tests.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { answersSoa } from './dig.js';
import { freePort } from './ports.js';
import { capture, register, terminate, trackChild, unregister, waitReady, type Stoppable } from './procs.js';
import { tool } from './tools.js';

export interface ZoneSpec {
  /** Zone apex, e.g. "example.com" (trailing dot optional). */
  readonly name: string;
  /** Zone file path (relative paths resolve against the current directory). */
  readonly file: string;
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
    'zone:',
  ];
  for (const z of zones) {
    lines.push(`  - domain: ${q(z.name.endsWith('.') ? z.name : z.name + '.')}`, `    file: ${q(resolve(z.file))}`);
  }
  return lines.join('\n') + '\n';
}

/** Start knotd serving `zones`; resolves once it answers SOA for every zone authoritatively. */
export async function startKnot(zones: readonly ZoneSpec[], o: KnotOptions = {}): Promise<KnotServer> {
  const bin = knotd();
  if ('skip' in bin) throw new Error(bin.skip);
  if (zones.length === 0) throw new Error('startKnot needs at least one zone');
  const port = o.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'apexdns-knot-'));
  for (const sub of ['run', 'db', 'zones']) mkdirSync(join(dir, sub));
  const conf = join(dir, 'knot.conf');
  writeFileSync(conf, knotConfig(dir, port, zones, o));
  const child = spawn(bin.path, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  const output = (): string => out() + err();
  let stopped = false;
  const server: KnotServer = {
    label: `knotd:${port}`,
    port,
    dir,
    pid: child.pid ?? -1,
    output,
    async stop() {
      if (stopped) return;
      stopped = true;
      unregister(server);
      await terminate(child, 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  register(server);
  try {
    await waitReady(
      `knotd on port ${port}`,
      child,
      output,
      async () => {
        for (const z of zones) if (!(await answersSoa(port, z.name))) return false;
        return true;
      },
      o.timeoutMs ?? 10_000,
    );
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}
