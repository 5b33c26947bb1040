// Live hostile-traffic test: 200,000 seeded mutated packets (truncated headers, compression loops, giant counts, bad
// EDNS, bad TSIG, bit-flipped queries) sent to a running 2-worker daemon, about 90% over UDP and 10% pipelined over
// TCP connections (some with bad length prefixes), paced so neighbouring test files keep their CPU. Every response
// must be a well-formed DNS message; afterwards the same worker processes are alive (both took part), nothing was
// logged at error level, per-request warnings stayed sampled, and fixed queries get exact answers over UDP and TCP.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQuery, encodeName, encodeOpt, queryTcp, queryUdp, type QuerySpec } from '../helpers/dig.js';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { alive } from '../helpers/procs.js';
import { parseMessage, type ParsedMessage } from '../helpers/dnsmsg.js';
import { prng } from '../helpers/prng.js';
import { exampleZoneDir, lines, logLines, sleep, waitFor, type ZoneDir } from './env.js';
import { signMessage, tsigKeyFromConfig, verifyMessage } from '../../src/transfer/tsig.js';

const built = daemonBuilt();
const SEED = 0x11feda7a;
const TOTAL = 200_000;
/** 10% over TCP: 200 connections of 100 pipelined packets each. */
const TCP_CONNECTIONS = 200;
const PER_CONNECTION = 100;
const UDP_COUNT = TOTAL - TCP_CONNECTIONS * PER_CONNECTION;
/** UDP packets sent before waiting for the answers to settle (bounds what is in flight). */
const UDP_WINDOW = 500;
/**
 * At most this many UDP packets a second: fast enough to finish in well under a minute, slow enough to leave CPU to
 * the test files running next to this one on a 2-core machine (a pace, not a speed check).
 */
const UDP_RATE = 6000;
const UDP_SOCKETS = 8;
const TCP_PARALLEL = 8;

const KEY_CFG = { name: 'fuzz-key', algorithm: 'hmac-sha256', secret: 'ZnV6ei1saXZlLXRzaWcta2V5LXNlY3JldC0wMDAwMDE=' } as const;
const KEY = tsigKeyFromConfig(KEY_CFG);

const CATEGORIES = ['header', 'compression', 'counts', 'edns', 'tsig', 'mutated', 'valid'] as const;
type Category = (typeof CATEGORIES)[number];
/** Share of each category, in percent. */
const WEIGHTS: Readonly<Record<Category, number>> = { header: 10, compression: 16, counts: 12, edns: 18, tsig: 18, mutated: 20, valid: 6 };

const SEEDS: readonly QuerySpec[] = [
  { name: 'example.com', type: 'SOA' },
  { name: 'mail1.example.com', type: 'A', edns: { udpSize: 1232, do: true } },
  { name: 'nope.example.com', type: 'AAAA' },
  { name: 'x.apps.example.com', type: 'A', edns: { udpSize: 4096, do: false } },
  { name: 'host.sub.example.com', type: 'NS' },
  { name: '_sip._tcp.example.com', type: 'SRV' },
  { name: 'example.com', type: 'ANY' },
  { name: 'example.com', type: 'AXFR' },
  { name: 'example.com', type: 'IXFR' },
  { name: 'example.org', type: 'A' },
  { name: 'id.server', type: 'TXT', class: 'CH' },
];

type Rnd = () => number;
const intOf = (rnd: Rnd) => (n: number): number => Math.floor(rnd() * n);

function bytes(rnd: Rnd, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

function header(id: number, flags: number, qd: number, an: number, ns: number, ar: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  h.writeUInt16BE(ns, 8);
  h.writeUInt16BE(ar, 10);
  return h;
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff);
  return b;
}

