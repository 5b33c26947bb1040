// Random-subdomain flood on a live-signed zone (issue 15): real-name throughput with and without a flood nine times
// its rate (a 90 % flood / 10 % real mix), with the signing budget at its default and turned off. Two dnsperf
// processes run side by side, open loop: one asks existing names, the other new nonexistent names, both DO=1.
// Usage: npm run build && node bench/flood.mjs [--real-qps 5000] [--flood-qps 45000] [--seconds 10] [--workers 2]
//   [--denial compact|nsec3|nsec]

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { opt, rng } from './util.mjs';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const REAL_QPS = Number(opt('real-qps', 5000));
const SECONDS = Number(opt('seconds', 10));
const WORKERS = opt('workers', '2');
const DENIAL = opt('denial', 'compact');
const FLOOD_QPS = Number(opt('flood-qps', 9 * REAL_QPS));
const NAMES = 10_000;
const ORIGIN = 'flood.example';


function files(dir) {
  const zone = [`$ORIGIN ${ORIGIN}.`, '$TTL 3600', '@ SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 127.0.0.1'];
  for (let i = 0; i < NAMES; i++) zone.push(`host-${i} A 10.0.${(i >> 8) & 255}.${i & 255}`, `host-${i} AAAA 2001:db8::${i.toString(16)}`);
  writeFileSync(join(dir, 'flood.zone'), zone.join('\n') + '\n');
  const r = rng(7);
  const real = [];
  for (let i = 0; i < 200_000; i++) real.push(`host-${Math.floor(r() * NAMES)}.${ORIGIN} ${r() < 0.7 ? 'A' : 'AAAA'}`);
  writeFileSync(join(dir, 'real.txt'), real.join('\n') + '\n');
  const flood = [];
  for (let i = 0; i < 2_000_000; i++) flood.push(`${Math.floor(r() * 2 ** 48).toString(36)}.${ORIGIN} A`);
  writeFileSync(join(dir, 'flood.txt'), flood.join('\n') + '\n');
}

async function startServer(dir, port, budget) {
  const cfg = join(dir, `apexdns-${port}.yaml`);
  writeFileSync(cfg, [
    `listen: ["127.0.0.1:${port}"]`, `workers: ${WORKERS}`, `zones-dir: ${dir}`, `state-dir: ${join(dir, `state-${port}`)}`,
    'log: { level: warn }', 'rrl: { responses-per-second: 0 }', `signing-budget: { per-second: ${budget} }`,
    'zones:', `  - name: ${ORIGIN}`, `    file: ${join(dir, 'flood.zone')}`,
    '    dnssec:', '      state: active', `      denial: ${DENIAL}`, `      keys: ${join(dir, 'keys')}`, '',
  ].join('\n'));
  const child = spawn('node', [join(ROOT, 'dist/cli/main.js'), 'serve', '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 300; i++) {
    const r = spawnSync('dig', ['+short', '+time=1', '+tries=1', '-p', String(port), '@127.0.0.1', ORIGIN, 'SOA'], { encoding: 'utf8' });
    if (r.stdout.trim().length > 0) return child;
    await new Promise((res) => setTimeout(res, 200));
  }
  child.kill('SIGKILL');
  throw new Error('apexdns did not start');
}

/** One dnsperf run in the background; resolves with its completed/lost/qps figures. */
function dnsperf(port, file, qps, seconds) {
  return new Promise((resolve) => {
    const p = spawn('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-c', '4', '-q', '2000', '-t', '2', '-Q', String(qps), '-D'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', () => {
      const num = (re) => Number((re.exec(out) ?? [])[1] ?? NaN);
      resolve({ completed: num(/Queries completed:\s+(\d+)/), lost: num(/Queries lost:\s+(\d+)/), qps: num(/Queries per second:\s+([\d.]+)/), latency: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000 });
    });
  });
}

async function scenario(dir, port, budget, withFlood) {
  const server = await startServer(dir, port, budget);
  try {
    await dnsperf(port, join(dir, 'real.txt'), REAL_QPS, 3); // warm the caches
    const [real, flood] = await Promise.all([
      dnsperf(port, join(dir, 'real.txt'), REAL_QPS, SECONDS),
      withFlood ? dnsperf(port, join(dir, 'flood.txt'), FLOOD_QPS, SECONDS) : Promise.resolve(undefined),
    ]);
    return { real, flood };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

if (spawnSync('dnsperf', ['-h'], { stdio: 'ignore' }).error) {
  console.log('flood bench: dnsperf not installed (apt-get install dnsperf); skipped');
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'apexdns-bench-flood-'));
try {
  files(dir);
  const base = 21000 + Math.floor(Math.random() * 20000);
  console.log(`flood bench: ${WORKERS} workers, ${DENIAL} denial, ${NAMES} names; real names at ${REAL_QPS} q/s, flood of new names offered at ${FLOOD_QPS} q/s${FLOOD_QPS === 9 * REAL_QPS ? ' (90 %)' : ''}, DO=1, ${SECONDS} s, open loop`);
  console.log('| scenario | real answered q/s | real lost | real avg latency | flood answered q/s | flood lost | real vs no flood |');
  console.log('|---|---|---|---|---|---|---|');
  const runs = [
    ['no flood', 4000, false],
    ['flood, signing-budget 4000 (default)', 4000, true],
    ['flood, signing-budget 0 (unlimited)', 0, true],
  ];
  let baseline = 0;
  for (const [label, budget, withFlood] of runs) {
    const r = await scenario(dir, base + runs.findIndex((x) => x[0] === label), budget, withFlood);
    if (!withFlood) baseline = r.real.qps;
    const f = r.flood;
    console.log(`| ${label} | ${r.real.qps.toFixed(0)} | ${r.real.lost} | ${r.real.latency.toFixed(2)} ms | ${f ? f.qps.toFixed(0) : '-'} | ${f ? f.lost : '-'} | ${((100 * r.real.qps) / baseline).toFixed(1)} % |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
