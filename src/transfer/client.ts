// Outgoing transfer-protocol exchanges: SOA checks, IXFR/AXFR pulls over TCP with TSIG stream verification, and
// NOTIFY messages over UDP (RFC 1995, RFC 5936, RFC 1996, RFC 8945).

import { createSocket } from 'node:dgram';
import { connect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createHash, randomInt, type X509Certificate } from 'node:crypto';
import { Flag, Opcode, Rcode, RRClass, RRType } from '../wire/constants.js';
import { decodeMessage } from '../wire/decode.js';
import { encodeQuery } from '../wire/encode.js';
import type { Message, WireRR } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import type { RR } from '../zone/model.js';
import { soaSerial } from './changeset.js';
import { AxfrAssembler, IxfrParser, type IxfrResult } from './ixfr-parse.js';
import { signMessage, TsigStream, verifyMessage, type TsigKey } from './tsig.js';

/** Where to send a request. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly key?: TsigKey | undefined;
  /** Zone transfer over TLS (RFC 9103): how the primary's certificate is checked. */
  readonly tls?: TlsPeer | undefined;
}

/**
 * RFC 9103 §9.3 strict TLS: the certificate must chain to `ca` (PEM; default the system's CAs) and name `servername`
 * (default the address), or, with `pin`, its public key must have that SHA-256 (base64 of the SPKI, RFC 7858 §4.2).
 */
export interface TlsPeer {
  readonly ca?: Buffer | undefined;
  readonly servername?: string | undefined;
  readonly pin?: string | undefined;
}

/** Base64 SHA-256 of a certificate's DER SubjectPublicKeyInfo (the RFC 7469 / RFC 7858 §4.2 pin). */
export function spkiPin(cert: X509Certificate | undefined): string | undefined {
  return cert === undefined ? undefined : createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

function openStream(ep: Endpoint): Socket {
  const t = ep.tls;
  if (t === undefined) return connect({ host: ep.address, port: ep.port });
  return tlsConnect({
    host: ep.address,
    port: ep.port,
    ALPNProtocols: ['dot'],
    minVersion: 'TLSv1.2',
    ...(t.servername !== undefined && !isIP(t.servername) ? { servername: t.servername } : {}),
    ...(t.ca !== undefined ? { ca: t.ca } : {}),
    // A pinned key replaces the chain check (RFC 7858 §4.2); it is compared on 'secureConnect'.
    rejectUnauthorized: t.pin === undefined,
    checkServerIdentity: (host, cert) => (t.pin !== undefined ? undefined : checkServerIdentity(t.servername ?? host, cert)),
  });
}

/** Any failure of a transfer exchange, with a short machine-readable reason. */
export class TransferError extends Error {
  override readonly name = 'TransferError';
  constructor(
    readonly reason: 'timeout' | 'network' | 'rcode' | 'tsig' | 'malformed' | 'stream' | 'limit',
    message: string,
  ) {
    super(message);
  }
}

const RCODE_NAMES: Readonly<Record<number, string>> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 9: 'NOTAUTH' };
function rcodeName(rc: number): string {
  return RCODE_NAMES[rc] ?? `RCODE${rc}`;
}

/** A request ready to send: bytes plus the MAC to verify the answer with (RFC 8945 §5.3). */
interface Prepared {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly mac?: Uint8Array;
}

function prepare(zone: Name, qtype: number, key: TsigKey | undefined, opts: { opcode?: number; flags?: number; answer?: readonly WireRR[]; authority?: readonly WireRR[] } = {}): Prepared {
  const id = randomInt(0, 0x10000);
  const toEntries = (rrs: readonly WireRR[] | undefined) => (rrs ?? []).map((r) => ({ owner: r.owner, type: r.type, class: r.class, ttl: r.ttl, rdata: [r.rdata] }));
  const bytes = encodeQuery({
    id,
    ...(opts.opcode !== undefined ? { opcode: opts.opcode } : {}),
    ...(opts.flags !== undefined ? { flags: opts.flags } : {}),
    question: { name: zone, type: qtype, class: RRClass.IN },
    answer: toEntries(opts.answer),
    authority: toEntries(opts.authority),
  });
  if (!key) return { id, bytes };
  const s = signMessage(bytes, key);
  return { id, bytes: s.message, mac: s.mac };
}

/**
 * Send one framed request over TCP (RFC 7766 §8: two-octet length prefix) and hand every response message to
 * `onMessage` until it returns true (done) or the peer closes. Rejects on timeout (whole exchange, or idle).
 */