/** A resource record: owner (wire bytes), type, class, TTL, RDATA (RDLENGTH from the data unless given). */
function rr(owner: Buffer, type: number, cls: number, ttl: number, rdata: Buffer, rdlen = rdata.length): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(cls, 2);
  fixed.writeUInt32BE(ttl >>> 0, 4);
  fixed.writeUInt16BE(rdlen & 0xffff, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

function seedQuery(rnd: Rnd): Buffer {
  const s = SEEDS[intOf(rnd)(SEEDS.length)]!;
  return buildQuery({ ...s, id: intOf(rnd)(0x10000) });
}

const QTYPES = [6, 1, 28, 252, 251, 16, 255];

/** A question section for example.com (or a sub name) with a random qtype. */
function question(rnd: Rnd): Buffer {
  const int = intOf(rnd);
  const names = ['example.com', 'mail1.example.com', 'nope.example.com', 'a.b.apps.example.com'];
  return Buffer.concat([encodeName(names[int(names.length)]!), u16(QTYPES[int(QTYPES.length)]!), u16(1)]);
}

// ---- generators, one per category --------------------------------------------------------------------------

/** Truncated headers: 0-11 octets, random or the start of a real query. */
function genHeader(rnd: Rnd): Buffer {
  const int = intOf(rnd);
  const n = int(12);
  return rnd() < 0.5 ? bytes(rnd, n) : seedQuery(rnd).subarray(0, n);
}

/** Compression pointer loops, forward pointers, pointers into the header, long pointer chains, in any section. */
function genCompression(rnd: Rnd): Buffer {
  const int = intOf(rnd);
  const id = int(0x10000);
  const tail = Buffer.concat([u16(1), u16(1)]);
  switch (int(7)) {
    case 0: // QNAME is a pointer to itself (offset 12).
      return Buffer.concat([header(id, 0, 1, 0, 0, 0), Buffer.from([0xc0, 0x0c]), tail]);
    case 1: // "a" then a pointer back to the "a": an endless name.
      return Buffer.concat([header(id, 0, 1, 0, 0, 0), Buffer.from([1, 0x61, 0xc0, 0x0c]), tail]);
    case 2: // Two pointers pointing at each other.
      return Buffer.concat([header(id, 0, 1, 0, 0, 0), Buffer.from([0xc0, 0x0e, 0xc0, 0x0c]), tail]);
    case 3: { // A forward pointer: past the end, or ahead into the packet.
      const target = rnd() < 0.5 ? 0x3fff - int(16) : 20 + int(40);
      return Buffer.concat([header(id, 0, 1, 0, 0, 0), Buffer.from([0xc0 | (target >> 8), target & 0xff]), tail, bytes(rnd, int(48))]);
    }
    case 4: // A pointer into the header.
      return Buffer.concat([header(id, 0, 1, 0, 0, 0), Buffer.from([0xc0, 2 + int(10)]), tail]);
    case 5: { // The owner of an additional RR starts a chain of 60-200 backward pointers (deep, not a loop).
      const q = question(rnd);
      const ownerAt = 12 + q.length;
      const rdataAt = ownerAt + 2 + 10;
      const n = 60 + int(140);
      const chain = Buffer.alloc(2 * n);
      // Pointer i (at rdataAt + 2i) points at pointer i-1; pointer 0 at the question name.
      for (let i = 0; i < n; i++) chain.writeUInt16BE(0xc000 | (i === 0 ? 12 : rdataAt + 2 * (i - 1)), 2 * i);
      const owner = u16(0xc000 | (rdataAt + 2 * (n - 1)));
      return Buffer.concat([header(id, 0, 1, 0, 0, 1), q, rr(owner, 16, 1, 0, chain)]);
    }
    default: { // A good question, then an answer / additional RR whose owner or CNAME target loops.
      const q = question(rnd);
      const self = 12 + q.length;
      const owner = rnd() < 0.5 ? Buffer.from([0xc0 | (self >> 8), self & 0xff]) : Buffer.from([1, 0x62, 0xc0 | (self >> 8), self & 0xff]);
      const rdata = Buffer.from([0xc0 | (self >> 8), self & 0xff]);
      const an = rnd() < 0.5;
      return Buffer.concat([header(id, 0, 1, an ? 1 : 0, 0, an ? 0 : 1), q, rr(owner, 5, 1, 300, rdata)]);
    }
  }
}

/** Giant section counts with no data behind them. */
function genCounts(rnd: Rnd): Buffer {
  const int = intOf(rnd);
  const big = (): number => (rnd() < 0.7 ? 65535 : int(0x10000));
  const counts = [1, 0, 0, 0];
  const which = int(5);
  if (which < 4) counts[which] = big();
  else for (let i = 0; i < 4; i++) counts[i] = rnd() < 0.5 ? big() : counts[i]!;
  const h = header(int(0x10000), rnd() < 0.2 ? int(0x10000) & 0x7fff : 0, counts[0]!, counts[1]!, counts[2]!, counts[3]!);
  const r = rnd();
  // Nothing after the header, one question, or a question and some junk.
  return r < 0.4 ? h : r < 0.8 ? Buffer.concat([h, question(rnd)]) : Buffer.concat([h, question(rnd), bytes(rnd, int(40))]);
}

/** Bad EDNS: several OPTs, option lengths past the RDATA, version 1, a non-root owner, OPT elsewhere, bad RDLENGTH. */
function genEdns(rnd: Rnd): Buffer {
  const int = intOf(rnd);
  const id = int(0x10000);
  const q = question(rnd);
  const opt = (o: { owner?: Buffer; size?: number; version?: number; options?: Buffer; rdlen?: number } = {}): Buffer => {
    const ttl = ((o.version ?? 0) << 16) | (rnd() < 0.5 ? 0x8000 : 0);
    const data = o.options ?? Buffer.alloc(0);
    return rr(o.owner ?? Buffer.from([0]), 41, o.size ?? 1232, ttl, data, o.rdlen ?? data.length);
  };
  const option = (code: number, data: Buffer, len = data.length): Buffer => Buffer.concat([u16(code), u16(len), data]);
  switch (int(9)) {
    case 0: // Two or three OPT RRs.
      return Buffer.concat([header(id, 0, 1, 0, 0, 2 + int(2)), q, opt(), opt(), opt()]);
    case 1: // An option whose length runs past the RDATA.
      return Buffer.concat([header(id, 0, 1, 0, 0, 1), q, opt({ options: option(int(20), bytes(rnd, int(4)), 8 + int(200)) })]);
    case 2: // A truncated option header (3 octets).
      return Buffer.concat([header(id, 0, 1, 0, 0, 1), q, opt({ options: bytes(rnd, 3) })]);
    case 3: // EDNS version 1..255: BADVERS (RFC 6891 §6.1.3).
      return Buffer.concat([header(id, 0, 1, 0, 0, 1), q, opt({ version: 1 + int(255) })]);
    case 4: // OPT with a non-root owner.
      return Buffer.concat([header(id, 0, 1, 0, 0, 1), q, opt({ owner: encodeName(rnd() < 0.5 ? 'x' : 'example.com') })]);
    case 5: // OPT in the answer or authority section.
      return Buffer.concat([header(id, 0, 1, rnd() < 0.5 ? 1 : 0, 1, 0), q, opt()]);
    case 6: // RDLENGTH longer than the packet.
      return Buffer.concat([header(id, 0, 1, 0, 0, 1), q, opt({ options: option(10, bytes(rnd, 8)), rdlen: 12 + 1 + int(500) })]);
    case 7: { // COOKIE of a wrong length, a malformed client subnet, or many small options.
      const r = int(3);
      const options = r === 0 ? option(10, bytes(rnd, [1, 7, 9, 41][int(4)]!)) : r === 1 ? option(8, bytes(rnd, int(6))) : Buffer.concat(Array.from({ length: 50 + int(150) }, () => option(int(0x10000), bytes(rnd, int(3)))));
      return Buffer.concat([header(id, 0, 1, 0, 0, 1), q, opt({ options })]);
    }
    default: // Odd payload sizes (0, below 512, 65535) on an otherwise good OPT.
      return Buffer.concat([header(id, 0, 1, 0, 0, 1), q, encodeOpt({ udpSize: [0, 1, 511, 65535][int(4)]!, do: rnd() < 0.5 })]);
  }
}

const HMAC_SHA256 = encodeName('hmac-sha256');

/** TSIG RDATA (RFC 8945 §4.2) with the given fields. */
function tsigRdata(o: { alg?: Buffer; time?: number; fudge?: number; mac: Buffer; macSize?: number; origId: number; error?: number; other?: Buffer }): Buffer {
  const t = Buffer.alloc(6);
  const time = o.time ?? Math.floor(Date.now() / 1000);
  t.writeUInt16BE(Math.floor(time / 2 ** 32) & 0xffff, 0);
  t.writeUInt32BE(time >>> 0, 2);
  const other = o.other ?? Buffer.alloc(0);
  return Buffer.concat([o.alg ?? HMAC_SHA256, t, u16(o.fudge ?? 300), u16(o.macSize ?? o.mac.length), o.mac, u16(o.origId), u16(o.error ?? 0), u16(other.length), other]);
}

/** A query (SOA, AXFR, IXFR, A or NOTIFY) with a TSIG RR: unknown key, bad MAC, truncated RDATA, misplaced, stale. */
function genTsig(rnd: Rnd): Buffer {
  const int = intOf(rnd);
  const id = int(0x10000);
  const notify = rnd() < 0.15;
  const flags = notify ? (4 << 11) | 0x0400 : 0;
  const qtype = [6, 6, 252, 251, 1][int(5)]!;
  const q = Buffer.concat([encodeName(rnd() < 0.8 ? 'example.com' : 'example.org'), u16(qtype), u16(1)]);
  const keyName = (): Buffer => encodeName(rnd() < 0.3 ? `nokey${int(10)}.example` : 'fuzz-key');
  const signed = (extra: Buffer, ar: number): Buffer => Buffer.concat([header(id, flags, 1, 0, 0, ar), q, extra]);
  switch (int(7)) {
    case 0: // Unknown key name.
      return signed(rr(encodeName(`nokey${int(10)}.example`), 250, 255, 0, tsigRdata({ mac: bytes(rnd, 32), origId: id })), 1);
    case 1: // The configured key, a random MAC (BADSIG).
      return signed(rr(encodeName('fuzz-key'), 250, 255, 0, tsigRdata({ mac: bytes(rnd, int(3) === 0 ? int(33) : 32), origId: id })), 1);
    case 2: { // Truncated TSIG RDATA (RDLENGTH matching the cut, or still claiming the whole).
      const full = tsigRdata({ mac: bytes(rnd, 32), origId: id });
      const cut = full.subarray(0, int(full.length));
      return signed(rr(keyName(), 250, 255, 0, cut, rnd() < 0.5 ? cut.length : full.length), 1);
    }
    case 3: // MAC size claiming more than there is, or an unknown algorithm, or class IN.
      return signed(rr(keyName(), 250, rnd() < 0.3 ? 1 : 255, 0, tsigRdata({ mac: bytes(rnd, 16), macSize: rnd() < 0.5 ? 65535 : 17 + int(100), alg: rnd() < 0.5 ? encodeName('hmac-foo') : HMAC_SHA256, origId: id })), 1);
    case 4: // TSIG not the last record (an OPT after it).
      return signed(Buffer.concat([rr(keyName(), 250, 255, 0, tsigRdata({ mac: bytes(rnd, 32), origId: id })), encodeOpt({ udpSize: 1232, do: false })]), 2);
    case 5: { // Correctly signed but with a time far off (BADTIME), or a wrong original ID.
      const base = Buffer.concat([header(id, flags, 1, 0, 0, 0), q]);
      const s = signMessage(base, KEY, { time: Math.floor(Date.now() / 1000) + (rnd() < 0.5 ? -1 : 1) * (3600 + int(100_000)) });
      return Buffer.from(s.message);
    }
    default: { // Correctly signed, then one octet of the signed message flipped.
      const base = Buffer.concat([header(id, flags, 1, 0, 0, 0), q]);
      const m = Buffer.from(signMessage(base, KEY).message);
      const i = 2 + int(m.length - 2);
      m[i] = m[i]! ^ (1 << int(8));
      return m;
    }
  }
}

/** Bit flips, truncation, random counts and trailing junk on a packet of any other category. */
function genMutated(rnd: Rnd): Buffer {
  const int = intOf(rnd);
  const pick = int(4);
  const b = Buffer.from(pick === 0 ? genEdns(rnd) : pick === 1 ? genTsig(rnd) : seedQuery(rnd));
  switch (int(4)) {
    case 0:
      for (let n = 1 + int(6); n > 0; n--) {
        const i = int(b.length);
        b[i] = b[i]! ^ (1 << int(8));
      }
      return b;
    case 1:
      return b.subarray(0, 12 + int(Math.max(1, b.length - 12)));
    case 2:
      for (let o = 4; o < 12; o += 2) if (rnd() < 0.5) b.writeUInt16BE(int(rnd() < 0.7 ? 4 : 0x10000), o);
      return b;
    default:
      return Buffer.concat([b, bytes(rnd, 1 + int(64))]);
  }
}

const GENERATORS: Readonly<Record<Category, (rnd: Rnd) => Buffer>> = {
  header: genHeader, compression: genCompression, counts: genCounts, edns: genEdns, tsig: genTsig, mutated: genMutated, valid: seedQuery,
};

function pickCategory(rnd: Rnd): Category {
  let r = rnd() * 100;
  for (const c of CATEGORIES) {
    r -= WEIGHTS[c];
    if (r < 0) return c;
  }
  return 'valid';
}

// ---- tallies ---------------------------------------------------------------------------------------------------

const RCODES: Readonly<Record<number, string>> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 9: 'NOTAUTH', 16: 'BADVERS' };

