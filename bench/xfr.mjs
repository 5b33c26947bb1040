#!/usr/bin/env node
// Zone-transfer scale bench: full AXFR of a ~1,000,000-record zone (records/s) and an IXFR carrying one change
// (latency), measured against the built daemon (dist/cli/main.js) while a background UDP query load runs.
//
//   npm run build && node bench/xfr.mjs [--names 500000] [--port N (default: a free one)] [--runs 3] [--keep]
//
// Targets (issue 5, "Scale"): AXFR >= 200,000 records/s; IXFR of one change < 50 ms; queries keep being answered.
// Results: a short report on stdout and one JSON line appended to bench/results/xfr.jsonl.

import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import dgram from 'node:dgram';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GEN = '/work/shared/bench/gen-zone.mjs';
const ORIGIN = 'bench.test.';

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}
const NAMES = Number(arg('names', 500000));
let PORT = Number(arg('port', 0));
const RUNS = Number(arg('runs', 3));
const KEEP = arg('keep', false) === true;
const WORK = `/tmp/apexdns-xfr-bench-${NAMES}`;
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');

if (!existsSync(MAIN)) {
  process.stderr.write(`bench/xfr: ${MAIN} missing; run npm run build first\n`);
  process.exit(2);
}

// ----- wire helpers (just enough DNS to frame, count and terminate a transfer) ----------------------------------

function nameBytes(name) {
  const parts = name.replace(/\.$/, '').split('.').filter((p) => p.length > 0);
  const out = [];
  for (const p of parts) out.push(p.length, ...Buffer.from(p, 'ascii'));
  out.push(0);
  return Buffer.from(out);
}

/** AXFR (RFC 5936) or IXFR (RFC 1995 §3: client SOA in the authority section) request. */
function xfrQuery(id, zone, ixfrSerial) {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(1, 4);
  if (ixfrSerial !== undefined) h.writeUInt16BE(1, 8);
  const q = Buffer.concat([nameBytes(zone), Buffer.from([0, ixfrSerial !== undefined ? 251 : 252, 0, 1])]);
  if (ixfrSerial === undefined) return Buffer.concat([h, q]);
  const rd = Buffer.alloc(22);
  rd.writeUInt32BE(ixfrSerial >>> 0, 2);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(6, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt16BE(22, 8);
  return Buffer.concat([h, q, Buffer.from([0xc0, 12]), fixed, rd]);
}

function skipName(b, off) {
  for (;;) {
    const l = b[off];
    if (l === 0) return off + 1;
    if ((l & 0xc0) === 0xc0) return off + 2;
    off += l + 1;
  }
}

/**
 * Run one AXFR/IXFR over TCP; resolves with { records, messages, bytes, ms, firstMs, kind }. The end is detected
 * from the records themselves (RFC 5936 §2.2 closing SOA; RFC 1995 §4 final SOA at a deletion position).
 */
function transfer(zone, ixfrSerial) {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    let firstMs;
    const sock = connect({ host: '127.0.0.1', port: PORT, noDelay: true });
    const q = xfrQuery(0x1234, zone, ixfrSerial);
    const frame = Buffer.alloc(2);
    frame.writeUInt16BE(q.length, 0);
    let pend = Buffer.alloc(0);
    let records = 0;
    let messages = 0;
    let bytes = 0;
    let firstSerial;
    let secondIsSoa;
    let soaAfterFirst = 0;
    let done = false;
    const finish = (err, kind) => {
      if (done) return;
      done = true;
      sock.destroy();
      if (err) return reject(err);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      resolvePromise({ records, messages, bytes, ms, firstMs, kind });
    };
    sock.on('connect', () => sock.write(Buffer.concat([frame, q])));
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish(new Error(`connection closed after ${records} records`)));
    sock.setTimeout(120_000, () => finish(new Error('timeout')));
    sock.on('data', (chunk) => {
      pend = pend.length ? Buffer.concat([pend, chunk]) : chunk;
      let off = 0;
      while (pend.length - off >= 2) {
        const len = pend.readUInt16BE(off);
        if (pend.length - off - 2 < len) break;
        const m = pend.subarray(off + 2, off + 2 + len);
        off += 2 + len;
        messages++;
        bytes += len;
        if (firstMs === undefined) firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
        const rcode = m[3] & 15;
        if (rcode !== 0) return finish(new Error(`rcode ${rcode}`));
        const qd = m.readUInt16BE(4);
        const an = m.readUInt16BE(6);
        let p = 12;
        for (let i = 0; i < qd; i++) p = skipName(m, p) + 4;
        for (let i = 0; i < an; i++) {
          p = skipName(m, p);
          const type = m.readUInt16BE(p);
          const rdlen = m.readUInt16BE(p + 8);
          const rd = p + 10;
          p = rd + rdlen;
          records++;
          if (records === 2) secondIsSoa = type === 6;
          if (type !== 6) continue;
          const serial = m.readUInt32BE(skipName(m, skipName(m, rd)));
          if (records === 1) {
            firstSerial = serial;
            continue;
          }
          if (!secondIsSoa) {
            if (serial === firstSerial) return finish(undefined, ixfrSerial === undefined ? 'AXFR' : 'IXFR-full');
          } else {
            if (soaAfterFirst % 2 === 0 && serial === firstSerial && records > 2) return finish(undefined, 'IXFR');
            soaAfterFirst++;
          }
        }
        // RFC 1995 §2: a lone SOA means the client is up to date.
        if (records === 1 && an === 1 && ixfrSerial !== undefined) return finish(undefined, 'uptodate');
      }
      pend = pend.subarray(off);
    });
  });
}

