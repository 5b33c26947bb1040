#!/usr/bin/env node
// `npm run bench`: apexdns next to Knot/NSD/PowerDNS with the shared kit (/work/shared/bench), plus scale and profile runs.
//
// The kit is invoked from its own (read-only) location: its generators take --out, its starters take BENCH_TMP and
// bench-server.sh takes --out, so nothing is copied. Each server is started here through the kit's peers/*.sh (apexdns
// through peers/generic.sh), its process-tree RSS is sampled while bench-server.sh measures it, then it is stopped by PID.
// Results: a markdown table on stdout (also bench/results/<run>.md) and JSON lines in bench/results/<run>.jsonl.

import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, parseArgs, selected } from './args.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ORIGIN = 'bench.test.';
const WORK = '/tmp/apexdns-bench';
const PORTS = { apexdns: 5391, knot: 5392, nsd: 5393, pdns: 5394, scale: 5395, profile: 5396 };

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`bench: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const KIT = resolve(opts.kit);
const OUT = resolve(opts.out ?? join(ROOT, 'bench/results'));
const DATA = join(ROOT, 'bench/data');
const RUN_ID = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const JSONL = join(OUT, `${RUN_ID}.jsonl`);
const RAW = join(OUT, `${RUN_ID}.raw.jsonl`);
const MD = join(OUT, `${RUN_ID}.md`);
for (const d of [OUT, DATA, WORK]) mkdirSync(d, { recursive: true });
if (!existsSync(join(KIT, 'bench-server.sh'))) die(`benchmark kit not found in ${KIT} (use --kit DIR)`);
if (!existsSync(join(ROOT, 'dist/cli/main.js'))) die('dist/cli/main.js missing: run `npm run build` first (npm run bench does)');

const md = [];
/** Started server PIDs (roots), stopped on exit whatever happens. */
const live = new Set();

function say(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}
function die(msg) {
  process.stderr.write(`[bench] ERROR: ${msg}\n`);
  process.exit(1);
}
function record(obj) {
  appendFileSync(JSONL, JSON.stringify({ run: RUN_ID, ts: new Date().toISOString(), ...obj }) + '\n');
}
function out(line = '') {
  md.push(line);
  process.stdout.write(line + '\n');
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const which = (bin) => ['/usr/sbin', '/usr/bin', '/sbin', '/bin', ...(process.env.PATH ?? '').split(':')].some((d) => d && existsSync(join(d, bin)));

// ---------- process trees, RSS, CPU ----------

/** PID and all its descendants (via /proc/PID/task/TID/children). */
function tree(pid) {
  const seen = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop();
    if (seen.includes(p)) continue;
    let tasks;
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    seen.push(p);
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ')) if (c.trim()) stack.push(Number(c));
      } catch {
        /* task gone */
      }
    }
  }
  return seen;
}

/** Sum of VmRSS (kB) over a process tree. */
function treeRssKb(pid) {
  let kb = 0;
  for (const p of tree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      /* exited */
    }
  }
  return kb;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM the root, wait up to `ms`, then SIGKILL whatever of the tree is left (each by PID). */
async function stopTree(pid, ms = 10000) {
  const pids = tree(pid);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && alive(pid)) await sleep(100);
  for (const p of pids) {
    if (alive(p)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  live.delete(pid);
}

/** Busy cores of the whole machine over `ms` (the kit's noise measure, done here before each server). */
async function machineLoad(ms = 1000) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  };
  const a = read();
  await sleep(ms);
  return (read() - a) / 100 / (ms / 1000);
}

// ---------- DNS probe (SOA serial) ----------

function soaQuery(id) {
  const labels = ORIGIN.split('.').filter(Boolean);
  const q = [id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of labels) q.push(l.length, ...Buffer.from(l, 'ascii'));
  q.push(0, 0, 6, 0, 1); // root, QTYPE SOA, QCLASS IN
  return Buffer.from(q);
}

/** Offset after the (possibly compressed) name at `p` (RFC 1035 §4.1.4). */
function skipName(b, p) {
  for (;;) {
    const l = b[p];
    if (l === undefined) return -1;
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) return p + 2;
    p += l + 1;
  }
}

/** SOA serial of ORIGIN from 127.0.0.1:port, or null (no answer within `timeoutMs`). */
function soaSerial(port, timeoutMs = 300) {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4');
    const id = (Math.random() * 0xffff) | 0;
    const done = (v) => {
      clearTimeout(t);
      s.close();
      res(v);
    };
    const t = setTimeout(() => done(null), timeoutMs);
    s.on('error', () => done(null));
    s.on('message', (b) => {
      if (b.length < 12 || b.readUInt16BE(0) !== id || (b[3] & 0xf) !== 0 || b.readUInt16BE(6) < 1) return done(null);
      let p = skipName(b, 12) + 4;
      p = skipName(b, p);
      if (p < 0 || b.readUInt16BE(p) !== 6) return done(null);
      p += 10;
      p = skipName(b, skipName(b, p));
      done(p > 0 && p + 4 <= b.length ? b.readUInt32BE(p) : null);
    });
    s.send(soaQuery(id), port, '127.0.0.1');
  });
}

// ---------- inputs ----------

function kitNode(script, args) {
  const r = spawnSync(process.execPath, [join(KIT, script), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) die(`${script} failed`);
}

/** Zone + query files from the kit generators (cached in bench/data by parameters). */
function inputs(names, count) {
  const zone = join(DATA, `bench-${names}.zone`);
  const queries = join(DATA, `queries-${names}-${count}.txt`);
  if (!existsSync(zone)) kitNode('gen-zone.mjs', ['--names', String(names), '--out', zone]);
  if (!existsSync(queries)) kitNode('gen-queries.mjs', ['--names', String(names), '--count', String(count), '--out', queries]);
  return { zone, queries };
}

/** Random-subdomain flood: every query a fresh random label under the origin (the kit's nx generator, 100 %). */
function floodQueries(names, count) {
  const f = join(DATA, `flood-${count}.txt`);
  if (!existsSync(f)) kitNode('gen-queries.mjs', ['--names', String(names), '--count', String(count), '--mix', 'exist=0,cname=0,nx=100,wild=0,nodata=0', '--seed', '7', '--out', f]);
  return f;
}

// ---------- apexdns config ----------

function apexConfig(name, port, zone, workers, extraZone = '') {
  const dir = join(WORK, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'apexdns.yaml');
  writeFileSync(
    file,
    [
      '# written by bench/run.mjs',
      `listen: ["127.0.0.1:${port}"]`,
      `workers: ${workers}`,
      `state-dir: ${join(dir, 'var')}`,
      `zones-dir: ${dirname(zone)}`,
      'log:',
      '  level: info',
      'zones:',
      '  - name: bench.test',
      `    file: ${zone}`,
      extraZone,
      '',
    ].join('\n'),
  );
  return file;
}

/** Live-signing config block for the bench zone (keys generated in DIR/keys). */
const dnssecBlock = (dir, denial = 'compact') => ['    dnssec:', '      state: active', `      denial: ${denial}`, `      keys: ${join(dir, 'keys')}`].join('\n');

const apexCmd = (config, nodeArgs = []) => ['node', ...nodeArgs, join(ROOT, 'dist/cli/main.js'), 'serve', '--config', config];

// ---------- one server through the kit ----------

/** Runs a kit starter (prints the PID last); returns the PID or an error text. */
function startPeer(argv, env) {
  const r = spawnSync('bash', argv, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_TMP: join(WORK, 'run'), ...env }, encoding: 'utf8' });
  const pid = Number((r.stdout ?? '').trim().split('\n').pop());
  if (r.status !== 0 || !Number.isInteger(pid) || pid <= 0 || !alive(pid)) return { error: `starter ${argv[0]} failed (exit ${r.status})` };
  live.add(pid);
  return { pid };
}

function dig(port, args) {
  const r = spawnSync('kdig', ['@127.0.0.1', '-p', String(port), '+retry=0', '+timeout=2', ...args], { encoding: 'utf8' });
  return r.stdout ?? '';
}

/**
 * Start → (optional readiness check) → bench-server.sh with `echo PID` as its starter (it measures, then stops the
 * tree) while RSS is sampled every second. Returns one result row.
 */
async function measure(spec) {
  const { name, port, starter, env = {}, doBit = false, queries, check } = spec;
  say(`=== ${name}: starting`);
  const load = await machineLoad();
  const t0 = Date.now();
  const st = startPeer(starter, { ...env, ...(opts.pin ? { BENCH_THREADS: '1' } : {}) });
  if (st.error) return skip(name, st.error);
  const pid = st.pid;
  const startMs = Date.now() - t0;
  if (check) {
    const why = check(port);
    if (why) {
      await stopTree(pid);
      return skip(name, why);
    }
  }
  await sleep(500);
  const rssIdle = treeRssKb(pid);
  let rssPeak = rssIdle;
  const sampler = setInterval(() => {
    const kb = treeRssKb(pid);
    if (kb > rssPeak) rssPeak = kb;
  }, 1000);
  const levels = opts.quick ? '0.9 0.7 0.5 0.3' : '1.0 0.9 0.8 0.7 0.6 0.5 0.4 0.3 0.2';
  const args = [
    join(KIT, 'bench-server.sh'), '--name', name, '--port', String(port), '--queries', queries,
    '--seconds', String(opts.seconds), '--runs', String(opts.runs), '--levels', levels, '--out', RAW,
    // The box is shared: do not wait long for quiet, at most one noise re-run; noise is reported per row.
    '--quiet-wait', opts.quick ? '3' : '15', '--max-reruns', opts.quick ? '0' : '1',
    ...(doBit ? ['--do'] : []), ...(opts.pin ? ['--pin'] : []),
    '--', 'echo', String(pid),
  ];
  const summary = await new Promise((res) => {
    const p = spawn('bash', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d) => (text += d));
    p.on('close', () => {
      const lines = text.trim().split('\n').reverse();
      for (const l of lines) {
        try {
          const j = JSON.parse(l);
          if (j.phase === 'summary') return res(j);
        } catch {
          /* not JSON */
        }
      }
      res(null);
    });
  });
  clearInterval(sampler);
  await stopTree(pid, 3000);
  if (!summary) return skip(name, 'bench-server.sh produced no summary');
  const row = {
    kind: 'server', name, port, do: doBit, pinned: opts.pin, queries, start_ms: startMs, load_before_cores: +load.toFixed(2),
    ceiling_qps: summary.ceiling_qps, ceiling_runs: summary.ceiling_runs, sustained_qps: summary.sustained_qps,
    sustained_lost_pct: summary.sustained_lost_pct, server_us_per_q: summary.server_us_per_q, server_cores: summary.server_cores,
    dnsperf_cores: summary.dnsperf_cores, other_cores_max: summary.other_cores_max, p50_ms: summary.lat_p50_ms, p99_ms: summary.lat_p99_ms,
    latency_at_qps: summary.latency_at_qps, rcodes: summary.rcodes, resp_bytes: summary.resp_bytes,
    rss_idle_mb: +(rssIdle / 1024).toFixed(1), rss_peak_mb: +(rssPeak / 1024).toFixed(1), ...(spec.extra ?? {}),
  };
  record(row);
  return row;
}

function skip(name, why) {
  say(`SKIP ${name}: ${why}`);
  const row = { kind: 'skip', name, reason: why };
  record(row);
  return row;
}

// ---------- tables ----------

const k = (x) => (x == null ? '–' : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : String(Math.round(x)));
const f = (x, d = 1) => (x == null ? '–' : Number(x).toFixed(d));

/** A markdown table under a heading; rows of kind 'skip' get a "skipped" line, the others `line(row)`. */
function table(title, headers, rows, line) {
  out(`### ${title}`);
  out();
  out(`| ${headers.join(' | ')} |`);
  out(`|${headers.map(() => '---|').join('')}`);
  for (const r of rows) out(r.kind === 'skip' ? `| ${r.name} | skipped: ${r.reason} |${' |'.repeat(headers.length - 2)}` : line(r));
}