class Tally {
  readonly sent: Record<string, number> = {};
  readonly byRcode: Record<string, number> = {};
  responses = 0;
  readonly malformed: string[] = [];

  send(c: Category): void {
    this.sent[c] = (this.sent[c] ?? 0) + 1;
  }

  /** Check one response strictly; returns it parsed (undefined when malformed). */
  receive(buf: Buffer, how: string): ParsedMessage | undefined {
    this.responses++;
    try {
      const m = parseMessage(buf);
      if (!m.qr) throw new Error('QR clear in a response');
      const name = RCODES[m.rcode] ?? `RCODE${m.rcode}`;
      this.byRcode[name] = (this.byRcode[name] ?? 0) + 1;
      return m;
    } catch (e) {
      this.byRcode['malformed'] = (this.byRcode['malformed'] ?? 0) + 1;
      if (this.malformed.length < 10) this.malformed.push(`${how}: ${(e as Error).message}: ${buf.toString('hex')}`);
      return undefined;
    }
  }
}

// ---- senders ---------------------------------------------------------------------------------------------------

async function udpStorm(port: number, rnd: Rnd, tally: Tally): Promise<void> {
  const socks: UdpSocket[] = [];
  for (let i = 0; i < UDP_SOCKETS; i++) {
    const s = createSocket('udp4');
    s.on('message', (buf) => tally.receive(buf, 'udp'));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    socks.push(s);
  }
  try {
    const t0 = Date.now();
    for (let sent = 0; sent < UDP_COUNT; ) {
      const due = t0 + (sent / UDP_RATE) * 1000;
      if (Date.now() < due) await sleep(due - Date.now());
      const end = Math.min(UDP_COUNT, sent + UDP_WINDOW);
      for (; sent < end; sent++) {
        const c = pickCategory(rnd);
        tally.send(c);
        socks[sent % UDP_SOCKETS]!.send(GENERATORS[c](rnd), port, '127.0.0.1');
      }
      // Let the window's answers come in: until none arrived for 10 ms (at most 1 s).
      const until = Date.now() + 1000;
      let seen = -1;
      while (seen !== tally.responses && Date.now() < until) {
        seen = tally.responses;
        await sleep(10);
      }
    }
    await sleep(200);
  } finally {
    for (const s of socks) s.close();
  }
}

