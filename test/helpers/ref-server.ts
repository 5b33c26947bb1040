// Start a reference authoritative server (BIND, NSD) from a config file written into a throw-away directory on a
// free loopback port; ready once it answers SOA for every zone (shared by test/helpers/bind.ts and nsd.ts).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answersSoa } from './dig.js';
import type { ZoneSpec } from './knot.js';
import { freePort } from './ports.js';
import { readyOrStop, spawnServer, type ServerProcess } from './procs.js';
import { tool } from './tools.js';

export interface RefServer {
  readonly label: string;
  readonly port: number;
  readonly dir: string;
  output(): string;
  stop(): Promise<void>;
}

/** JSON string quoting, which both named.conf and nsd.conf accept for paths and names. */
export function q(s: string): string {
  return JSON.stringify(s);
}

export interface RefServerSpec {
  /** Binary name, looked up with tool(). */
  readonly bin: string;
  readonly confName: string;
  readonly config: (dir: string, port: number, zones: readonly ZoneSpec[]) => string;
  readonly args: (conf: string) => readonly string[];
}

export async function startRefServer(spec: RefServerSpec, zones: readonly ZoneSpec[], timeoutMs = 15_000): Promise<RefServer> {
  const bin = tool(spec.bin);
  if ('skip' in bin) throw new Error(bin.skip);
  if (zones.length === 0) throw new Error(`${spec.bin}: needs at least one zone`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `apexdns-${spec.bin}-`));
  const conf = join(dir, spec.confName);
  writeFileSync(conf, spec.config(dir, port, zones));
  const p: ServerProcess = spawnServer(bin.path, spec.args(conf), { label: `${spec.bin}:${port}`, dir });
  await readyOrStop(
    p,
    `${spec.bin} on port ${port}`,
    async () => {
      for (const z of zones) if (!(await answersSoa(port, z.name))) return false;
      return true;
    },
    timeoutMs,
  );
  return { label: p.label, port, dir, output: p.output, stop: p.stop };
}
