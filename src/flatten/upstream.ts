// Stub-resolver client for CNAME flattening: one question to the configured resolvers over UDP, TCP retry on TC,
// per-attempt timeout, resolvers tried in order.

import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import { decodeMessage } from '../wire/decode.js';
import { encodeQuery } from '../wire/encode.js';
import { Flag, RRClass, Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import type { HostPort } from '../util/ip.js';

/** The `flattening:` settings (validated by src/config). */
export interface FlatteningConfig {
  /** Upstream resolvers for external CNAME targets; empty = external targets cannot be flattened. */
  readonly resolvers: readonly HostPort[];
  readonly timeoutMs: number;
  /** Most CNAME hops followed. */
  readonly maxChain: number;
  /** Seconds an expired upstream answer may still be served (RFC 8767 §4). */
  readonly staleTtl: number;
}

/** What came back from the resolvers. `message` is a NOERROR or NXDOMAIN response that matched the question. */
export type UpstreamReply =
  | { readonly kind: 'ok'; readonly message: Message; readonly server: string }
  /** Every resolver timed out, answered SERVFAIL/REFUSED/…, or could not be reached. */
  | { readonly kind: 'fail'; readonly reason: 'timeout' | 'servfail' | 'network' | 'no-resolvers'; readonly detail: string };

/** Sends one question upstream; injectable so tests can script failures. */
export type UpstreamQuery = (name: Name, type: number) => Promise<UpstreamReply>;

/** Our advertised EDNS payload for upstream queries (DNS Flag Day 2020 value). */
const UPSTREAM_UDP_SIZE = 1232;

/** Build a resolver-backed UpstreamQuery. */
export function upstreamClient(resolvers: readonly HostPort[], timeoutMs: number): UpstreamQuery {
  return async (name, type) => {
    if (resolvers.length === 0) return { kind: 'fail', reason: 'no-resolvers', detail: 'no flattening resolvers are configured' };
    let last: UpstreamReply = { kind: 'fail', reason: 'timeout', detail: 'no resolver answered' };
    for (const r of resolvers) {
      const reply = await askOne(r, name, type, timeoutMs);
      if (reply.kind === 'ok') return reply;
      last = reply;
    }
    return last;
  };
}

async function askOne(server: HostPort, name: Name, type: number, timeoutMs: number): Promise<UpstreamReply> {
  // RFC 5452 §9.2: an unpredictable ID; the answer must match ID and question.
  const id = randomInt(0, 0x10000);
  // RFC 1035 §4.1.1: RD=1, we are a stub asking a recursive resolver (or an authoritative server answering its zone).
  const query = encodeQuery({ id, flags: Flag.RD, question: { name, type, class: RRClass.IN }, edns: { udpSize: UPSTREAM_UDP_SIZE, do: false, options: [] } });
  const where = server.text;
  let bytes: Uint8Array | null;
  try {
    bytes = await udpExchange(server, query, timeoutMs);
  } catch (e) {
    return { kind: 'fail', reason: 'network', detail: `${where}: ${(e as Error).message}` };
  }
  if (bytes === null) return { kind: 'fail', reason: 'timeout', detail: `${where}: no answer within ${timeoutMs} ms` };
  let msg = parse(bytes, id, name, type);
  if (typeof msg === 'string') return { kind: 'fail', reason: 'servfail', detail: `${where}: ${msg}` };
  if (msg.flags & Flag.TC) {
    // RFC 7766 §5 / RFC 1035 §4.2.1: a truncated UDP answer is retried over TCP.
    try {
      bytes = await tcpExchange(server, query, timeoutMs);
    } catch (e) {
      return { kind: 'fail', reason: 'network', detail: `${where} (TCP): ${(e as Error).message}` };
    }
    if (bytes === null) return { kind: 'fail', reason: 'timeout', detail: `${where} (TCP): no answer within ${timeoutMs} ms` };
    msg = parse(bytes, id, name, type);
    if (typeof msg === 'string') return { kind: 'fail', reason: 'servfail', detail: `${where} (TCP): ${msg}` };
  }
  // Only NOERROR and NXDOMAIN are answers about the name; anything else (SERVFAIL, REFUSED, …) means "try elsewhere".
  if (msg.rcode !== Rcode.NOERROR && msg.rcode !== Rcode.NXDOMAIN) return { kind: 'fail', reason: 'servfail', detail: `${where}: rcode ${msg.rcode}` };
  return { kind: 'ok', message: msg, server: where };
}

/** Decode and check the reply matches the query; a string describes why it does not. */
function parse(bytes: Uint8Array, id: number, name: Name, type: number): Message | string {
  let msg: Message;
  try {
    msg = decodeMessage(bytes);
  } catch (e) {
    return `malformed reply (${(e as Error).message})`;
  }
  const q = msg.question[0];
  // RFC 5452 §4.3: accept only a response with our ID and question.
  if (msg.id !== id || !(msg.flags & Flag.QR) || !q || q.name.key !== name.key || q.type !== type) return 'reply does not match the question';
  return msg;
}

/** One datagram to `server`, the first reply from it back (null on timeout); also used by the test clients. */
export function udpExchange(server: HostPort, query: Uint8Array, timeoutMs: number): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(server.address.family === 6 ? 'udp6' : 'udp4');
    let done = false;
    const finish = (v: Uint8Array | null, err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on('message', (msg, rinfo) => {
      // RFC 5452 §9.1: only datagrams from the server we asked.
      if (rinfo.port === server.port) finish(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    });
    sock.on('error', (e) => finish(null, e));
    sock.send(query, server.port, server.address.text, (e) => {
      if (e) finish(null, e);
    });
  });
}

function tcpExchange(server: HostPort, query: Uint8Array, timeoutMs: number): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: server.address.text, port: server.port });
    let buf: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (v: Uint8Array | null, err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on('connect', () => {
      // RFC 1035 §4.2.2: two-octet length prefix.
      const frame = Buffer.alloc(2 + query.length);
      frame.writeUInt16BE(query.length, 0);
      frame.set(query, 2);
      sock.write(frame);
    });
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length >= 2 + len) finish(new Uint8Array(buf.subarray(2, 2 + len)));
      }
    });
    sock.on('error', (e) => finish(null, e));
    sock.on('close', () => finish(null, new Error('connection closed before a full answer')));
  });
}
