// What per-worker caches cost (issue 12 point 8): the same query stream sent to apexdns with 1 and with 2 workers
// on a live-signed zone, then each worker's answer-cache and signature-cache figures and RSS from its "cache stats"
// line at shutdown. Usage: npm run build && node bench/caches.mjs [--names 20000] [--queries 300000] [--sockets 64]

import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { opt, rng } from './util.mjs';
import dnsPacket from 'dns-packet';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const arg = (name, dflt) => Number(opt(name, dflt));
const NAMES = arg('names', 20_000);
const QUERIES = arg('queries', 300_000);
const SOCKETS = arg('sockets', 64);
const WINDOW = 256;
const ORIGIN = 'bench.example';


function zoneText() {
  const out = [`$ORIGIN ${ORIGIN}.`, '$TTL 3600', '@ SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 127.0.0.1'];
  for (let i = 0; i < NAMES; i++) out.push(`host-${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `host-${i} TXT "h${i}"`);
  return out.join('\n') + '\n';
}

/** The query stream: names by a Zipf-like law (s ≈ 1) over the hosts, A/AAAA/TXT, 5 % nonexistent names; DO=1. */
function queries() {
  const r = rng(12345);
  const types = ['A', 'A', 'A', 'AAAA', 'TXT'];
  const list = [];
  const logN = Math.log(NAMES + 1);
  for (let i = 0; i < QUERIES; i++) {
    const name = r() < 0.05 ? `nx-${Math.floor(r() * 1e9)}.${ORIGIN}` : `host-${Math.floor(Math.exp(r() * logN)) - 1}.${ORIGIN}`;
    list.push({ name, type: types[Math.floor(r() * types.length)] });
  }
  return list;
}

async function drive(port, list) {
  const socks = await Promise.all(Array.from({ length: SOCKETS }, () => new Promise((res) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => res(s));
  })));
  let next = 0;
  let answered = 0;
  let lost = 0;
  await new Promise((done) => {
    let inflight = 0;
    const pending = new Map();
    const send = () => {
      while (inflight < WINDOW && next < list.length) {
        const i = next++;
        const id = i & 0xffff;
        const q = list[i];
        const s = socks[i % SOCKETS];
        const bytes = dnsPacket.encode({ id, type: 'query', flags: 0, questions: [{ name: q.name, type: q.type }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnsPacket.DNSSEC_OK }] });
        const key = `${i % SOCKETS}:${id}`;
        inflight++;
        pending.set(key, setTimeout(() => { pending.delete(key); inflight--; lost++; finish(); }, 2000));
        s.send(bytes, port, '127.0.0.1');
      }
    };
    const finish = () => {
      if (next >= list.length && inflight === 0) done();
      else send();
    };
    socks.forEach((s, si) => s.on('message', (m) => {
      const key = `${si}:${m.readUInt16BE(0)}`;
      const t = pending.get(key);
      if (t === undefined) return;
      clearTimeout(t);
      pending.delete(key);
      inflight--;
      answered++;
      finish();
    }));
    send();
  });
  for (const s of socks) s.close();
  return { answered, lost };
}

async function run(workers, dir, list) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const cfg = join(dir, `w${workers}.yaml`);
  writeFileSync(cfg, [
    `listen: ["127.0.0.1:${port}"]`, `workers: ${workers}`, `zones-dir: ${dir}`, `state-dir: ${join(dir, `state${workers}`)}`,
    'log: { level: info }', 'rrl: { responses-per-second: 0 }',
    'zones:', `  - name: ${ORIGIN}`, `    file: ${join(dir, 'bench.zone')}`,
    '    dnssec:', '      state: active', '      denial: nsec', `      keys: ${join(dir, 'keys')}`, '',
  ].join('\n'));
  const child = spawn('node', [join(ROOT, 'dist/cli/main.js'), 'serve', '--config', cfg], { stdio: ['ignore', 'pipe', 'inherit'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  const started = Date.now();
  while (!/"msg":"listening"/.test(log) || (log.match(/"msg":"listening"/g) ?? []).length < workers) {
    if (Date.now() - started > 60_000) throw new Error(`daemon did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const t0 = Date.now();
  const sent = await drive(port, list);
  const secs = (Date.now() - t0) / 1000;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const stats = log.split('\n').filter((l) => l.includes('"cache stats"')).map((l) => JSON.parse(l));
  return { workers, secs, ...sent, stats };
}

const pct = (a, b) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)} %`);
const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;

const dir = mkdtempSync(join(tmpdir(), 'apexdns-bench-caches-'));
try {
  writeFileSync(join(dir, 'bench.zone'), zoneText());
  const list = queries();
  console.log(`caches bench: ${NAMES} names (A+TXT, live NSEC signing), ${QUERIES} queries (Zipf names, 5 % NXDOMAIN, DO=1) from ${SOCKETS} source ports`);
  console.log('| workers | answered | answer-cache hit rate | answer-cache misses | answer entries (sum) | sig-cache hit rate | sig-cache misses | sig-cache bytes (sum) | RSS (sum) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const w of [1, 2]) {
    const r = await run(w, dir, list);
    const sum = (f) => r.stats.reduce((a, s) => a + (f(s) ?? 0), 0);
    const ah = sum((s) => s.answerCache.hits);
    const am = sum((s) => s.answerCache.misses);
    const sh = sum((s) => s.signatureCache?.hits);
    const sm = sum((s) => s.signatureCache?.misses);
    console.log(`| ${w} | ${r.answered} (lost ${r.lost}) | ${pct(ah, ah + am)} | ${am} | ${sum((s) => s.answerCache.entries)} | ${pct(sh, sh + sm)} | ${sm} | ${mb(sum((s) => s.signatureCache?.bytes))} | ${mb(sum((s) => s.rssBytes))} |`);
    for (const s of r.stats) console.log(`|   pid ${s.pid} | | ${pct(s.answerCache.hits, s.answerCache.hits + s.answerCache.misses)} | ${s.answerCache.misses} | ${s.answerCache.entries} | ${pct(s.signatureCache?.hits ?? 0, (s.signatureCache?.hits ?? 0) + (s.signatureCache?.misses ?? 0))} | ${s.signatureCache?.misses} | ${mb(s.signatureCache?.bytes ?? 0)} | ${mb(s.rssBytes)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