type BadFrame = 'zero' | 'short' | 'huge' | 'overlong' | 'half-prefix';
const BAD_FRAMES: readonly BadFrame[] = ['zero', 'short', 'huge', 'overlong', 'half-prefix'];

function frame(msg: Buffer): Buffer {
  return Buffer.concat([u16(msg.length), msg]);
}

/** One TCP connection: PER_CONNECTION pipelined packets; with `bad`, one of them carries a bad length prefix. */
function tcpConnection(port: number, rnd: Rnd, tally: Tally, bad: BadFrame | undefined, stats: { closedByServer: number }): Promise<void> {
  const int = intOf(rnd);
  const parts: Buffer[] = [];
  const badAt = bad === undefined ? -1 : int(PER_CONNECTION);
  let trailer: Buffer | undefined;
  for (let i = 0; i < PER_CONNECTION; i++) {
    const c = pickCategory(rnd);
    // An empty message cannot be framed (a zero length prefix is one of the deliberate bad frames below).
    let msg = GENERATORS[c](rnd);
    while (msg.length === 0) msg = GENERATORS[c](rnd);
    tally.send(c);
    if (i !== badAt) {
      parts.push(frame(msg));
      continue;
    }
    switch (bad!) {
      case 'zero':
        parts.push(u16(0));
        break;
      case 'short':
        parts.push(frame(msg.subarray(0, int(12))));
        break;
      case 'huge': // Claims 65535 octets, sends the rest of the stream (then the connection idles out or we close).
        parts.push(u16(65535), msg);
        break;
      case 'overlong': // Claims a few more octets than the message: the next prefix is swallowed, framing is lost.
        parts.push(u16(msg.length + 1 + int(3)), msg);
        break;
      case 'half-prefix': // After the last message, one octet of a length prefix, then the client goes away.
        parts.push(frame(msg));
        trailer = Buffer.from([int(256)]);
        break;
    }
  }
  if (trailer) parts.push(trailer);
  const data = Buffer.concat(parts);
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let pending = Buffer.alloc(0);
    let idle: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      sock.destroy();
      resolve();
    };
    const bump = (): void => {
      clearTimeout(idle);
      idle = setTimeout(finish, 300);
    };
    const overall = setTimeout(finish, 10_000);
    overall.unref();
    sock.on('connect', () => {
      sock.write(data);
      bump();
    });
    sock.on('data', (chunk: Buffer) => {
      bump();
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        tally.receive(pending.subarray(2, 2 + len), `tcp${bad ? `/${bad}` : ''}`);
        pending = pending.subarray(2 + len);
      }
    });
    sock.on('error', () => finish());
    sock.on('close', () => {
      if (!done) stats.closedByServer++;
      clearTimeout(overall);
      finish();
    });
  });
}