export function tcpExchange(ep: Endpoint, request: Uint8Array, onMessage: (msg: Uint8Array) => boolean, timeoutMs: number, idleMs = timeoutMs): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let sock: Socket | undefined;
    let pending: Buffer = Buffer.alloc(0);
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(idle);
      sock?.destroy();
      if (err) reject(err);
      else resolve();
    };
    const total = setTimeout(() => finish(new TransferError('timeout', `no complete answer from ${ep.address}:${ep.port} within ${timeoutMs} ms`)), timeoutMs);
    let idle = setTimeout(() => undefined, 0);
    const bumpIdle = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(new TransferError('timeout', `${ep.address}:${ep.port} stalled for ${idleMs} ms`)), idleMs);
    };
    bumpIdle();
    sock = openStream(ep);
    sock.setNoDelay(true);
    sock.on(ep.tls === undefined ? 'connect' : 'secureConnect', () => {
      if (ep.tls?.pin !== undefined) {
        const got = spkiPin((sock as TLSSocket).getPeerX509Certificate());
        if (got !== ep.tls.pin) {
          finish(new TransferError('network', `${ep.address}:${ep.port}: TLS key pin mismatch (got ${got ?? 'no key'})`));
          return;
        }
      }
      const frame = Buffer.alloc(2 + request.length);
      frame.writeUInt16BE(request.length, 0);
      frame.set(request, 2);
      sock!.write(frame);
    });
    sock.on('data', (chunk: Buffer) => {
      bumpIdle();
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = new Uint8Array(pending.subarray(2, 2 + len));
        pending = pending.subarray(2 + len);
        let done: boolean;
        try {
          done = onMessage(msg);
        } catch (e) {
          finish(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        if (done) {
          finish();
          return;
        }
      }
    });
    sock.on('error', (e) => finish(new TransferError('network', `${ep.address}:${ep.port}: ${e.message}`)));
    sock.on('close', () => finish(new TransferError('stream', `${ep.address}:${ep.port} closed the connection before the answer was complete`)));
  });
}

/** Decode a response, check ID/QR/RCODE and verify its TSIG (first message) or the stream (later messages). */
function checkResponse(msg: Uint8Array, req: Prepared, stream: TsigStream | undefined, ep: Endpoint): Message {
  if (stream) {
    const v = stream.push(msg);
    if (!v.ok) throw new TransferError('tsig', `TSIG ${v.error} from ${ep.address}:${ep.port}: ${v.detail}`);
  }
  let m: Message;
  try {
    m = decodeMessage(msg);
  } catch (e) {
    throw new TransferError('malformed', `malformed answer from ${ep.address}:${ep.port}: ${(e as Error).message}`);
  }
  if (m.id !== req.id) throw new TransferError('malformed', `answer ID ${m.id} does not match ${req.id}`);
  if ((m.flags & Flag.QR) === 0) throw new TransferError('malformed', 'answer without QR');
  // RFC 8945 §5.3: a signed request must get a signed answer (checked by the stream); an error rcode ends it.
  if (m.rcode !== Rcode.NOERROR) throw new TransferError('rcode', `${ep.address}:${ep.port} answered ${rcodeName(m.rcode)}`);
  return m;
}

/** Ask for the zone's SOA over TCP (RFC 1034 §4.3.5 refresh check). Returns the SOA record. */
export async function querySoa(ep: Endpoint, zone: Name, timeoutMs = 5000): Promise<WireRR> {
  const req = prepare(zone, RRType.SOA, ep.key);
  const stream = ep.key && req.mac ? new TsigStream(ep.key, req.mac) : undefined;
  let soa: WireRR | undefined;
  await tcpExchange(ep, req.bytes, (msg) => {
    const m = checkResponse(msg, req, stream, ep);
    soa = m.answer.find((r) => r.type === RRType.SOA && r.owner.equals(zone));
    if (!soa) throw new TransferError('malformed', `${ep.address}:${ep.port} has no SOA for ${zone.toString()} (not authoritative?)`);
    return true;
  }, timeoutMs);
  return soa!;
}

/** Caps on one incoming transfer (the zone's limits.max-records and limits.max-file-size). */
export interface PullCaps {
  /** Records in the transfer's answer sections (for IXFR: deletions and additions together). */
  readonly maxRecords: number;
  /** Bytes of the transfer's DNS messages. */
  readonly maxBytes: number;
}

export interface PullResult {
  readonly kind: 'axfr' | 'ixfr' | 'uptodate';
  readonly result: IxfrResult;
  readonly messages: number;
  readonly bytes: number;
}

/**
 * Pull the zone: IXFR from `fromSerial` (RFC 1995 §3: our SOA in the authority section) when `ixfrFrom` is given,
 * else AXFR (RFC 5936). Every message is TSIG-verified when a key is set (RFC 8945 §5.3.1). Nothing is applied
 * here: the caller gets the parsed stream.
 */
