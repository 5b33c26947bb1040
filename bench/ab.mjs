#!/usr/bin/env node
// A/B of two apexdns builds under the same load, interleaved to cancel the shared box's drift:
//   node bench/ab.mjs --a bench/data/distA --b dist [--rounds 4] [--seconds 8] [--workers 1] [--names 10000] [--do]
//   --qps Q: open loop at Q qps (dnsperf -Q, -q 2000) instead of closed loop; compare lost %.
//   --wa N / --wb N: workers for side A / B only (e.g. --a dist --b dist --wa 1 --wb 2 compares worker counts)
//   --dnssec D: serve the zone live-signed with denial D (compact | nsec3 | nsec); implies --do.
//   --na 'FLAGS' / --nb 'FLAGS': extra node options for side A / B only (e.g. --nb '--max-semi-space-size=64').
//   --xa 'YAML' / --xb 'YAML': extra top-level config for side A / B only (e.g. --xa 'analytics: { enabled: false }').
// Both servers run side by side (idle one costs nothing); each round runs the kit's run-dnsperf.sh (closed loop) on A
// then on B. Prints per-round qps and server µs/q and the medians. Copy a build first: cp -r dist bench/data/distA.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KIT = process.env.APEXDNS_BENCH_KIT || '/work/shared/bench';
const a = { a: 'bench/data/distA', b: 'dist', rounds: 4, seconds: 8, workers: 1, wa: 0, wb: 0, qps: 0, names: 10000, do: false, dnssec: '', na: '', nb: '', xa: '', xb: '' };
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i].replace(/^--/, '');
  if (k === 'do') a.do = true;
  else if (k in a) {
    const v = process.argv[++i];
    a[k] = typeof a[k] === 'number' && v !== 'auto' ? Number(v) : v;
  }
  else {
    console.error(`unknown option ${process.argv[i]}`);
    process.exit(2);
  }
}
const zone = join(ROOT, `bench/data/bench-${a.names}.zone`);
const queries = join(ROOT, `bench/data/queries-${a.names}-200000.txt`);
if (!existsSync(zone)) spawnSync(process.execPath, [join(KIT, 'gen-zone.mjs'), '--names', String(a.names), '--out', zone], { stdio: 'inherit' });
if (!existsSync(queries)) spawnSync(process.execPath, [join(KIT, 'gen-queries.mjs'), '--names', String(a.names), '--count', '200000', '--out', queries], { stdio: 'inherit' });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const servers = {};
for (const [tag, port] of [['a', 5397], ['b', 5398]]) {
  const dir = `/tmp/apexdns-bench/ab-${tag}`;
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, 'apexdns.yaml');
  const workers = (tag === 'a' ? a.wa : a.wb) || a.workers;
  const signing = a.dnssec ? `    dnssec: { state: active, denial: ${a.dnssec}, keys: ${join(dir, 'keys')} }\n` : '';
  writeFileSync(cfg, `listen: ["127.0.0.1:${port}"]\nworkers: ${workers}\nstate-dir: ${join(dir, 'var')}\nlog:\n  level: warn\n${tag === 'a' ? a.xa : a.xb}\nzones:\n  - name: bench.test\n    file: ${zone}\n${signing}`);
  const nodeArgs = (tag === 'a' ? a.na : a.nb).split(' ').filter(Boolean);
  const p = spawn('node', [...nodeArgs, join(resolve(ROOT, a[tag]), 'cli/main.js'), 'serve', '--config', cfg], { stdio: 'inherit' });
  servers[tag] = { p, port, runs: [] };
}
await sleep(3000);

function run(tag) {
  const s = servers[tag];
  return new Promise((res) => {
    const p = spawn('bash', [join(KIT, 'run-dnsperf.sh'), String(s.port), queries, String(a.seconds)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, SERVER_PID: String(s.p.pid), TAG: `ab-${tag}`, DO: a.do || a.dnssec ? '1' : '0', ...(a.qps > 0 ? { QPS: String(a.qps) } : {}) },
    });
    let t = '';
    p.stdout.on('data', (d) => (t += d));
    p.on('close', () => res(JSON.parse(t.trim().split('\n').pop())));
  });
}

try {
  for (const tag of ['a', 'b']) await run(tag); // warm-up (JIT, answer cache)
  for (let r = 0; r < a.rounds; r++) {
    for (const tag of r % 2 === 0 ? ['a', 'b'] : ['b', 'a']) servers[tag].runs.push(await run(tag));
  }
} finally {
  for (const s of Object.values(servers)) s.p.kill('SIGTERM');
}
const med = (x) => [...x].sort((p, q) => p - q)[Math.floor((x.length - 1) / 2)];
for (const tag of ['a', 'b']) {
  const r = servers[tag].runs;
  console.log(`${tag} (${a[tag]}): qps ${r.map((x) => x.qps).join(' ')} | lost % ${r.map((x) => x.lost_pct).join(' ')} | µs/q ${r.map((x) => x.server_us_per_q).join(' ')} | other cores ${r.map((x) => x.other_cores).join(' ')} | median qps ${med(r.map((x) => x.qps))}, µs/q ${med(r.map((x) => x.server_us_per_q))}`);
}
