// What 1,000 idle TCP connections plus 100 slow-loris clients (one byte every 5 s) cost UDP service (issue 15):
// closed-loop dnsperf UDP throughput against apexdns with and without them held open, and whether new TCP clients
// are answered meanwhile. Usage: npm run build && node bench/tcp-hold.mjs [--seconds 10] [--rounds 3] [--workers 2]

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { opt } from './util.mjs';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const SECONDS = Number(opt('seconds', 10));
const WORKERS = opt('workers', '2');
const ORIGIN = 'hold.example';

function dnsperf(port, file) {
  const r = spawnSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(SECONDS), '-c', '4', '-q', '200', '-t', '2'], { encoding: 'utf8' });
  return Number((/Queries per second:\s+([\d.]+)/.exec(r.stdout) ?? [])[1] ?? NaN);
}

function hold(port, from, slow) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    s.on('error', () => undefined);
    s.on('connect', () => {
      if (slow) {
        s.write(Buffer.from([0]));
        const t = setInterval(() => s.write(Buffer.from([40])), 5000);
        s.on('close', () => clearInterval(t));
      }
      resolve(s);
    });
  });
}

/** One query over a new connection: true when answered within 2 s. */
function newClient(port, from) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    const q = Buffer.from('0007000000010000000000000377777704686f6c64076578616d706c650000010001', 'hex');
    const t = setTimeout(() => { s.destroy(); resolve(false); }, 2000);
    s.on('error', () => { clearTimeout(t); resolve(false); });
    s.on('connect', () => s.write(Buffer.concat([Buffer.from([0, q.length]), q])));
    s.on('data', () => { clearTimeout(t); s.destroy(); resolve(true); });
  });
}

if (spawnSync('dnsperf', ['-h'], { stdio: 'ignore' }).error) {
  console.log('tcp-hold bench: dnsperf not installed (apt-get install dnsperf); skipped');
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'apexdns-bench-tcp-hold-'));
const held = [];
let server;
try {
  const zone = [`$ORIGIN ${ORIGIN}.`, '$TTL 3600', '@ SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 127.0.0.1', 'www A 192.0.2.1'];
  for (let i = 0; i < 1000; i++) zone.push(`host-${i} A 10.0.${i >> 8}.${i & 255}`);
  writeFileSync(join(dir, 'hold.zone'), zone.join('\n') + '\n');
  const q = [];
  for (let i = 0; i < 100_000; i++) q.push(`host-${i % 1000}.${ORIGIN} A`);
  writeFileSync(join(dir, 'q.txt'), q.join('\n') + '\n');
  const port = 22000 + Math.floor(Math.random() * 20000);
  writeFileSync(join(dir, 'c.yaml'), [`listen: ["127.0.0.1:${port}"]`, `workers: ${WORKERS}`, `zones-dir: ${dir}`, `state-dir: ${join(dir, 'state')}`, 'log: { level: warn }', 'rrl: { responses-per-second: 0 }', 'tcp: { idle-timeout-ms: 120000 }', 'zones:', `  - name: ${ORIGIN}`, `    file: ${join(dir, 'hold.zone')}`, ''].join('\n'));
  server = spawn('node', [join(ROOT, 'dist/cli/main.js'), 'serve', '--config', join(dir, 'c.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 100 && spawnSync('dig', ['+short', '+time=1', '+tries=1', '-p', String(port), '@127.0.0.1', ORIGIN, 'SOA'], { encoding: 'utf8' }).stdout.trim() === ''; i++) await new Promise((r) => setTimeout(r, 200));
  dnsperf(port, join(dir, 'q.txt')); // warm-up
  // Interleaved rounds (without, with), so that other load on the machine hits both alike.
  const ROUNDS = Number(opt('rounds', 3));
  const without = [];
  const withHeld = [];
  let answered = 0;
  let open = 0;
  for (let round = 0; round < ROUNDS; round++) {
    without.push(dnsperf(port, join(dir, 'q.txt')));
    for (let i = 0; i < 1100; i += 50) held.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => hold(port, `127.0.${i + k < 1000 ? 10 : 20}.${1 + Math.floor((i + k) / 40)}`, i + k >= 1000)))));
    // dnsperf runs in another process, so this one keeps the slow-loris bytes going meanwhile.
    withHeld.push(await new Promise((resolve) => {
      const p = spawn('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', join(dir, 'q.txt'), '-l', String(SECONDS), '-c', '4', '-q', '200', '-t', '2'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.on('exit', () => resolve(Number((/Queries per second:\s+([\d.]+)/.exec(out) ?? [])[1] ?? NaN)));
    }));
    for (let i = 0; i < 50; i++) if (await newClient(port, `127.0.30.${1 + i}`)) answered++;
    open = held.filter((s) => !s.destroyed && s.readyState === 'open').length;
    for (const s of held.splice(0)) s.destroy();
    await new Promise((r) => setTimeout(r, 1000));
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const before = median(without);
  const during = median(withHeld);
  console.log(`tcp-hold bench: ${WORKERS} workers, closed-loop dnsperf UDP (4 clients × 200 outstanding), ${SECONDS} s × ${ROUNDS} interleaved rounds (medians)`);
  console.log('| UDP q/s without | UDP q/s with 1,000 idle + 100 slow-loris TCP | change | rounds without / with | new TCP clients answered | quiet connections still open |');
  console.log('|---|---|---|---|---|---|');
  console.log(`| ${before.toFixed(0)} | ${during.toFixed(0)} | ${(((during - before) / before) * 100).toFixed(1)} % | ${without.map((x) => x.toFixed(0)).join(', ')} / ${withHeld.map((x) => x.toFixed(0)).join(', ')} | ${answered} / ${50 * ROUNDS} | ${open} / 1100 |`);
} finally {
  for (const s of held) s.destroy();
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
}
