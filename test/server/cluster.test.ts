// Cluster tests: a real primary with 2 workers sharing one UDP/TCP port, SIGHUP reload, crash restart, SIGTERM;
// plus the in-process (workers: 1) mode.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, workerCount, workerExecArgv, type WorkerApp } from '../../src/server/cluster.js';
import { freePort } from '../helpers/ports.js';
import { terminate, trackChild, waitExit } from '../helpers/procs.js';
import { sleep, tcpConnect, udpAsk } from './netutil.js';

const root = path.resolve(import.meta.dirname, '../..');
const outDir = path.join(root, 'node_modules/.cache/apexdns-test', `server-cluster-${process.pid}-${randomBytes(4).toString('hex')}`);
const fixture = path.join(outDir, 'test/server/fixtures/cluster-app.js');

interface LogLine {
  readonly msg: string;
  readonly pid: number;
  readonly workerId?: number;
  readonly workerPid?: number;
  readonly report?: { readonly reloads: number; readonly pid: number };
  readonly code?: number;
}

class Proc {
  readonly lines: LogLine[] = [];
  private buf = '';
  readonly child: ChildProcess;
  constructor(port: number, workers: number) {
    this.child = spawn(process.execPath, [fixture, String(port), String(workers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(this.child);
    const onData = (c: Buffer): void => {
      this.buf += c.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ msg: `non-json: ${line}`, pid: 0 });
        }
      }
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
  }
  count(msg: string): number {
    return this.lines.filter((l) => l.msg === msg).length;
  }
  async waitFor(msg: string, n = 1, timeoutMs = 10_000): Promise<LogLine[]> {
    const t0 = Date.now();
    while (this.count(msg) < n) {
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`no ${n}x "${msg}" within ${timeoutMs} ms; output:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}`);
      }
      if (this.child.exitCode !== null) throw new Error(`process exited (${this.child.exitCode}) before "${msg}"`);
      await sleep(20);
    }
    return this.lines.filter((l) => l.msg === msg);
  }
}

beforeAll(() => {
  // The fixture runs in real processes (cluster.fork), so compile it and the server sources to plain JS.
  const r = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules/typescript/bin/tsc'),
      '--ignoreConfig',
      ...['--outDir', outDir, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ...['--target', 'es2022', '--types', 'node', '--skipLibCheck', '--strict'],
      path.join(root, 'test/server/fixtures/cluster-app.ts'),
    ],
    { cwd: root, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
});

const procs: Proc[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => terminate(p.child, 3000)));
  rmSync(outDir, { recursive: true, force: true });
});

/** Ask over UDP in small bursts until answers from `want` distinct worker pids were seen. */
async function pidsAnswering(port: number, want: number): Promise<Set<string>> {
  const pids = new Set<string>();
  for (let round = 0; round < 40 && pids.size < want; round++) {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => udpAsk('127.0.0.1', port, Buffer.from(`q${round}-${i}`))),
    );
    for (const [i, a] of answers.entries()) {
      const [pid, q] = a.toString().split(':');
      expect(q).toBe(`q${round}-${i}`);
      pids.add(pid ?? '');
    }
  }
  return pids;
}

describe('cluster (2 workers, one port)', () => {
  it('both workers answer UDP on one port, TCP works, SIGHUP reloads both, a crash is restarted, SIGTERM exits 0', async () => {
    const port = await freePort();
    const p = new Proc(port, 2);
    procs.push(p);
    await p.waitFor('all workers ready');
    const workerPids = new Set(
      p.lines.filter((l) => l.msg === 'worker ready' && l.pid === p.child.pid).map((l) => String(l.workerPid)),
    );
    expect(workerPids.size).toBe(2);
    expect(workerPids.has(String(p.child.pid))).toBe(false);

    expect(await pidsAnswering(port, 2)).toEqual(workerPids);

    const c = await tcpConnect('127.0.0.1', port);
    c.send(Buffer.from('tcp'));
    const [answer] = await c.waitFor(1);
    const [tpid, tq] = (answer ?? Buffer.alloc(0)).toString().split(':');
    expect(workerPids.has(tpid ?? '')).toBe(true);
    expect(tq).toBe('tcp');
    c.socket.destroy();

    p.child.kill('SIGHUP');
    const reloaded = await p.waitFor('worker reloaded', 2);
    expect(new Set(reloaded.map((l) => String(l.report?.pid)))).toEqual(workerPids);
    expect(reloaded.map((l) => l.report?.reloads)).toEqual([1, 1]);
    expect(reloaded.every((l) => l.pid === p.child.pid)).toBe(true); // logged by the primary

    // A worker that dies is restarted (new pid) and the port keeps answering with two workers.
    udpAsk('127.0.0.1', port, Buffer.from('crash'), 200).catch(() => undefined);
    const died = await p.waitFor('worker died unexpectedly; restarting');
    expect(died[0]?.code).toBe(3);
    await p.waitFor('worker ready', 2 * 2 + 2); // 2 initial (worker + primary line each) + 1 restart (both lines)
    const after = await pidsAnswering(port, 2);
    expect(after.size).toBe(2);
    const restarted = [...after].filter((pid) => !workerPids.has(pid));
    expect(restarted.length).toBe(1);

    p.child.kill('SIGTERM');
    await waitExit(p.child);
    expect(p.child.exitCode).toBe(0);
    expect(p.count('worker exited')).toBe(2);
    expect(p.count('all workers stopped')).toBe(1);
  });
});

