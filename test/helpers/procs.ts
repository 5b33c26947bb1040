// Global registry of server processes started by tests (knotd, apexdns, ...) so nothing outlives a test file.

import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface Stoppable {
  readonly label: string;
  stop(): Promise<void>;
}

const live = new Set<Stoppable>();

export function register(s: Stoppable): void {
  live.add(s);
}

export function unregister(s: Stoppable): void {
  live.delete(s);
}

/** Stop everything still registered (call from afterAll). */
export async function stopAll(): Promise<void> {
  const all = [...live];
  live.clear();
  await Promise.allSettled(all.map((s) => s.stop()));
}

/** Number of registered processes still running (for tests of the helpers). */
export function liveCount(): number {
  return live.size;
}

/** Resolve when the child has exited (immediately if it already has). */
export function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminate(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = waitExit(child);
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([exited, killed]);
  await exited;
  if (timer !== undefined) clearTimeout(timer);
}

// Last-resort cleanup if the worker exits without afterAll having run (synchronous: SIGKILL only).
const children = new Set<ChildProcess>();
export function trackChild(c: ChildProcess): void {
  children.add(c);
  c.once('exit', () => children.delete(c));
}
process.once('exit', () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
});

/**
 * Poll `probe` until it returns true, the child exits, or `timeoutMs` passes. On failure the error message
 * carries the child's captured output so a broken server config is visible in the test report.
 */
export async function waitReady(
  label: string,
  child: ChildProcess,
  output: () => string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${label} exited early (code ${child.exitCode}, signal ${child.signalCode}); output:\n${output()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${label} not answering after ${timeoutMs} ms; output:\n${output().slice(-20_000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Keep the last `max` characters of a stream (child stdout/stderr) for error messages. */
export function capture(stream: NodeJS.ReadableStream | null, max = 4 * 1024 * 1024): () => string {
  let buf = '';
  stream?.on('data', (d: Buffer | string) => {
    buf += d.toString();
    if (buf.length > max) buf = buf.slice(buf.length - max);
  });
  return () => buf;
}

/** A server process spawned for a test in its own temporary directory, registered until stopped. */
export interface ServerProcess extends Stoppable {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly dir: string;
  output(): string;
}

export interface SpawnServerOptions {
  /** Label in the registry, e.g. `knotd:5300`. */
  readonly label: string;
  /** Temporary directory of the server, removed by stop(). */
  readonly dir: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** How the captured streams read in output() (default: stdout then stderr). */
  readonly output?: (stdout: string, stderr: string) => string;
}

/**
 * Spawn `cmd args` with stdout/stderr captured and register it; stop() (once) SIGTERMs it (SIGKILL after 5 s),
 * then removes `dir`.
 */
export function spawnServer(cmd: string, args: readonly string[], o: SpawnServerOptions): ServerProcess {
  const child = spawn(cmd, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: o.env });
  trackChild(child);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  const fmt = o.output ?? ((a: string, b: string): string => a + b);
  const output = (): string => fmt(out(), err());
  let stopped = false;
  const p: ServerProcess = {
    label: o.label,
    child,
    pid: child.pid ?? -1,
    dir: o.dir,
    output,
    async stop() {
      if (stopped) return;
      stopped = true;
      unregister(p);
      await terminate(child, 5000);
      rmSync(o.dir, { recursive: true, force: true });
    },
  };
  register(p);
  return p;
}

/** waitReady() for a spawned server; stops it (and rethrows) when it does not come up. */
export async function readyOrStop(p: ServerProcess, what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  try {
    await waitReady(what, p.child, p.output, probe, timeoutMs);
  } catch (e) {
    await p.stop();
    throw e;
  }
}

/** True while process `pid` exists (signal 0 probes without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
