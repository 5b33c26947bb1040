// Shared helpers of the in-process transfer tests: the test TSIG key and config lines, a log capture, config loading
// and App start, temporary directories and Apps removed after the file, and polling.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';

export const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==';

/** The config lines every test App starts with: a listener on 127.0.0.1:`port`, state-dir, the test TSIG key. */
export function yamlHead(port: number): string[] {
  return [
    `listen: ["127.0.0.1:${port}"]`,
    'state-dir: state',
    'tsig-keys:',
    `  - { name: xfr-key, algorithm: hmac-sha256, secret: "${SECRET}" }`,
  ];
}

/** A pino logger at debug level whose JSON lines are kept for assertions on `event`s. */
export class Capture {
  readonly lines: Record<string, unknown>[] = [];
  readonly logger: Logger;
  constructor() {
    this.logger = pino({ level: 'debug' }, { write: (s: string) => void this.lines.push(JSON.parse(s) as Record<string, unknown>) });
  }
  events(name: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.event === name);
  }
}

/** Write `yaml` as `dir`/config.yaml and load it; throws with the errors when it does not validate. */
export async function config(dir: string, yaml: string): Promise<Config> {
  const f = join(dir, 'config.yaml');
  writeFileSync(f, yaml);
  const r = await loadConfig(f);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/** config() then App.start. */
export async function startApp(dir: string, yaml: string, log: Logger): Promise<App> {
  return App.start(await config(dir, yaml), log);
}

const dirs: string[] = [];
const apps: App[] = [];

/** A temporary directory removed by cleanup(). */
export function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Have cleanup() stop `app`; returns it. */
export function track(app: App): App {
  apps.push(app);
  return app;
}

/** Stop a tracked App now (cleanup() then skips it). */
export async function release(app: App): Promise<void> {
  await app.stop();
  const i = apps.indexOf(app);
  if (i >= 0) apps.splice(i, 1);
}

/** afterAll: stop the tracked Apps, then remove the temporary directories. */
export async function cleanup(): Promise<void> {
  for (const a of apps.splice(0)) await a.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Poll `cond` every 20 ms until it holds; throws after `ms`. */
export async function until(cond: () => boolean, ms: number, what = 'condition not met in time'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