describe('cluster startup failure', () => {
  it('a worker that cannot bind makes the primary fail (exit 1) instead of restarting forever', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen({ port, host: '127.0.0.1', exclusive: true }, () => r()));
    try {
      const p = new Proc(port, 2);
      procs.push(p);
      await waitExit(p.child);
      expect(p.child.exitCode).toBe(1);
      expect(p.count('worker failed to start')).toBeGreaterThanOrEqual(1);
      const stderr = p.lines.filter((l) => l.msg.startsWith('non-json: ')).map((l) => l.msg).join('\n');
      expect(stderr).toMatch(new RegExp(`Error: worker [12] failed to start: cannot listen on tcp 127\\.0\\.0\\.1:${port}: `));
      expect(p.count('worker died unexpectedly; restarting')).toBe(0);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});

describe('cluster (workers: 1, in-process)', () => {
  it('runs the app in the same process: SIGHUP reloads, SIGTERM stops and exits 0', async () => {
    const port = await freePort();
    const p = new Proc(port, 1);
    procs.push(p);
    await p.waitFor('listening', 2);
    expect((await udpAsk('127.0.0.1', port, Buffer.from('one'))).toString()).toBe(`${p.child.pid}:one`);
    p.child.kill('SIGHUP');
    const [r] = await p.waitFor('reloaded');
    expect(r?.report).toEqual({ reloads: 1, pid: p.child.pid });
    p.child.kill('SIGTERM');
    await waitExit(p.child);
    expect(p.child.exitCode).toBe(0);
    expect(p.count('stopped')).toBe(1);
  });

  it('startCluster API: reload, messages both ways, stop', async () => {
    const events: string[] = [];
    const app: WorkerApp = {
      reload: () => Promise.resolve({ zones: 3 }),
      stop: () => {
        events.push('stop');
        return Promise.resolve();
      },
      onMessage: (m) => events.push(`worker got ${JSON.stringify(m)}`),
    };
    const ctl = await startCluster(
      { workers: 1, handleSignals: false },
      {
        startWorker: (ctx) => {
          ctx.send({ notify: 'example.com.' });
          return Promise.resolve(app);
        },
        onWorkerMessage: (m, from, control) => {
          events.push(`primary got ${JSON.stringify(m)} from ${from.workerId}`);
          control.send({ reloadZone: 'example.com.' });
        },
      },
    );
    expect(ctl.role).toBe('single');
    expect(await ctl.reload()).toEqual([{ workerId: 0, pid: process.pid, ok: true, report: { zones: 3 } }]);
    await sleep(5);
    await ctl.stop();
    await ctl.done;
    expect(events).toEqual([
      'primary got {"notify":"example.com."} from 0',
      'worker got {"reloadZone":"example.com."}',
      'stop',
    ]);
  });

  it('workerCount', () => {
    expect(workerCount(3)).toBe(3);
    expect(workerCount('auto')).toBeGreaterThanOrEqual(1);
    expect(() => workerCount(0)).toThrow('workers must be a positive integer or "auto", got 0');
  });

  it('workers get a 32 MiB semi-space unless the operator set one', () => {
    expect(workerExecArgv(['--enable-source-maps'])).toEqual(['--enable-source-maps', '--max-semi-space-size=32']);
    expect(workerExecArgv(['--max-semi-space-size=8'])).toEqual(['--max-semi-space-size=8']);
  });
});