/** One UDP SOA/A query; resolves with the response bytes or undefined on timeout. */
function udpQuery(name, type, timeoutMs = 1000) {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4');
    const h = Buffer.alloc(12);
    h.writeUInt16BE(0x4242, 0);
    h.writeUInt16BE(1, 4);
    const msg = Buffer.concat([h, nameBytes(name), Buffer.from([0, type, 0, 1])]);
    const t = setTimeout(() => {
      s.close();
      res(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      res(m);
    });
    s.send(msg, PORT, '127.0.0.1');
  });
}

async function soaSerial() {
  const m = await udpQuery(ORIGIN, 6, 500);
  if (!m || (m[3] & 15) !== 0 || m.readUInt16BE(6) < 1) return undefined;
  let p = skipName(m, 12) + 4;
  p = skipName(m, p);
  return m.readUInt32BE(skipName(m, skipName(m, p + 10)));
}

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ----- background UDP load (a separate process, so it neither shares nor skews our event loop) ------------------

const LOAD_SRC = `
const dgram = require('node:dgram');
const [port, inflight] = [Number(process.argv[1]), Number(process.argv[2])];
const names = []; for (let i = 0; i < 1000; i++) names.push('host-' + (i * 487 % ${NAMES}) + '.bench.test');
function q(id, name) {
  const h = Buffer.alloc(12); h.writeUInt16BE(id, 0); h.writeUInt16BE(0x0100, 2); h.writeUInt16BE(1, 4);
  const parts = []; for (const l of name.split('.')) parts.push(Buffer.from([l.length]), Buffer.from(l));
  return Buffer.concat([h, ...parts, Buffer.from([0, 0, 1, 0, 1])]);
}
const s = dgram.createSocket('udp4');
let sent = 0, got = 0, last = Date.now(), maxGap = 0, id = 0;
const stamps = [];
function send() { id = (id + 1) & 0xffff; sent++; s.send(q(id, names[id % names.length]), port, '127.0.0.1'); }
s.on('message', () => { got++; const now = Date.now(); maxGap = Math.max(maxGap, now - last); last = now; stamps.push(now); send(); });
// Lost datagrams: top the window up every 20 ms.
setInterval(() => { const missing = inflight - (sent - got); for (let i = 0; i < Math.min(missing, inflight); i++) send(); }, 20);
process.on('message', (m) => {
  if (m === 'reset') { maxGap = 0; stamps.length = 0; last = Date.now(); process.send({ t: 'reset' }); return; }
  const [from, to] = m;
  const inWin = stamps.filter((x) => x >= from && x <= to).length;
  process.send({ t: 'stats', sent, got, maxGap, inWindow: inWin, windowMs: to - from, lastAnswerAgoMs: Date.now() - last });
});
for (let i = 0; i < inflight; i++) send();
`;

