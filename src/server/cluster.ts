// Multi-core orchestration with node:cluster: the primary forks workers that share the listening sockets, relays
// SIGHUP (reload) and SIGTERM/SIGINT (graceful stop), restarts dead workers with backoff; `workers: 1` runs
// the same app in-process with the same signal handling.

import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type pino from 'pino';
import { silentLogger } from './log.js';

import type { JsonValue } from '../util/json.js';

export type { JsonValue };

/** What a worker reports after reloading (zones loaded, errors...): any JSON object (use a `type`, not an
 *  `interface`, so that it is assignable to the index signature). */
export type ReloadReport = { readonly [k: string]: JsonValue };

/** The application run in each worker (or in-process): typically the listeners plus the zone store. */
export interface WorkerApp {
  reload(): Promise<ReloadReport>;
  /** Graceful stop: stop accepting, finish in-flight answers, release everything. */
  stop(): Promise<void>;
  /** An application message from the primary (see ClusterControl.send). */
  onMessage?(payload: JsonValue): void;
}

export interface WorkerContext {
  /** cluster worker id (1, 2, ... and increasing on restarts); 0 in-process. */
  readonly workerId: number;
  /** Stable index 0..workers-1 of this worker's slot (a restarted worker keeps its slot). */
  readonly slot: number;
  readonly logger: pino.Logger;
  /** Send an application message to the primary (hooks.onWorkerMessage). */
  send(payload: JsonValue): void;
}

export interface WorkerRef {
  readonly workerId: number;
  readonly pid: number;
}

export interface WorkerReloadResult extends WorkerRef {
  readonly ok: boolean;
  readonly report?: ReloadReport;
  readonly error?: string;
}

/** Primary → worker IPC messages. `apexdns: 1` keeps them apart from anything else on the channel. */
export type PrimaryToWorker =
  | { readonly apexdns: 1; readonly t: 'reload'; readonly id: number }
  | { readonly apexdns: 1; readonly t: 'stop' }
  | { readonly apexdns: 1; readonly t: 'app'; readonly payload: JsonValue };

/** Worker → primary IPC messages. */
export type WorkerToPrimary =
  | { readonly apexdns: 1; readonly t: 'ready' }
  | { readonly apexdns: 1; readonly t: 'start-failed'; readonly error: string }
  | { readonly apexdns: 1; readonly t: 'reload-result'; readonly id: number; readonly ok: true; readonly report: ReloadReport }
  | { readonly apexdns: 1; readonly t: 'reload-result'; readonly id: number; readonly ok: false; readonly error: string }
  | { readonly apexdns: 1; readonly t: 'stopped' }
  | { readonly apexdns: 1; readonly t: 'app'; readonly payload: JsonValue };

export interface ClusterOptions {
  /** Worker processes; 'auto' = os.availableParallelism(); 1 = no cluster, everything in this process. */
  readonly workers: number | 'auto';
  readonly logger?: pino.Logger;
  /** How long the primary waits for workers to exit after asking them to stop, before SIGKILL (default 15 s). */
  readonly stopTimeoutMs?: number;
  /** How long the primary waits for one worker's reload result (default 120 s). */
  readonly reloadTimeoutMs?: number;
  /** Restart backoff for workers that die: initial delay doubling up to max (default 250 ms .. 30 s); a worker
   *  that lived 30 s resets it. */
  readonly restartDelayMs?: { readonly initial: number; readonly max: number };
  /** Worker script and arguments (default: the primary's own script and arguments). */
  readonly exec?: string;
  readonly args?: readonly string[];
  /** Install SIGHUP/SIGTERM/SIGINT handlers (default true). */
  readonly handleSignals?: boolean;
  /** TCP connection distribution: the primary accepts and hands out round-robin (default), or workers accept
   *  directly on the shared socket. UDP is up to the app (inheritFds: sockets bound here; else node:dgram's shared ones). */
  readonly tcpScheduling?: 'round-robin' | 'shared';
  /** Open file descriptors every worker inherits, as its descriptors INHERITED_FD_BASE, +1, ... (fork's stdio). */
  readonly inheritFds?: readonly number[];
  /** Extra environment for the workers. */
  readonly workerEnv?: Readonly<Record<string, string>>;
}

