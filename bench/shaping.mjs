// CPU cost of a flattened apex answered from the flattening cache next to a plain A answer (issue: answer shaping).
// In-process: the QueryEngine's handle() timed over many queries, with the encoded-answer cache on (the default) and
// off (so the flatten stage itself is measured). The external target is served by a tiny local UDP responder.

import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { App } from '../dist/app.js';
import { parseConfigText } from '../dist/config/index.js';

const N = Number(process.env.SHAPING_N ?? 200_000);

/** Answers every A query for origin.ext.test. with 192.0.2.99, TTL 7200 (the flattening upstream). */
async function upstream() {
  const s = createSocket('udp4');
  s.on('message', (buf, rinfo) => {
    const q = dnsPacket.decode(buf);
    const answers = q.questions[0]?.type === 'A' ? [{ name: q.questions[0].name, type: 'A', ttl: 7200, data: '192.0.2.99' }] : [];
    s.send(dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED, questions: q.questions, answers }), rinfo.port, rinfo.address);
  });
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

async function engine(dir, port, cacheEntries) {
  const text = `listen: ["127.0.0.1:5399"]
workers: 1
zones-dir: ${dir}
state-dir: ${dir}/var
answer-cache: { max-entries: ${cacheEntries} }
flattening: { resolvers: ["127.0.0.1:${port}"] }
zones:
  - { name: plain.test, file: ${dir}/plain.zone }
  - { name: flat.test, file: ${dir}/flat.zone }
`;
  const cfg = parseConfigText(text, join(dir, 'c.yaml'));
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
  return (await App.start(cfg.config, pino({ level: 'warn' }), { listen: false })).queryEngine;
}

function time(eng, packets) {
  const ctx = { transport: 'udp', address: '127.0.0.1', port: 1 };
  for (let i = 0; i < 20_000; i++) eng.handle(packets[i % packets.length], ctx);
  const t = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const r = eng.handle(packets[i % packets.length], ctx);
    if (r instanceof Promise) throw new Error('flattened answer not served from the cache');
  }
  const d = process.cpuUsage(t);
  return (d.user + d.system) / N;
}

export async function shapingBench() {
  const dir = mkdtempSync(join(tmpdir(), 'apexdns-shaping-'));
  const soa = (o) => `$TTL 3600\n@ SOA ns1.${o} host.${o} 1 3600 600 86400 300\n@ NS ns1.${o}\nns1 A 192.0.2.53\n`;
  writeFileSync(join(dir, 'plain.zone'), soa('plain.test.') + '@ A 192.0.2.1\n');
  writeFileSync(join(dir, 'flat.zone'), soa('flat.test.') + '@ CNAME origin.ext.test.\n');
  const up = await upstream();
  const port = up.address().port;
  const q = (name, id) => dnsPacket.encode({ id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 }] });
  const plain = Array.from({ length: 64 }, (_, i) => q('plain.test', i));
  const flat = Array.from({ length: 64 }, (_, i) => q('flat.test', i));
  const rows = [];
  for (const entries of [100_000, 0]) {
    const eng = await engine(dir, port, entries);
    // First flattened query goes upstream (a Promise); every later one is served from the flattening cache.
    await eng.handle(flat[0], { transport: 'udp', address: '127.0.0.1', port: 1 });
    const a = time(eng, plain);
    const f = time(eng, flat);
    rows.push({ cache: entries > 0 ? 'on' : 'off', plainUs: a, flatUs: f, ratio: f / a });
  }
  up.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await shapingBench();
  console.log('| encoded-answer cache | plain A µs/q | flattened apex µs/q | ratio (target ≤ 1.2) |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.cache} | ${r.plainUs.toFixed(2)} | ${r.flatUs.toFixed(2)} | ${r.ratio.toFixed(2)}× |`);
  process.exit(0);
}