async function tcpStorm(port: number, rnd: Rnd, tally: Tally): Promise<{ connections: number; badFrames: number; closedByServer: number }> {
  const stats = { closedByServer: 0 };
  let next = 0;
  let badFrames = 0;
  const plan: (BadFrame | undefined)[] = [];
  for (let i = 0; i < TCP_CONNECTIONS; i++) {
    const bad = rnd() < 0.2 ? BAD_FRAMES[Math.floor(rnd() * BAD_FRAMES.length)] : undefined;
    if (bad) badFrames++;
    plan.push(bad);
  }
  const lane = async (): Promise<void> => {
    while (next < TCP_CONNECTIONS) {
      const i = next++;
      await tcpConnection(port, rnd, tally, plan[i], stats);
    }
  };
  await Promise.all(Array.from({ length: TCP_PARALLEL }, lane));
  return { connections: TCP_CONNECTIONS, badFrames, closedByServer: stats.closedByServer };
}

/** Process ids of the daemon's children (the cluster workers). */
function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((s) => s !== '').map(Number).sort((a, b) => a - b);
}

/** CPU time (user + system, clock ticks) a process has used, from /proc/<pid>/stat. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: state is field 3, utime 14 and stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

// ---- the test ----------------------------------------------------------------------------------------------------

const SOA = 'example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024060101 7200 3600 1209600 300';

/** The fixed queries asked before and after the storm, with their exact answers. */
function answerOf(m: ParsedMessage): unknown {
  return { rcode: m.rcode, aa: m.aa, tc: m.tc, answer: lines(m.answer), authority: lines(m.authority), additional: lines(m.additional) };
}
const FIXED: readonly { readonly q: QuerySpec; readonly want: unknown }[] = [
  { q: { name: 'example.com', type: 'SOA' }, want: { rcode: 0, aa: true, tc: false, answer: [SOA], authority: [], additional: [] } },
  { q: { name: 'mail1.example.com', type: 'A' }, want: { rcode: 0, aa: true, tc: false, answer: ['mail1.example.com. 3600 IN A 192.0.2.25'], authority: [], additional: [] } },
  { q: { name: 'nope.example.com', type: 'AAAA' }, want: { rcode: 3, aa: true, tc: false, answer: [], authority: [SOA.replace(' 3600 IN', ' 300 IN')], additional: [] } },
  { q: { name: 'x.apps.example.com', type: 'A' }, want: { rcode: 0, aa: true, tc: false, answer: ['x.apps.example.com. 60 IN A 192.0.2.80'], authority: [], additional: [] } },
  {
    q: { name: 'example.com', type: 'MX' },
    want: {
      rcode: 0, aa: true, tc: false,
      answer: ['example.com. 3600 IN MX 10 mail1.example.com.', 'example.com. 3600 IN MX 20 mail2.example.com.'],
      authority: [],
      additional: ['mail1.example.com. 3600 IN A 192.0.2.25', 'mail1.example.com. 3600 IN AAAA 2001:db8:0:0:0:0:0:25', 'mail2.example.com. 3600 IN A 198.51.100.25', 'mail2.example.com. 3600 IN AAAA 2001:db8:1:0:0:0:0:25'],
    },
  },
  {
    q: { name: 'host.sub.example.com', type: 'A' },
    want: {
      rcode: 0, aa: false, tc: false, answer: [],
      authority: ['sub.example.com. 3600 IN NS ns.example.net.', 'sub.example.com. 3600 IN NS ns1.sub.example.com.'],
      additional: ['ns1.sub.example.com. 3600 IN A 192.0.2.100', 'ns1.sub.example.com. 3600 IN AAAA 2001:db8:0:0:0:0:0:100'],
    },
  },
];