/** The first descriptor number of ClusterOptions.inheritFds in a worker (0–2 are stdio, 3 the IPC channel). */
export const INHERITED_FD_BASE = 4;

export interface ClusterHooks {
  /** Runs in each worker (or in-process): build and start the app; rejecting makes the worker exit 1. */
  startWorker(ctx: WorkerContext): Promise<WorkerApp>;
  /** Primary side (or in-process): an application message from a worker (e.g. "NOTIFY received for zone X"). */
  onWorkerMessage?(payload: JsonValue, from: WorkerRef, control: ClusterControl): void;
}

export interface ClusterControl {
  readonly role: 'primary' | 'worker' | 'single';
  /** Primary / single: reload every worker and log each result. Worker: reload this worker's app. */
  reload(): Promise<readonly WorkerReloadResult[]>;
  /** Graceful stop of everything this process controls (a worker exits the process afterwards). */
  stop(): Promise<void>;
  /** Primary / single: deliver to every worker's app.onMessage. Worker: deliver to hooks.onWorkerMessage. */
  send(payload: JsonValue): void;
  /** Resolves once stopped (after SIGTERM/SIGINT or stop()); the caller should then exit with code 0. */
  readonly done: Promise<void>;
}

const SLOT_ENV = 'APEXDNS_WORKER_SLOT';

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isWorkerMsg(m: unknown): m is WorkerToPrimary {
  return typeof m === 'object' && m !== null && (m as { apexdns?: unknown }).apexdns === 1;
}

function isPrimaryMsg(m: unknown): m is PrimaryToWorker {
  return typeof m === 'object' && m !== null && (m as { apexdns?: unknown }).apexdns === 1;
}

/** Resolve the worker count: 'auto' → available parallelism; at least 1. */
export function workerCount(w: number | 'auto'): number {
  if (w === 'auto') return Math.max(1, os.availableParallelism());
  if (!Number.isInteger(w) || w < 1) throw new RangeError(`workers must be a positive integer or "auto", got ${w}`);
  return w;
}

/**
 * Node options for workers: the parent's, plus a 32 MiB young-generation semi-space unless the operator chose one.
 * Every answer allocates a little garbage; with V8's default (16 MiB at most) scavenges ran twice as often. Measured
 * with bench/ab.mjs (2 workers, signed mixed load, denial nsec, 4 interleaved rounds): 81.6k -> 87.3k qps median;
 * 64 MiB gave no more. Costs up to about 32 MiB more memory per worker (two semi-spaces).
 */
export function workerExecArgv(parent: readonly string[]): string[] {
  return parent.some((a) => a.startsWith('--max-semi-space-size')) ? [...parent] : [...parent, '--max-semi-space-size=32'];
}

/**
 * Start the process's role: primary (forks workers), worker (runs hooks.startWorker), or single (workers: 1).
 * Resolves once everything is up (every worker ready); rejects if a worker fails to start.
 */
export function startCluster(opts: ClusterOptions, hooks: ClusterHooks): Promise<ClusterControl> {
  const logger = opts.logger ?? silentLogger;
  if (cluster.isWorker) return startWorkerRole(opts, hooks, logger);
  const n = workerCount(opts.workers);
  if (n === 1) return startSingle(opts, hooks, logger);
  return new Primary(opts, hooks, logger, n).start();
}

/** startCluster, then wait until stopped. */
export async function runCluster(opts: ClusterOptions, hooks: ClusterHooks): Promise<void> {
  const c = await startCluster(opts, hooks);
  await c.done;
}