function serverTable(title, rows) {
  table(title, ['server', 'ceiling qps (runs)', 'sustained qps <1% loss (loss %)', 'server µs/q', 'server cores', 'dnsperf cores', 'p50 / p99 ms @ qps', 'RSS idle / peak MB', 'noise: other cores max (before)'], rows, (r) =>
      `| ${r.name} | ${k(r.ceiling_qps)} (${(r.ceiling_runs ?? []).map(k).join(', ')}) | ${r.sustained_qps == null ? 'none passed' : `${k(r.sustained_qps)} (${f(r.sustained_lost_pct, 2)})`} | ${f(r.server_us_per_q)} | ${f(r.server_cores, 2)} | ${f(r.dnsperf_cores, 2)} | ${f(r.p50_ms, 3)} / ${f(r.p99_ms, 2)} @${k(r.latency_at_qps)} | ${f(r.rss_idle_mb, 0)} / ${f(r.rss_peak_mb, 0)} | ${f(r.other_cores_max, 2)} (${f(r.load_before_cores, 2)}) |`,
  );
  const ours = rows.find((r) => r.kind === 'server' && r.name.startsWith('apexdns'));
  const knot = rows.find((r) => r.kind === 'server' && r.name.startsWith('knot'));
  if (ours && knot) {
    out();
    out(
      `apexdns / knot: ceiling ${f((100 * ours.ceiling_qps) / knot.ceiling_qps, 0)} %, sustained ${ours.sustained_qps && knot.sustained_qps ? f((100 * ours.sustained_qps) / knot.sustained_qps, 0) + ' %' : '–'}, ` +
        `server µs/q ${f(ours.server_us_per_q / knot.server_us_per_q, 2)}× (targets: ≥ 50 % qps, ≤ 3× µs/q)`,
    );
  }
  out();
}