async function checkFixed(port: number): Promise<void> {
  for (const { q, want } of FIXED) {
    expect(answerOf(parseMessage(await queryUdp(port, buildQuery(q))))).toEqual(want);
    expect(answerOf(parseMessage(await queryTcp(port, buildQuery(q))))).toEqual(want);
  }
  // EDNS version 1: BADVERS with our OPT (RFC 6891 §6.1.3).
  const v1 = parseMessage(await queryUdp(port, buildQuery({ name: 'example.com', type: 'SOA', edns: { udpSize: 1232, do: false, version: 1 } })));
  expect({ rcode: v1.rcode, answer: v1.answer.length, version: v1.opt?.version }).toEqual({ rcode: 16, answer: 0, version: 0 });
  // A correctly signed SOA query over TCP: the SOA, signed over our request MAC (RFC 8945 §5.3).
  const req = signMessage(buildQuery({ name: 'example.com', type: 'SOA', id: 4242 }), KEY);
  const res = await queryTcp(port, req.message);
  const v = verifyMessage(new Uint8Array(res), (n) => (n.equals(KEY.name) ? KEY : undefined), { requestMac: req.mac });
  expect(v.ok).toBe(true);
  expect(lines(parseMessage(res).answer)).toEqual([SOA]);
  // A bad MAC: NOTAUTH (RFC 8945 §5.2.2).
  const bad = Buffer.from(req.message);
  bad[bad.length - 12] = bad[bad.length - 12]! ^ 0xff;
  expect(parseMessage(await queryUdp(port, bad)).rcode).toBe(9);
}