/** SIGHUP → reload, SIGTERM/SIGINT → stop (a second one while stopping → force). Returns the uninstaller. */
function installSignals(
  logger: pino.Logger,
  reload: () => void,
  stop: () => void,
  force: () => void,
): () => void {
  let stopping = false;
  const onHup = (): void => {
    logger.info('SIGHUP: reloading');
    reload();
  };
  const onStop = (sig: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal: sig }, 'second stop signal: forcing');
      force();
      return;
    }
    stopping = true;
    logger.info({ signal: sig }, 'stopping gracefully');
    stop();
  };
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  return () => {
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
  };
}

// ---------------------------------------------------------------------------------------------------------------
// workers: 1 — in-process

async function startSingle(opts: ClusterOptions, hooks: ClusterHooks, logger: pino.Logger): Promise<ClusterControl> {
  const self: WorkerRef = { workerId: 0, pid: process.pid };
  let stopped: Promise<void> | null = null;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  let uninstall = (): void => undefined;
  let reloadChain: Promise<unknown> = Promise.resolve();
  const control: ClusterControl = {
    role: 'single',
    reload() {
      const run = async (): Promise<readonly WorkerReloadResult[]> => {
        let res: WorkerReloadResult;
        try {
          res = { ...self, ok: true, report: await app.reload() };
          logger.info({ ...self, report: res.report }, 'reloaded');
        } catch (err) {
          res = { ...self, ok: false, error: errText(err) };
          logger.error({ ...self, err }, 'reload failed');
        }
        return [res];
      };
      const p = reloadChain.then(run);
      reloadChain = p.catch(() => undefined);
      return p;
    },
    stop() {
      stopped ??= (async () => {
        uninstall();
        try {
          await app.stop();
        } catch (err) {
          logger.error({ err }, 'stop failed');
        }
        logger.info('stopped');
        resolveDone();
      })();
      return stopped;
    },
    send(payload) {
      queueMicrotask(() => app.onMessage?.(payload));
    },
    done,
  };
  const app = await hooks.startWorker({
    workerId: 0,
    slot: 0,
    logger,
    send: (payload) => queueMicrotask(() => hooks.onWorkerMessage?.(payload, self, control)),
  });
  if (opts.handleSignals ?? true) {
    uninstall = installSignals(
      logger,
      () => void control.reload(),
      () => void control.stop(),
      () => resolveDone(),
    );
  }
  return control;
}

// ---------------------------------------------------------------------------------------------------------------
// worker process

function sendToPrimary(msg: WorkerToPrimary): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) {
      resolve();
      return;
    }
    try {
      process.send(msg, undefined, {}, () => resolve());
    } catch {
      resolve();
    }
  });
}