// ---------- sections ----------

async function unsignedSection() {
  const names = opts.names ?? 10000;
  const { zone, queries } = inputs(names, opts.count);
  const rows = [];
  if (selected(opts, 'apexdns')) {
    const cfg = apexConfig('apexdns-unsigned', PORTS.apexdns, zone, opts.workers);
    rows.push(
      await measure({
        name: `apexdns (workers ${opts.workers})`, port: PORTS.apexdns, queries,
        starter: [join(KIT, 'peers/generic.sh'), String(PORTS.apexdns), zone, 'unsigned', '--', ...apexCmd(cfg)],
        extra: { workers: opts.workers },
      }),
    );
  }
  if (selected(opts, 'knot')) {
    rows.push(which('knotd') ? await measure({ name: 'knot', port: PORTS.knot, queries, starter: [join(KIT, 'peers/knot.sh'), String(PORTS.knot), zone, 'unsigned'] }) : skip('knot', 'knotd not installed'));
  }
  if (selected(opts, 'nsd')) {
    rows.push(which('nsd') ? await measure({ name: 'nsd', port: PORTS.nsd, queries, starter: [join(KIT, 'peers/nsd.sh'), String(PORTS.nsd), zone, 'unsigned'] }) : skip('nsd', 'nsd not installed'));
  }
  if (selected(opts, 'pdns') && ensurePdns()) {
    rows.push(await measure({ name: 'pdns', port: PORTS.pdns, queries, starter: [join(KIT, 'peers/pdns.sh'), String(PORTS.pdns), zone, 'unsigned'] }));
  }
  serverTable(`Unsigned, mixed load (${names} hosts, ${opts.count} queries, ${opts.pin ? 'pinned: server CPU 0, dnsperf CPU 1' : 'unpinned'}, ${opts.seconds}s × ${opts.runs})`, rows);
}

