// DNS clients for tests: dig/kdig runners with `+noall +answer` parsing, and raw UDP/TCP exchanges plus a query
// builder (dns-packet) for sending arbitrary, even malformed, packets to a server on loopback.

import { execFile } from 'node:child_process';
import dnsPacket from 'dns-packet';
import { parseIp } from '../../src/util/ip.js';
import { udpExchange } from '../../src/flatten/upstream.js';
import { tcpExchange, TransferError } from '../../src/transfer/client.js';
import { parseMessage } from './dnsmsg.js';
import { tool } from './tools.js';

// ---------------------------------------------------------------------------------------------------------------
// dig / kdig

export interface DigRecord {
  readonly owner: string;
  readonly ttl: number;
  readonly class: string;
  readonly type: string;
  /** RDATA as printed by the tool (whitespace-collapsed). */
  readonly rdata: string;
}

export interface DigRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

function run(bin: string, args: readonly string[], timeoutMs: number): Promise<DigRun> {
  return new Promise((resolve) => {
    execFile(bin, [...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ stdout, stderr, code });
    });
  });
}

function binary(name: 'dig' | 'kdig'): string {
  const t = tool(name);
  if ('skip' in t) throw new Error(t.skip);
  return t.path;
}

/** Run `dig @127.0.0.1 -p PORT ...args` (adds +time=2 +tries=1). */
export function dig(port: number, args: readonly string[], timeoutMs = 10_000): Promise<DigRun> {
  return run(binary('dig'), ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args], timeoutMs);
}

/** Run `kdig @127.0.0.1 -p PORT ...args` (adds +time=2 +retry=0). */
export function kdig(port: number, args: readonly string[], timeoutMs = 10_000): Promise<DigRun> {
  return run(binary('kdig'), ['@127.0.0.1', '-p', String(port), '+time=2', '+retry=0', ...args], timeoutMs);
}

/**
 * Parse record lines as printed by `dig +noall +answer` (or +authority/+additional; also kdig with
 * `+noall +answer`): `owner ttl class type rdata...`. Comment and blank lines are skipped.
 */
export function parseRecords(text: string): DigRecord[] {
  const out: DigRecord[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t.length === 0 || t.startsWith(';')) continue;
    const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(t);
    if (!m) continue;
    out.push({ owner: m[1]!, ttl: Number(m[2]), class: m[3]!, type: m[4]!, rdata: m[5]!.replace(/\s+/g, ' ').trim() });
  }
  return out;
}

/** `dig ... +noall +answer NAME TYPE` parsed into records. */
export async function digAnswer(port: number, name: string, type: string, extra: readonly string[] = []): Promise<DigRecord[]> {
  const r = await dig(port, ['+noall', '+answer', ...extra, name, type]);
  if (r.code !== 0) throw new Error(`dig ${name} ${type} failed (${r.code}): ${r.stderr || r.stdout}`);
  return parseRecords(r.stdout);
}

/** The `status:` of a full dig run (e.g. "NOERROR", "NXDOMAIN"), or undefined when no reply. */
export function digStatus(stdout: string): string | undefined {
  return /status: ([A-Z]+)/.exec(stdout)?.[1];
}

/** The header flags of a full dig run, e.g. ["qr","aa","rd"]. */
export function digFlags(stdout: string): string[] {
  const m = /;; flags: ([a-z ]*);/.exec(stdout);
  return m ? m[1]!.trim().split(/\s+/).filter((f) => f.length > 0) : [];
}

// ---------------------------------------------------------------------------------------------------------------
// Raw exchanges

export class DnsTimeoutError extends Error {
  override readonly name = 'DnsTimeoutError';
}

/** Send one datagram to host:port and resolve with the first datagram back from there, or null on timeout. */
export async function queryUdpOrTimeout(port: number, bytes: Uint8Array, timeoutMs = 2000, host = '127.0.0.1'): Promise<Buffer | null> {
  const address = parseIp(host);
  if (address === undefined) throw new Error(`not an IP address: ${host}`);
  const r = await udpExchange({ address, port, text: `${host}:${port}` }, bytes, timeoutMs);
  return r === null ? null : Buffer.from(r.buffer, r.byteOffset, r.byteLength);
}

/** Send one datagram and resolve with the response bytes; rejects with DnsTimeoutError when none arrives. */
export async function queryUdp(port: number, bytes: Uint8Array, timeoutMs = 2000, host = '127.0.0.1'): Promise<Buffer> {
  const r = await queryUdpOrTimeout(port, bytes, timeoutMs, host);
  if (r === null) throw new DnsTimeoutError(`no UDP response from ${host}:${port} within ${timeoutMs} ms`);
  return r;
}

/**
 * Open a TCP connection, send `bytes` with the RFC 1035 §4.2.2 two-octet length prefix, and collect response
 * messages until `isLast(msg, index)` returns true or the server closes. Rejects on timeout with none received.
 */
export async function queryTcpAll(
  port: number,
  bytes: Uint8Array,
  isLast: (msg: Buffer, index: number) => boolean,
  timeoutMs = 5000,
  host = '127.0.0.1',
): Promise<Buffer[]> {
  const msgs: Buffer[] = [];
  const onMessage = (m: Uint8Array): boolean => {
    msgs.push(Buffer.from(m.buffer, m.byteOffset, m.byteLength));
    return isLast(msgs[msgs.length - 1]!, msgs.length - 1);
  };
  try {
    await tcpExchange({ address: host, port }, bytes, onMessage, timeoutMs);
  } catch (e) {
    // What arrived before a timeout or close is the answer; with nothing at all, the exchange failed.
    if (msgs.length > 0) return msgs;
    if (e instanceof TransferError && e.reason === 'timeout') throw new DnsTimeoutError(`no TCP response from ${host}:${port} within ${timeoutMs} ms`);
    throw e;
  }
  return msgs;
}