async function startWorkerRole(opts: ClusterOptions, hooks: ClusterHooks, parent: pino.Logger): Promise<ClusterControl> {
  const workerId = cluster.worker?.id ?? 0;
  const slot = Number(process.env[SLOT_ENV] ?? '0');
  const logger = parent.child({ workerId });
  const self: WorkerRef = { workerId, pid: process.pid };
  // Messages that arrive while the app starts (another worker's "zone updated", a reload) are kept and handled
  // once it runs: Node drops a message nobody listens for, and a lost "zone updated" left this worker without the data.
  const early: PrimaryToWorker[] = [];
  const keep = (m: unknown): void => {
    if (isPrimaryMsg(m)) early.push(m);
  };
  process.on('message', keep);
  let app: WorkerApp;
  try {
    app = await hooks.startWorker({ workerId, slot, logger, send: (payload) => void sendToPrimary({ apexdns: 1, t: 'app', payload }) });
  } catch (err) {
    logger.error({ err }, 'worker failed to start');
    await sendToPrimary({ apexdns: 1, t: 'start-failed', error: errText(err) });
    process.exit(1);
  }
  let reloadChain: Promise<unknown> = Promise.resolve();
  const reloadLocal = (): Promise<WorkerReloadResult> => {
    const run = async (): Promise<WorkerReloadResult> => {
      try {
        return { ...self, ok: true, report: await app.reload() };
      } catch (err) {
        logger.error({ err }, 'reload failed');
        return { ...self, ok: false, error: errText(err) };
      }
    };
    const p = reloadChain.then(run);
    reloadChain = p.catch(() => undefined);
    return p;
  };
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      let code = 0;
      try {
        await app.stop();
      } catch (err) {
        code = 1;
        logger.error({ err }, 'worker stop failed');
      }
      logger.debug('worker stopped');
      await sendToPrimary({ apexdns: 1, t: 'stopped' });
      process.exit(code);
    })();
    return stopping;
  };
  const onMessage = (m: unknown): void => {
    if (!isPrimaryMsg(m)) return;
    switch (m.t) {
      case 'reload':
        void reloadLocal().then((r) =>
          sendToPrimary(
            r.ok && r.report !== undefined
              ? { apexdns: 1, t: 'reload-result', id: m.id, ok: true, report: r.report }
              : { apexdns: 1, t: 'reload-result', id: m.id, ok: false, error: r.error ?? 'unknown error' },
          ),
        );
        return;
      case 'stop':
        void stop();
        return;
      case 'app':
        app.onMessage?.(m.payload);
        return;
      default: {
        const never: never = m;
        return never;
      }
    }
  };
  process.off('message', keep);
  process.on('message', onMessage);
  for (const m of early.splice(0)) onMessage(m);
  // The primary relays signals; a worker hit directly (process-group Ctrl-C, systemd) still stops gracefully.
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // SIGHUP would kill the worker by default; the primary sends the reload over IPC instead.
  process.on('SIGHUP', () => logger.debug('SIGHUP ignored in a worker; the primary relays reloads'));
  // Primary gone (crashed or killed): do not linger as an orphan.
  process.on('disconnect', () => void stop());
  await sendToPrimary({ apexdns: 1, t: 'ready' });
  logger.info({ slot }, 'worker ready');
  return {
    role: 'worker',
    reload: async () => [await reloadLocal()],
    stop,
    send: (payload) => void sendToPrimary({ apexdns: 1, t: 'app', payload }),
    done: new Promise<void>(() => undefined), // the worker process exits from stop()
  };
}

// ---------------------------------------------------------------------------------------------------------------
// primary process

interface Slot {
  readonly index: number;
  worker: Worker | null;
  ready: boolean;
  failures: number;
  startedAt: number;
  restartTimer: NodeJS.Timeout | null;
  /**
   * Application messages sent while this slot's worker was starting (not ready): delivered when it is. A message
   * sent only to ready workers was lost for a starting one (a secondary's "zone updated" left it without the zone).
   */
  pending: JsonValue[];
}

/** Most application messages kept for a worker that is starting. */
const MAX_PENDING = 1000;

class Primary {
  private readonly slots: Slot[] = [];
  private stopping = false;
  private started = false;
  private reloadSeq = 0;
  private stopPromise: Promise<void> | null = null;
  private resolveDone: () => void = () => undefined;
  private readonly done: Promise<void>;
  private uninstall: () => void = () => undefined;
  private failStartup: ((err: Error) => void) | null = null;
  private readonly control: ClusterControl;

  constructor(
    private readonly opts: ClusterOptions,
    private readonly hooks: ClusterHooks,
    private readonly logger: pino.Logger,
    private readonly n: number,
  ) {
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
    this.control = {
      role: 'primary',
      reload: () => this.reload(),
      stop: () => this.stop(),
      send: (payload) => {
        for (const s of this.slots) {
          if (s.worker !== null && s.ready) this.sendTo(s.worker, { apexdns: 1, t: 'app', payload });
          else if (s.pending.length < MAX_PENDING) s.pending.push(payload);
        }
      },
      done: this.done,
    };
  }