describe.skipIf('skip' in built)('live hostile traffic', () => {
  let d: DaemonServer;
  let z: ZoneDir;
  beforeAll(async () => {
    z = exampleZoneDir();
    d = await startDaemon([{ name: 'example.com', file: z.zoneFile }], {
      workers: 2,
      extra: {
        'tsig-keys': [KEY_CFG],
        acl: [{ name: 'keyed', key: 'fuzz-key' }],
        zones: [{ name: 'example.com', file: z.zoneFile, 'allow-transfer': ['keyed'] }],
      },
      timeoutMs: 20_000,
    });
    await waitFor('both workers ready', () => d.output().includes('all workers ready'), 20_000);
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    z?.remove();
  });

  it(`survives ${TOTAL} mutated packets over UDP and TCP (seed 0x${SEED.toString(16)}) with no worker restarted`, async () => {
    const workers = childPids(d.pid);
    expect(workers.length).toBe(2);
    const ready = logLines(d.output()).filter((l) => l.msg === 'worker ready' && l.workerPid !== undefined).map((l) => Number(l.workerPid)).sort((a, b) => a - b);
    expect(ready).toEqual(workers);
    await checkFixed(d.port);

    const ticksBefore = workers.map(cpuTicks);
    const rnd = prng(SEED);
    const tally = new Tally();
    const started = performance.now();
    await udpStorm(d.port, rnd, tally);
    const udpResponses = tally.responses;
    const tcp = await tcpStorm(d.port, rnd, tally);
    const elapsed = (performance.now() - started) / 1000;
    const sentTotal = Object.values(tally.sent).reduce((a, b) => a + b, 0);
    const byRcode = Object.entries(tally.byRcode).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(' ');
    const sent = CATEGORIES.map((c) => `${c}=${tally.sent[c] ?? 0}`).join(' ');
    const workerTicks = workers.map((p, i) => cpuTicks(p) - ticksBefore[i]!);
    const out = d.output();
    const warnLines = logLines(out).filter((l) => l.level === 40);
    console.log(
      `fuzz-live: sent ${sentTotal} (udp ${UDP_COUNT}, tcp ${TCP_CONNECTIONS * PER_CONNECTION} on ${tcp.connections} connections, ${tcp.badFrames} with a bad length prefix, ${tcp.closedByServer} closed by the server) [${sent}]; ` +
        `responses ${tally.responses} (udp ${udpResponses}, tcp ${tally.responses - udpResponses}) [${byRcode}]; ${elapsed.toFixed(1)} s; worker CPU ticks ${workerTicks.join('/')}; ${warnLines.length} warn log lines`,
    );

    expect(sentTotal).toBe(TOTAL);
    expect(tally.malformed).toEqual([]);
    // A mutated query gets an answer (FORMERR at least) unless it has no full header or QR=1: most are answered.
    expect(tally.responses).toBeGreaterThan(TOTAL / 2);
    expect(tally.byRcode['SERVFAIL'] ?? 0).toBe(0);

    // The same two workers, still running; nothing logged at error level or above, no worker restart.
    expect(childPids(d.pid)).toEqual(workers);
    for (const p of workers) expect(alive(p)).toBe(true);
    // Both workers took part (UDP flows are spread over them by SO_REUSEPORT, TCP connections by the cluster).
    for (const t of workerTicks) expect(t).toBeGreaterThan(0);
    // The whole log is still in the capture window (it keeps the last 4 MiB), so these checks saw every line.
    expect(out.length).toBeLessThan(4 * 1024 * 1024);
    expect(logLines(out).filter((l) => typeof l.level === 'number' && l.level >= 50).map((l) => l.msg)).toEqual([]);
    // Per-packet warnings (bad TSIG, refused NOTIFY/transfer) are sampled: per worker at most one line a second for
    // each kind (8 kinds: 6 TSIG verification errors, notify.refused, transfer.refused), not one per forged packet.
    const sampled = warnLines.filter((l) => ['transfer.tsig-failed', 'notify.refused', 'transfer.refused'].includes(String(l.event)));
    expect(sampled.length).toBeLessThanOrEqual(2 * 8 * (Math.ceil(elapsed) + 2));
    expect(sampled.length).toBeGreaterThan(0);
    expect(out).not.toMatch(/worker died|worker exited|uncaught|unhandled/i);
    await checkFixed(d.port);
  }, 180_000);
});