/** One query over TCP, one response message. */
export async function queryTcp(port: number, bytes: Uint8Array, timeoutMs = 5000, host = '127.0.0.1'): Promise<Buffer> {
  const msgs = await queryTcpAll(port, bytes, () => true, timeoutMs, host);
  const first = msgs[0];
  if (first === undefined) throw new Error(`TCP connection to ${host}:${port} closed without a response`);
  return first;
}

// ---------------------------------------------------------------------------------------------------------------
// Query builder

export interface EdnsSpec {
  readonly udpSize: number;
  readonly do: boolean;
  /** RFC 9824 §5.2 Compact Answers OK. */
  readonly co?: boolean;
  /** EDNS version (RFC 6891 §6.1.3), default 0. */
  readonly version?: number;
  readonly options?: readonly { readonly code: number; readonly data: Uint8Array }[];
}

export interface QuerySpec {
  readonly name: string;
  /** Mnemonic ("A", "TYPE65534") or numeric code. */
  readonly type: string | number;
  /** Default IN. Numeric codes allowed. */
  readonly class?: 'IN' | 'CH' | 'HS' | 'ANY' | number;
  /** Raw 16-bit flags word without QR (default RD=0: authoritative tests). Opcode bits go here too. */
  readonly flags?: number;
  readonly edns?: EdnsSpec;
  readonly id?: number;
}

const TYPE_CODES: Readonly<Record<string, number>> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, LOC: 29, SRV: 33, NAPTR: 35,
  DNAME: 39, OPT: 41, DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52,
  CDS: 59, CDNSKEY: 60, SVCB: 64, HTTPS: 65, SPF: 99, IXFR: 251, AXFR: 252, ANY: 255, URI: 256, CAA: 257,
};
const CLASS_CODES: Readonly<Record<string, number>> = { IN: 1, CH: 3, HS: 4, ANY: 255 };

function typeCode(t: string | number): number {
  if (typeof t === 'number') return t;
  const up = t.toUpperCase();
  const k = TYPE_CODES[up];
  if (k !== undefined) return k;
  const m = /^TYPE(\d+)$/.exec(up);
  if (m) return Number(m[1]);
  throw new Error(`unknown type ${t}`);
}

/**
 * Build query bytes. The header/question are written by hand (so any type/class code and the exact qname case go
 * on the wire); the OPT RR is encoded by dns-packet.
 */
export function buildQuery(q: QuerySpec): Buffer {
  const id = q.id ?? Math.floor(Math.random() * 0x10000);
  const cls = q.class === undefined ? 1 : typeof q.class === 'number' ? q.class : CLASS_CODES[q.class]!;
  const qname = encodeName(q.name);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE((q.flags ?? 0) & 0xffff, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(q.edns ? 1 : 0, 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(typeCode(q.type), 0);
  tail.writeUInt16BE(cls, 2);
  const parts: Buffer[] = [head, qname, tail];
  if (q.edns) parts.push(encodeOpt(q.edns));
  return Buffer.concat(parts);
}

/**
 * An OPT RR (RFC 6891 §6.1.2) as bytes: dns-packet encodes the fixed part, options are appended here so any
 * option code (also unknown ones) can be sent.
 */
export function encodeOpt(e: EdnsSpec): Buffer {
  const flags = (e.do ? 0x8000 : 0) | (e.co === true ? 0x4000 : 0);
  const opt: dnsPacket.OptAnswer = {
    type: 'OPT',
    name: '.',
    udpPayloadSize: e.udpSize,
    extendedRcode: 0,
    ednsVersion: e.version ?? 0,
    flags,
    flag_do: e.do,
    options: [],
  };
  // Encode a header-only packet carrying the OPT and cut the 12-octet header off.
  const base = dnsPacket.encode({ type: 'query', id: 0, flags: 0, additionals: [opt] }).subarray(12);
  const opts = (e.options ?? []).map((o) => {
    const b = Buffer.alloc(4 + o.data.length);
    b.writeUInt16BE(o.code, 0);
    b.writeUInt16BE(o.data.length, 2);
    b.set(o.data, 4);
    return b;
  });
  const out = Buffer.concat([base, ...opts]);
  out.writeUInt16BE(out.length - 11, 9); // RDLENGTH: everything after the 11 fixed octets
  return out;
}

/** Uncompressed wire form of a presentation name, keeping case; `\DDD` and `\X` escapes honoured. */
export function encodeName(name: string): Buffer {
  const out: number[] = [];
  if (name === '.' || name === '') return Buffer.from([0]);
  const labels: number[][] = [];
  let cur: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '\\') {
      const d = name.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(d)) {
        cur.push(Number(d));
        i += 3;
      } else {
        cur.push(name.charCodeAt(i + 1));
        i += 1;
      }
    } else if (c === '.') {
      labels.push(cur);
      cur = [];
    } else {
      cur.push(name.charCodeAt(i));
    }
  }
  if (cur.length > 0) labels.push(cur);
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) throw new Error(`bad label in ${name}`);
    out.push(l.length, ...l);
  }
  out.push(0);
  return Buffer.from(out);
}

/** True when the server on `port` answers `SOA zone` authoritatively with NOERROR and an SOA (readiness probe). */
export async function answersSoa(port: number, zone: string, timeoutMs = 300): Promise<boolean> {
  const r = await queryUdpOrTimeout(port, buildQuery({ name: zone, type: 'SOA' }), timeoutMs);
  if (r === null) return false;
  const m = parseMessage(r);
  return m.rcode === 0 && m.aa && m.answer.some((rr) => rr.type === 6);
}