  async start(): Promise<ClusterControl> {
    cluster.schedulingPolicy = this.opts.tcpScheduling === 'shared' ? cluster.SCHED_NONE : cluster.SCHED_RR;
    cluster.setupPrimary({
      execArgv: workerExecArgv(process.execArgv),
      ...(this.opts.inheritFds !== undefined && this.opts.inheritFds.length > 0 ? { stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...this.opts.inheritFds] } : {}),
      ...(this.opts.exec !== undefined ? { exec: this.opts.exec } : {}),
      ...(this.opts.args !== undefined ? { args: [...this.opts.args] } : {}),
    });
    cluster.on('exit', this.onExit);
    // Workers may answer before all of them are ready (the UDP sockets can be bound already): a SIGHUP then must
    // not kill the primary (the default action). It is held and carried out once the workers are up.
    let heldReload = false;
    const holdReload = (): void => {
      heldReload = true;
    };
    const handleSignals = this.opts.handleSignals ?? true;
    if (handleSignals) process.on('SIGHUP', holdReload);
    const allReady = new Promise<void>((resolve, reject) => {
      this.failStartup = reject;
      for (let i = 0; i < this.n; i++) {
        const slot: Slot = { index: i, worker: null, ready: false, failures: 0, startedAt: 0, restartTimer: null, pending: [] };
        this.slots.push(slot);
        this.fork(slot, () => {
          if (this.slots.every((s) => s.ready)) resolve();
        });
      }
    });
    try {
      await allReady;
    } catch (err) {
      process.off('SIGHUP', holdReload);
      await this.stop();
      throw err;
    }
    this.started = true;
    this.failStartup = null;
    this.logger.info({ workers: this.n }, 'all workers ready');
    if (handleSignals) {
      this.uninstall = installSignals(
        this.logger,
        () => void this.reload(),
        () => void this.stop(),
        () => this.force(),
      );
      process.off('SIGHUP', holdReload);
      if (heldReload) {
        this.logger.info('SIGHUP during start-up: reloading');
        void this.reload();
      }
    }
    return this.control;
  }

  private liveWorkers(): Worker[] {
    const out: Worker[] = [];
    for (const s of this.slots) if (s.worker !== null && s.ready) out.push(s.worker);
    return out;
  }

  private sendTo(w: Worker, msg: PrimaryToWorker): void {
    if (!w.isConnected()) return;
    try {
      w.send(msg);
    } catch (err) {
      this.logger.warn({ err, workerId: w.id }, 'IPC send to worker failed');
    }
  }

  private fork(slot: Slot, onReady?: () => void): void {
    slot.restartTimer = null;
    const w = cluster.fork({ ...this.opts.workerEnv, [SLOT_ENV]: String(slot.index) });
    slot.worker = w;
    slot.ready = false;
    slot.startedAt = Date.now();
    const ref = (): WorkerRef => ({ workerId: w.id, pid: w.process.pid ?? 0 });
    const logRef = (): { workerId: number; workerPid: number } => ({ workerId: w.id, workerPid: w.process.pid ?? 0 });
    w.on('message', (m: unknown) => {
      if (!isWorkerMsg(m)) return;
      switch (m.t) {
        case 'ready':
          slot.ready = true;
          for (const payload of slot.pending.splice(0)) this.sendTo(w, { apexdns: 1, t: 'app', payload });
          this.logger.info({ ...logRef(), slot: slot.index }, 'worker ready');
          onReady?.();
          return;
        case 'start-failed':
          this.logger.error({ ...logRef(), error: m.error }, 'worker failed to start');
          this.failStartup?.(new Error(`worker ${w.id} failed to start: ${m.error}`));
          return;
        case 'app':
          try {
            this.hooks.onWorkerMessage?.(m.payload, ref(), this.control);
          } catch (err) {
            this.logger.error({ err }, 'onWorkerMessage failed');
          }
          return;
        case 'reload-result':
        case 'stopped':
          return; // handled by the per-request listeners
        default: {
          const never: never = m;
          return never;
        }
      }
    });
    w.on('error', (err) => this.logger.warn({ err, workerId: w.id }, 'worker IPC error'));
  }

  private readonly onExit = (w: Worker, code: number | null, signal: string | null): void => {
    const slot = this.slots.find((s) => s.worker === w);
    if (slot === undefined) return;
    slot.worker = null;
    const wasReady = slot.ready;
    slot.ready = false;
    const info = { workerId: w.id, workerPid: w.process.pid, code, signal, slot: slot.index };
    if (this.stopping) {
      this.logger.info(info, 'worker exited');
      return;
    }
    if (!this.started) {
      this.failStartup?.(new Error(`worker ${w.id} exited during startup (code ${code}, signal ${signal})`));
      return;
    }
    // A worker died on its own: restart it after a backoff (reset when it had been up for 30 s).
    if (wasReady && Date.now() - slot.startedAt > 30_000) slot.failures = 0;
    const initial = this.opts.restartDelayMs?.initial ?? 250;
    const max = this.opts.restartDelayMs?.max ?? 30_000;
    const delay = Math.min(max, initial * 2 ** slot.failures);
    slot.failures++;
    this.logger.error({ ...info, restartInMs: delay }, 'worker died unexpectedly; restarting');
    slot.restartTimer = setTimeout(() => {
      if (!this.stopping) this.fork(slot);
    }, delay);
  };

  private async reload(): Promise<readonly WorkerReloadResult[]> {
    const id = ++this.reloadSeq;
    // One worker at a time: the others keep answering at full speed from the shared sockets while a large zone
    // is rebuilt, and only one extra copy of the zone data is in memory at once. Slot 0 goes last: the app makes
    // it the leader (e.g. it sends NOTIFY), which must act only once every other worker serves the new data.
    const results: WorkerReloadResult[] = [];
    for (const w of this.liveWorkers().reverse()) results.push(await this.reloadOne(w, id));
    for (const r of results) {
      if (r.ok) this.logger.info({ workerId: r.workerId, workerPid: r.pid, report: r.report }, 'worker reloaded');
      else this.logger.error({ workerId: r.workerId, workerPid: r.pid, error: r.error }, 'worker reload failed');
    }
    return results;
  }

  private reloadOne(w: Worker, id: number): Promise<WorkerReloadResult> {
    const ref: WorkerRef = { workerId: w.id, pid: w.process.pid ?? 0 };
    return new Promise((resolve) => {
      const finish = (r: WorkerReloadResult): void => {
        clearTimeout(timer);
        w.off('message', onMsg);
        w.off('exit', onExit);
        resolve(r);
      };
      const onMsg = (m: unknown): void => {
        if (!isWorkerMsg(m) || m.t !== 'reload-result' || m.id !== id) return;
        finish(m.ok ? { ...ref, ok: true, report: m.report } : { ...ref, ok: false, error: m.error });
      };
      const onExit = (): void => finish({ ...ref, ok: false, error: 'worker exited during reload' });
      const timer = setTimeout(
        () => finish({ ...ref, ok: false, error: 'reload timed out' }),
        this.opts.reloadTimeoutMs ?? 120_000,
      );
      w.on('message', onMsg);
      w.once('exit', onExit);
      this.sendTo(w, { apexdns: 1, t: 'reload', id });
    });
  }

  private stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      this.stopping = true;
      this.uninstall();
      const exits: Promise<void>[] = [];
      for (const s of this.slots) {
        if (s.restartTimer !== null) clearTimeout(s.restartTimer);
        s.restartTimer = null;
        const w = s.worker;
        if (w === null || w.isDead()) continue;
        exits.push(new Promise((r) => w.once('exit', () => r())));
        this.sendTo(w, { apexdns: 1, t: 'stop' });
      }
      const killer = setTimeout(() => this.force(), this.opts.stopTimeoutMs ?? 15_000);
      await Promise.all(exits);
      clearTimeout(killer);
      cluster.off('exit', this.onExit);
      this.logger.info('all workers stopped');
      this.resolveDone();
    })();
    return this.stopPromise;
  }

  /** Kill whatever is left (stop deadline passed, or a second stop signal). */
  private force(): void {
    this.stopping = true;
    for (const s of this.slots) {
      const w = s.worker;
      if (w !== null && !w.isDead()) {
        this.logger.warn({ workerId: w.id, workerPid: w.process.pid }, 'killing worker');
        w.process.kill('SIGKILL');
      }
    }
    if (this.stopPromise === null) void this.stop();
  }
}