export async function pullZone(ep: Endpoint, zone: Name, ixfrFrom: WireRR | undefined, timeoutMs = 120_000, idleMs = 15_000, caps?: PullCaps): Promise<PullResult> {
  const req = ixfrFrom ? prepare(zone, RRType.IXFR, ep.key, { authority: [ixfrFrom] }) : prepare(zone, RRType.AXFR, ep.key);
  const stream = ep.key && req.mac ? new TsigStream(ep.key, req.mac) : undefined;
  const ixfr = ixfrFrom ? new IxfrParser({ clientSerial: soaSerial(ixfrFrom.rdata), zone }) : undefined;
  const axfr = ixfrFrom ? undefined : new AxfrAssembler({ zone });
  let messages = 0;
  let bytes = 0;
  let soleSoa = false;
  let records = 0;
  const what = ixfrFrom ? 'IXFR' : 'AXFR';
  await tcpExchange(ep, req.bytes, (msg) => {
    messages++;
    bytes += msg.length;
    // Caps are checked per message, so a hostile primary is cut off before the stream fills our memory.
    if (caps && bytes > caps.maxBytes) {
      throw new TransferError('limit', `${what} of ${zone.toString()} from ${ep.address}:${ep.port} passed ${caps.maxBytes} bytes (limits.max-file-size); aborted`);
    }
    const m = checkResponse(msg, req, stream, ep);
    records += m.answer.length;
    // RFC 5936 §2.2: the stream repeats the SOA at its end, so a zone of exactly maxRecords records fits.
    if (caps && records > caps.maxRecords + 1) {
      throw new TransferError('limit', `${what} of ${zone.toString()} from ${ep.address}:${ep.port} passed ${caps.maxRecords} records (limits.max-records); aborted`);
    }
    if (ixfr) {
      ixfr.pushAll(m.answer);
      // RFC 1995 §4: a single-SOA answer is complete in one message.
      if (messages === 1 && m.answer.length === 1 && !ixfr.done) soleSoa = true;
      return ixfr.done || soleSoa;
    }
    axfr!.pushAll(m.answer);
    return axfr!.done;
  }, timeoutMs, idleMs);
  // RFC 8945 §5.3.1: the last message of the stream must be signed.
  if (stream && !stream.finish()) throw new TransferError('tsig', 'transfer did not end with a signed message');
  if (ixfr) {
    const r = ixfr.finish();
    return { kind: r.kind === 'ixfr' ? 'ixfr' : r.kind === 'axfr' ? 'axfr' : 'uptodate', result: r, messages, bytes };
  }
  const a = axfr!.finish();
  return { kind: 'axfr', result: { kind: 'axfr', soa: a.soa, records: a.records }, messages, bytes };
}

/**
 * Send one NOTIFY (RFC 1996 §3.7: opcode NOTIFY, AA, QTYPE SOA, the new SOA in the answer section) over UDP and
 * wait for the matching response. Resolves on a NOERROR answer (TSIG-verified when signed), rejects otherwise.
 */
export function sendNotify(ep: Endpoint, zone: Name, soa: RR | undefined, timeoutMs = 2000): Promise<void> {
  const req = prepare(zone, RRType.SOA, ep.key, { opcode: Opcode.NOTIFY, flags: Flag.AA, ...(soa ? { answer: [soa] } : {}) });
  return new Promise((resolve, reject) => {
    const family = ep.address.includes(':') ? 'udp6' : 'udp4';
    const sock = createSocket(family);
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new TransferError('timeout', `no NOTIFY answer from ${ep.address}:${ep.port}`)), timeoutMs);
    sock.on('error', (e) => finish(new TransferError('network', e.message)));
    sock.on('message', (buf, rinfo) => {
      if (rinfo.port !== ep.port) return;
      const msg = new Uint8Array(buf);
      if (msg.length < 12 || ((msg[0]! << 8) | msg[1]!) !== req.id) return; // RFC 5452 §9.1: ignore mismatches
      try {
        if (ep.key && req.mac) {
          const v = verifyMessage(msg, (n) => (n.equals(ep.key!.name) ? ep.key : undefined), { requestMac: req.mac });
          if (!v.ok) throw new TransferError('tsig', `NOTIFY answer TSIG ${v.error}: ${v.detail}`);
        }
        const m = decodeMessage(msg);
        if (m.opcode !== Opcode.NOTIFY) throw new TransferError('malformed', 'NOTIFY answer with another opcode');
        if (m.rcode !== Rcode.NOERROR) throw new TransferError('rcode', `NOTIFY answered ${rcodeName(m.rcode)}`);
        finish();
      } catch (e) {
        finish(e instanceof Error ? e : new Error(String(e)));
      }
    });
    sock.send(req.bytes, ep.port, ep.address, (e) => {
      if (e) finish(new TransferError('network', e.message));
    });
  });
}