function startLoad(inflight) {
  const child = spawn(process.execPath, ['-e', LOAD_SRC, String(PORT), String(inflight)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (m) =>
    new Promise((res) => {
      child.once('message', res);
      child.send(m);
    });
  return { child, ask, stop: () => child.kill('SIGKILL') };
}

// ----- main -------------------------------------------------------------------------------------------------

function rss(pid) {
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** A loopback port free on both TCP and UDP (the kernel picks it). */
async function freePort() {
  const { createServer } = await import('node:net');
  for (;;) {
    const p = await new Promise((res) => {
      const srv = createServer();
      srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
        const a = srv.address();
        srv.close(() => res(a.port));
      });
    });
    const ok = await new Promise((res) => {
      const s = dgram.createSocket('udp4');
      s.once('error', () => res(false));
      s.bind({ port: p, address: '127.0.0.1', exclusive: true }, () => s.close(() => res(true)));
    });
    if (ok) return p;
  }
}

async function main() {
  if (!PORT) PORT = await freePort();
  rmSync(join(WORK, 'state'), { recursive: true, force: true });
  mkdirSync(join(WORK, 'state'), { recursive: true });
  const zoneFile = join(WORK, 'bench.test.zone');
  const pristine = join(WORK, 'bench.test.zone.orig');
  if (!existsSync(pristine)) {
    process.stdout.write(`generating ${GEN} --names ${NAMES} ...\n`);
    const g = spawnSync(process.execPath, [GEN, '--names', String(NAMES), '--out', pristine], { stdio: 'inherit' });
    if (g.status !== 0) throw new Error('zone generation failed');
  }
  writeFileSync(zoneFile, readFileSync(pristine));
  const zoneRecords = readFileSync(zoneFile, 'utf8').split('\n').filter((l) => l && !l.startsWith(';') && !l.startsWith('$')).length;
  const config = [
    `listen: ["127.0.0.1:${PORT}"]`,
    'workers: 1',
    `state-dir: ${JSON.stringify(join(WORK, 'state'))}`,
    'log: { level: warn }',
    'acl:',
    '  - { name: bench, address: 127.0.0.1/32 }',
    'zones:',
    `  - { name: bench.test, file: ${JSON.stringify(zoneFile)}, allow-transfer: [bench], serial: increment }`,
    '',
  ].join('\n');
  const configFile = join(WORK, 'config.yaml');
  writeFileSync(configFile, config);

  const t0 = Date.now();
  const daemon = spawn(process.execPath, [MAIN, 'serve', '--config', configFile], { stdio: ['ignore', 'inherit', 'inherit'] });
  let load;
  daemon.once('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`bench/xfr: the daemon exited (code ${code})\n`);
      process.exit(1);
    }
  });
  let stopping = false;
  const cleanup = () => {
    load?.stop();
    stopping = true;
    if (daemon.exitCode === null) daemon.kill('SIGTERM');
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const serial0 = await until(soaSerial, 300_000, 'the daemon to load the zone');
    const loadS = (Date.now() - t0) / 1000;
    process.stdout.write(`zone ${ORIGIN}: ${zoneRecords} records in the file, loaded and answering after ${loadS.toFixed(1)} s (RSS ${rss(daemon.pid)} MB)\n`);

    // Full AXFR, RUNS times (the first also warms the JIT).
    const axfr = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await transfer(ORIGIN);
      if (r.kind !== 'AXFR') throw new Error(`AXFR ended as ${r.kind}`);
      axfr.push(r);
      process.stdout.write(`AXFR run ${i + 1}: ${r.records} records, ${r.messages} messages, ${(r.bytes / 1048576).toFixed(1)} MiB in ${r.ms.toFixed(0)} ms = ${Math.round(r.records / (r.ms / 1000)).toLocaleString('en')} records/s (first message after ${r.firstMs.toFixed(1)} ms)\n`);
    }
    const bestAxfr = axfr.reduce((a, b) => (a.ms <= b.ms ? a : b));
    const medAxfr = [...axfr].sort((a, b) => a.ms - b.ms)[Math.floor(axfr.length / 2)];

    // AXFR again while the UDP load runs: do queries keep being answered during a full transfer?
    load = startLoad(32);
    await new Promise((r) => setTimeout(r, 1000));
    await load.ask('reset');
    const ta = Date.now();
    const axfrUnderLoad = await transfer(ORIGIN);
    const tb = Date.now();
    const axfrLoadStats = await load.ask([ta, tb]);
    process.stdout.write(`AXFR under UDP load: ${axfrUnderLoad.records} records in ${axfrUnderLoad.ms.toFixed(0)} ms = ${Math.round(axfrUnderLoad.records / (axfrUnderLoad.ms / 1000)).toLocaleString('en')} records/s; ${axfrLoadStats.inWindow} UDP answers during it, longest gap ${axfrLoadStats.maxGap} ms\n`);

    // One-record edit + SIGHUP (serial: increment bumps the serial), then IXFR from the old serial.
    appendFileSync(zoneFile, `xfr-bench-edit.${ORIGIN}\t300\tIN\tA\t192.0.2.250\n`);
    await load.ask('reset');
    const th = Date.now();
    daemon.kill('SIGHUP');
    const serial1 = await until(async () => {
      const s = await soaSerial();
      return s !== undefined && s !== serial0 ? s : undefined;
    }, 300_000, 'the reload');
    const reloadMs = Date.now() - th;
    const reloadStats = await load.ask([th, Date.now()]);
    process.stdout.write(`SIGHUP reload (1M-record re-parse + diff + journal): serial ${serial0} -> ${serial1} visible after ${reloadMs} ms; longest UDP answer gap during it ${reloadStats.maxGap} ms\n`);
    // The journal is written after publication: wait until the IXFR is incremental.
    await until(async () => (await transfer(ORIGIN, serial0)).kind === 'IXFR', 30_000, 'the journal');

    await load.ask('reset');
    const ixfr = [];
    const w0 = Date.now();
    for (let i = 0; i < 20; i++) {
      const r = await transfer(ORIGIN, serial0);
      if (r.kind !== 'IXFR') throw new Error(`IXFR ended as ${r.kind}`);
      ixfr.push(r);
      await new Promise((res) => setTimeout(res, 20));
    }
    const w1 = Date.now();
    const loadStats = await load.ask([w0, w1]);
    const ms = ixfr.map((r) => r.ms).sort((a, b) => a - b);
    const p50 = ms[Math.floor(ms.length / 2)];
    const max = ms[ms.length - 1];
    process.stdout.write(`IXFR ${serial0} -> ${serial1}: ${ixfr[0].records} records (one change), ${ms.length} runs under UDP load: median ${p50.toFixed(2)} ms, max ${max.toFixed(2)} ms\n`);
    process.stdout.write(`UDP load during the IXFR runs: ${loadStats.inWindow} answers in ${loadStats.windowMs} ms (${Math.round(loadStats.inWindow / (loadStats.windowMs / 1000))} qps), longest gap ${loadStats.maxGap} ms, total ${loadStats.got}/${loadStats.sent} answered\n`);
    const alive = await udpQuery(`host-1.${ORIGIN}`, 1, 1000);
    const up = alive !== undefined && (alive[3] & 15) === 0;
    process.stdout.write(`server still answering after the runs: ${up ? 'yes' : 'NO'}\n`);

    const axfrRate = Math.round(bestAxfr.records / (bestAxfr.ms / 1000));
    const medRate = Math.round(medAxfr.records / (medAxfr.ms / 1000));
    const pass = axfrRate >= 200_000 && max < 50 && up;
    process.stdout.write(`\nAXFR: ${medRate.toLocaleString('en')} records/s median, ${axfrRate.toLocaleString('en')} best (target >= 200,000) | IXFR one change: ${p50.toFixed(2)} ms median, ${max.toFixed(2)} ms max (target < 50) | ${pass ? 'PASS' : 'FAIL'}\n`);
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    appendFileSync(
      join(ROOT, 'bench', 'results', 'xfr.jsonl'),
      JSON.stringify({
        at: new Date().toISOString(),
        names: NAMES,
        records: bestAxfr.records,
        loadS,
        axfr: axfr.map((r) => ({ ms: Math.round(r.ms), messages: r.messages, bytes: r.bytes })),
        axfrRecordsPerS: { median: medRate, best: axfrRate },
        axfrUnderLoad: { ms: Math.round(axfrUnderLoad.ms), udpAnswers: axfrLoadStats.inWindow, maxGapMs: axfrLoadStats.maxGap },
        reloadMs,
        ixfrMs: { median: +p50.toFixed(2), max: +max.toFixed(2), records: ixfr[0].records },
        udpDuringIxfr: { answers: loadStats.inWindow, windowMs: loadStats.windowMs, maxGapMs: loadStats.maxGap },
        pass,
      }) + '\n',
    );
    process.exitCode = pass ? 0 : 1;
  } finally {
    cleanup();
    if (!KEEP) rmSync(join(WORK, 'state'), { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench/xfr: ${e.stack ?? e}\n`);
  process.exitCode = 1;
  process.kill(process.pid, 'SIGINT');
});
