// Start the built apexdns daemon (dist/cli/main.js) on a free loopback port with a temporary config, for
// end-to-end and differential tests; reload via SIGHUP, stop via SIGTERM (SIGKILL after 5 s).

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { answersSoa } from './dig.js';
import type { ZoneSpec } from './knot.js';
import { freePort } from './ports.js';
import { readyOrStop, spawnServer, waitExit, type Stoppable } from './procs.js';

/** Repository root (two levels above test/helpers). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI entry point. */
export const DAEMON_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** `{ path }` when the daemon has been built, `{ skip }` (with a visible warning) when not. */
export function daemonBuilt(): { readonly path: string } | { readonly skip: string } {
  if (existsSync(DAEMON_MAIN)) return { path: DAEMON_MAIN };
  const reason = `${DAEMON_MAIN} missing (run npm run build)`;
  console.warn(`SKIP: apexdns daemon tests: ${reason}`);
  return { skip: reason };
}

export interface DaemonOptions {
  readonly port?: number;
  /** Default 1. */
  readonly workers?: number;
  /** Extra top-level config keys merged into the YAML (e.g. dnssec, transfer settings). */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** Per-zone config keys merged into each zone entry, keyed by zone name without the trailing dot (e.g. dnssec). */
  readonly zoneSettings?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Readiness timeout, default 10 s. */
  readonly timeoutMs?: number;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface DaemonServer extends Stoppable {
  readonly port: number;
  readonly dir: string;
  readonly configFile: string;
  readonly pid: number;
  /** Captured stdout+stderr so far. */
  output(): string;
  /** SIGHUP: reload configuration and zones. */
  reload(): void;
  /** SIGTERM and wait for exit (SIGKILL after 5 s); removes the temp dir. */
  stop(): Promise<void>;
  /** Resolves with the exit code when the process exits by itself. */
  readonly exited: Promise<number | null>;
}

/** Start apexdns serving `zones`; resolves once it answers SOA for the first zone. */
export async function startDaemon(zones: readonly ZoneSpec[], o: DaemonOptions = {}): Promise<DaemonServer> {
  if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} missing (run npm run build)`);
  if (zones.length === 0) throw new Error('startDaemon needs at least one zone');
  const port = o.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'apexdns-daemon-'));
  const configFile = join(dir, 'config.yaml');
  const config = {
    listen: [`127.0.0.1:${port}`],
    workers: o.workers ?? 1,
    zones: zones.map((z) => {
      const name = z.name.replace(/\.$/, '');
      return { name, file: resolve(z.file), ...(o.zoneSettings?.[name] ?? {}) };
    }),
    ...(o.extra ?? {}),
  };
  writeFileSync(configFile, stringify(config));
  const p = spawnServer(process.execPath, [DAEMON_MAIN, 'serve', '--config', configFile], {
    label: `apexdns:${port}`,
    dir,
    cwd: dir,
    env: { ...process.env, ...(o.env ?? {}) },
    output: (out, err) => `--- stderr ---\n${err}\n--- stdout ---\n${out}`,
  });
  const server: DaemonServer = {
    label: p.label,
    port,
    dir,
    configFile,
    pid: p.pid,
    output: p.output,
    exited: waitExit(p.child).then(() => p.child.exitCode),
    reload() {
      p.child.kill('SIGHUP');
    },
    stop: p.stop,
  };
  const first = zones[0]!;
  await readyOrStop(p, `apexdns on port ${port}`, () => answersSoa(port, first.name), o.timeoutMs ?? 10_000);
  return server;
}