let pdnsChecked = null;
function ensurePdns() {
  if (pdnsChecked !== null) return pdnsChecked;
  if (which('pdns_server') && which('pdnsutil')) return (pdnsChecked = true);
  if (!opts.install) {
    skip('pdns', 'PowerDNS not installed (run with --install to apt-get install pdns-server pdns-backend-bind)');
    return (pdnsChecked = false);
  }
  say('installing pdns-server pdns-backend-bind');
  const r = spawnSync('apt-get', ['install', '-y', 'pdns-server', 'pdns-backend-bind'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status === 0) {
    // The package starts its own pdns service on port 53; the bench runs its own instance.
    spawnSync('systemctl', ['stop', 'pdns'], { stdio: 'ignore' });
  }
  pdnsChecked = r.status === 0 && which('pdns_server');
  if (!pdnsChecked) skip('pdns', 'apt-get install pdns-server pdns-backend-bind failed');
  return pdnsChecked;
}

/** Why apexdns is not signing (null when DO answers carry RRSIG and NXDOMAIN/NODATA carry NSEC). */
function signingCheck(port) {
  const pos = dig(port, ['+dnssec', `host-0.${ORIGIN}`, 'A']);
  const neg = dig(port, ['+dnssec', `nx-probe-bench.${ORIGIN}`, 'A']);
  if (!pos.includes('RRSIG')) return 'live signing is not in yet: DO=1 answer for host-0 carries no RRSIG';
  if (!neg.includes('NSEC')) return 'live signing incomplete: DO=1 negative answer carries no NSEC';
  return null;
}

async function signedSection() {
  const names = opts.names ?? 10000;
  const { zone, queries } = inputs(names, opts.count);
  const flood = floodQueries(names, opts.count);
  for (const [label, qf] of [['mixed load, DO=1', queries], ['random-subdomain flood (every query a new nonexistent name), DO=1', flood]]) {
    const tag = qf === flood ? ' flood' : '';
    const rows = [];
    // compact (the default) and nsec3 make a fresh signature per nonexistent name; nsec serves the zone's NSEC chain
    // (what the kit's PowerDNS and Knot presign setups use), whose signatures come from the cache.
    for (const denial of selected(opts, 'apexdns') ? opts.denials : []) {
      const dir = join(WORK, `apexdns-signed-${denial}`);
      mkdirSync(join(dir, 'keys'), { recursive: true });
      const cfg = apexConfig(`apexdns-signed-${denial}`, PORTS.apexdns, zone, opts.workers, dnssecBlock(dir, denial));
      rows.push(
        await measure({
          name: `apexdns live ${denial} (workers ${opts.workers})${tag}`, port: PORTS.apexdns, queries: qf, doBit: true, check: signingCheck,
          starter: [join(KIT, 'peers/generic.sh'), String(PORTS.apexdns), zone, 'unsigned', '--', ...apexCmd(cfg)],
          extra: { workers: opts.workers, denial },
        }),
      );
    }
    if (selected(opts, 'knot')) {
      rows.push(which('knotd') ? await measure({ name: `knot online${tag}`, port: PORTS.knot, queries: qf, doBit: true, starter: [join(KIT, 'peers/knot.sh'), String(PORTS.knot), zone, 'online'] }) : skip('knot', 'knotd not installed'));
    }
    if (selected(opts, 'pdns') && ensurePdns()) {
      rows.push(await measure({ name: `pdns online${tag}`, port: PORTS.pdns, queries: qf, doBit: true, starter: [join(KIT, 'peers/pdns.sh'), String(PORTS.pdns), zone, 'online'] }));
    }
    serverTable(`Signed (online), ${label} (${opts.pin ? 'pinned' : 'unpinned'}, ${opts.seconds}s × ${opts.runs})`, rows);
  }
}

/** Start apexdns directly (not through the kit) to time it from process start until it answers SOA. */
async function startTimed(config, port, logFile, nodeArgs = []) {
  const t0 = performance.now();
  const [cmd, ...args] = apexCmd(config, nodeArgs);
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const chunks = [];
  p.stdout.on('data', (d) => chunks.push(d));
  p.stderr.on('data', (d) => chunks.push(d));
  const flush = () => writeFileSync(logFile, Buffer.concat(chunks));
  live.add(p.pid);
  let peak = 0;
  for (;;) {
    if (p.exitCode !== null || !alive(p.pid)) {
      flush();
      throw new Error(`apexdns exited during startup (see ${logFile})`);
    }
    const kb = treeRssKb(p.pid);
    if (kb > peak) peak = kb;
    const serial = await soaSerial(port, 200);
    if (serial !== null) return { pid: p.pid, proc: p, readyMs: performance.now() - t0, peakKb: peak, serial, flush };
    if (performance.now() - t0 > 300000) {
      flush();
      throw new Error('apexdns did not answer SOA within 300 s');
    }
    await sleep(50);
  }
}

/** Run dnsperf through the kit's run-dnsperf.sh (one JSON line). */
function dnsperfRun(port, queries, secs, env) {
  return new Promise((res) => {
    const p = spawn('bash', [join(KIT, 'run-dnsperf.sh'), String(port), queries, String(secs)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let text = '';
    p.stdout.on('data', (d) => (text += d));
    p.on('close', () => {
      try {
        res(JSON.parse(text.trim().split('\n').pop()));
      } catch {
        res(null);
      }
    });
  });
}

async function scaleSection() {
  const names = opts.names ?? 500000;
  const count = opts.quick ? 200000 : 500000;
  const { zone: srcZone, queries } = inputs(names, count);
  const zoneLines = readFileSync(srcZone, 'utf8').split('\n').filter((l) => l && !l.startsWith(';') && !l.startsWith('$')).length;
  const secs = opts.quick ? 12 : 20;
  const rows = [];
  for (const workers of [1, 'auto']) {
    const name = `apexdns-scale-w${workers}`;
    const dir = join(WORK, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // A private copy: the reload test edits its SOA serial.
    const zone = join(dir, 'bench.test.zone');
    writeFileSync(zone, readFileSync(srcZone));
    const cfg = apexConfig(name, PORTS.scale, zone, workers);
    say(`=== scale: ${zoneLines} records, workers ${workers}: starting`);
    const load = await machineLoad();
    let s;
    try {
      s = await startTimed(cfg, PORTS.scale, join(dir, 'server.log'));
    } catch (e) {
      rows.push(skip(name, e.message));
      continue;
    }
    await sleep(2000);
    const rssReady = treeRssKb(s.pid);
    const procs = tree(s.pid).length;
    say(`ready after ${(s.readyMs / 1000).toFixed(2)} s, RSS ${(rssReady / 1024).toFixed(0)} MB over ${procs} processes`);
    // Warm-up (JIT, answer cache, the GC of the load's garbage), then a baseline: the same steady load without a
    // reload (the box's own loss floor).
    await dnsperfRun(PORTS.scale, queries, 3, { SERVER_PID: String(s.pid), TAG: `${name}-warmup` });
    const env = { SERVER_PID: String(s.pid), QPS: String(opts.scaleQps), TAG: name };
    const base = await dnsperfRun(PORTS.scale, queries, secs, env);
    // Reload: bump the serial (a real re-parse; unchanged files are skipped), SIGHUP after 3 s of load.
    const text = readFileSync(zone, 'utf8');
    const newSerial = s.serial + 1;
    writeFileSync(zone + '.new', text.replace(` ${s.serial} `, ` ${newSerial} `));
    renameSync(zone + '.new', zone);
    let rssPeak = rssReady;
    const sampler = setInterval(() => {
      const kb = treeRssKb(s.pid);
      if (kb > rssPeak) rssPeak = kb;
    }, 250);
    const perf = dnsperfRun(PORTS.scale, queries, secs, env);
    await sleep(3000);
    const hupAt = performance.now();
    process.kill(s.pid, 'SIGHUP');
    let reloadMs = null;
    // Keep polling after the load ends: a long re-parse still gets its duration reported (up to 5 minutes).
    while (performance.now() - hupAt < 300000) {
      const serial = await soaSerial(PORTS.scale, 200);
      // With several workers each one swaps on its own: wait until some worker answers with the new serial.
      if (serial === newSerial) {
        reloadMs = performance.now() - hupAt;
        break;
      }
      await sleep(50);
    }
    const during = await perf;
    clearInterval(sampler);
    const rssAfter = treeRssKb(s.pid);
    await stopTree(s.pid);
    s.flush();
    const row = {
      kind: 'scale', name, workers, records: zoneLines, zone_bytes: statSync(srcZone).size, load_before_cores: +load.toFixed(2),
      ready_ms: Math.round(s.readyMs), rss_ready_mb: +(rssReady / 1024).toFixed(0), rss_start_peak_mb: +(s.peakKb / 1024).toFixed(0), processes: procs,
      reload_ms: reloadMs === null ? null : Math.round(reloadMs), rss_reload_peak_mb: +(rssPeak / 1024).toFixed(0), rss_after_mb: +(rssAfter / 1024).toFixed(0),
      load_qps: opts.scaleQps, baseline: base && { sent: base.sent, lost: base.lost, lost_pct: base.lost_pct, qps: base.qps, other_cores: base.other_cores, server_us_per_q: base.server_us_per_q },
      reload: during && { sent: during.sent, expected: opts.scaleQps * secs, lost: during.lost, lost_pct: during.lost_pct, qps: during.qps, other_cores: during.other_cores, avg_ms: during.avg_ms, max_ms: during.max_ms },
    };
    record(row);
    rows.push(row);
  }
  table(
    `Scale: ${zoneLines} records (${names} hosts × A+AAAA + CNAMEs), load time and SIGHUP reload under ${opts.scaleQps} qps`,
    ['workers', 'processes', 'ready (start → SOA answered)', 'RSS MB (sum): load peak / ready+2 s / reload peak / after reload', 'reload (SIGHUP → new serial)', 'during reload: sent of planned, lost', 'lost, same load, no reload', 'latency during reload avg / max ms', 'noise: other cores (reload run)'],
    rows,
    (r) =>
      `| ${r.workers} | ${r.processes} | ${f(r.ready_ms / 1000, 2)} s | ${r.rss_start_peak_mb} / ${r.rss_ready_mb} / ${r.rss_reload_peak_mb} / ${r.rss_after_mb} | ${r.reload_ms === null ? 'not seen' : f(r.reload_ms / 1000, 2) + ' s'} | ${r.reload ? `${r.reload.sent} of ${r.reload.expected}, lost ${r.reload.lost} (${f(r.reload.lost_pct, 2)} %)` : '–'} | ${r.baseline ? `${r.baseline.lost} of ${r.baseline.sent} (${f(r.baseline.lost_pct, 2)} %)` : '–'} | ${r.reload ? `${f(r.reload.avg_ms, 1)} / ${f(r.reload.max_ms, 0)}` : '–'} | ${r.reload ? f(r.reload.other_cores, 2) : '–'} |`,
  );
  out();
  out('Targets: load < 15 s, RSS < 1.5 GB total. dnsperf keeps at most 2000 queries outstanding, so a stalled server shows up as fewer queries sent and high latency rather than loss.');
  out();
}

/** Aggregate a .cpuprofile into self time per function. */
function topFrames(profileFile, n = 30) {
  const p = JSON.parse(readFileSync(profileFile, 'utf8'));
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map();
  const dt = p.timeDeltas ?? [];
  let total = 0;
  p.samples.forEach((id, i) => {
    const node = byId.get(id);
    const us = dt[i + 1] ?? dt[i] ?? 0;
    total += us;
    const c = node.callFrame;
    const file = c.url ? c.url.replace(/^file:\/\//, '').replace(ROOT + '/', '') : '';
    const key = `${c.functionName || '(anonymous)'} ${file ? `${file}:${c.lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + us);
  });
  return { totalMs: total / 1000, frames: [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([key, us]) => ({ frame: key, self_ms: +(us / 1000).toFixed(1), pct: +((100 * us) / total).toFixed(1) })) };
}

async function profileSection(signed) {
  const names = opts.names ?? 10000;
  const { zone, queries } = inputs(names, opts.count);
  const name = signed ? 'apexdns-profile-signed' : 'apexdns-profile';
  const dir = join(WORK, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'prof'), { recursive: true });
  const denial = opts.denials[0];
  const cfg = apexConfig(name, PORTS.profile, zone, 1, signed ? dnssecBlock(dir, denial) : '');
  say(`=== profile: apexdns workers 1 under closed-loop dnsperf with --cpu-prof${signed ? `, live signing (${denial}), DO=1` : ''}`);
  const s = await startTimed(cfg, PORTS.profile, join(dir, 'server.log'), ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'prof')}`]);
  const secs = opts.quick ? 10 : 20;
  const r = await dnsperfRun(PORTS.profile, queries, secs, { SERVER_PID: String(s.pid), TAG: name, ...(signed ? { DO: '1' } : {}) });
  await stopTree(s.pid, 20000);
  s.flush();
  const files = readdirSync(join(dir, 'prof')).filter((x) => x.endsWith('.cpuprofile'));
  if (files.length === 0) {
    skip('profile', `no .cpuprofile written in ${join(dir, 'prof')} (did the server exit cleanly on SIGTERM?)`);
    return;
  }
  const top = topFrames(join(dir, 'prof', files[0]));
  record({ kind: 'profile', signed, ...(signed ? { denial } : {}), dnsperf: r, profile: join(dir, 'prof', files[0]), ...top });
  out(`### Profile: apexdns (1 worker${signed ? `, live signing (${denial}), DO=1` : ''}) under closed-loop dnsperf, ${secs}s, ${k(r?.qps)} qps, ${f(r?.server_us_per_q)} µs/q (profiler on), other cores ${f(r?.other_cores, 2)}`);
  out();
  out(`Self time, top frames of ${f(top.totalMs / 1000, 1)} s sampled (${join(dir, 'prof', files[0])}):`);
  out();
  out('| % | self ms | frame |');
  out('|---|---|---|');
  for (const x of top.frames) out(`| ${x.pct} | ${x.self_ms} | \`${x.frame}\` |`);
  out();
}

// ---------- main ----------

/** Flattened apex from the flattening cache vs plain A, in-process CPU per query (bench/shaping.mjs). */
async function shapingSection() {
  const { shapingBench } = await import('./shaping.mjs');
  const rows = await shapingBench();
  table('Answer shaping: flattened apex answered from the flattening cache vs a plain A answer (in-process CPU per query)',
    ['encoded-answer cache', 'plain A µs/q', 'flattened apex µs/q', 'ratio (target ≤ 1.2)'], rows,
    (r) => `| ${r.cache} | ${r.plainUs.toFixed(2)} | ${r.flatUs.toFixed(2)} | ${r.ratio.toFixed(2)}× |`);
  out();
}

/** A section measured by its own script (bench/flood.mjs, bench/caches.mjs): its Markdown goes into the report. */
function scriptSection(name) {
  const args = name === 'caches' ? (opts.quick ? ['--queries', '100000'] : []) : ['--seconds', String(opts.quick ? 5 : 10), ...(opts.workers ? ['--workers', String(opts.workers)] : [])];
  say(`=== ${name}: node bench/${name}.mjs ${args.join(' ')}`);
  const r = spawnSync('node', [join(ROOT, 'bench', `${name}.mjs`), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of r.stdout.trimEnd().split('\n')) out(line);
  out();
  if (r.status !== 0) say(`${name} section failed (exit ${r.status})`);
}

async function main() {
  const onSignal = async () => {
    for (const pid of [...live]) await stopTree(pid, 2000);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  out(`## apexdns benchmark ${RUN_ID}`);
  out();
  out(`Sections: ${opts.sections.join(', ')}${opts.quick ? ' (quick)' : ''}. Machine: ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at start. Raw dnsperf runs: ${RAW}.`);
  out();
  for (const s of opts.sections) {
    if (s === 'unsigned') await unsignedSection();
    else if (s === 'signed') await signedSection();
    else if (s === 'scale') await scaleSection();
    else if (s === 'profile') await profileSection(false);
    else if (s === 'profile-signed') await profileSection(true);
    else if (s === 'shaping') await shapingSection();
    else if (s === 'flood' || s === 'tcp-hold' || s === 'caches') scriptSection(s);
  }
  writeFileSync(MD, md.join('\n') + '\n');
  say(`results: ${MD}, ${JSONL}`);
}

main()
  .catch((e) => {
    process.stderr.write(`[bench] ${e.stack ?? e}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const pid of [...live]) await stopTree(pid, 2000);
  });
