// DNS Cookies on the server side (RFC 7873): check the COOKIE option of a request and make the server cookie of the
// answer in the interoperable format of RFC 9018 (version 1, timestamp, SipHash-2-4), so that every worker and every
// node configured with the same secret accepts the cookies of the others.

import { sipHash24 } from '../util/siphash.js';

export interface CookieSettings {
  /** 16-octet SipHash keys: the first makes new cookies; all are accepted (secret rotation). */
  readonly secrets: readonly Uint8Array[];
  /** Answer BADCOOKIE over UDP to requests without a valid server cookie (RFC 7873 §5.2.3, §5.2.4). */
  readonly require: boolean;
}

/** RFC 7873 §4: the client cookie is 8 octets; a server cookie 8 to 32. */
export const CLIENT_COOKIE = 8;
/** RFC 9018 §4.2: version 1, 3 reserved octets, 32-bit timestamp, 64-bit hash. */
export const SERVER_COOKIE = 16;
/** The COOKIE option data of every answer we send: the client's cookie and our server cookie. */
export const COOKIE_REPLY = CLIENT_COOKIE + SERVER_COOKIE;

/** RFC 9018 §4.3: a cookie is accepted up to an hour old and five minutes ahead of our clock. */
const MAX_AGE = 3600;
const MAX_AHEAD = 300;
/** RFC 9018 §4.3: past half an hour the client is given a new cookie. */
const REFRESH_AGE = 1800;

export type CookieCheck =
  /** The option is malformed: RFC 7873 §5.2.2, FORMERR. */
  | { readonly kind: 'malformed' }
  /** Only a client cookie, or a server cookie we did not make or that has expired (§5.2.3, §5.2.4). */
  | { readonly kind: 'client'; readonly reply: Uint8Array }
  /** A server cookie we made, still fresh (§5.2.5). */
  | { readonly kind: 'valid'; readonly reply: Uint8Array };

/** RFC 7873 §5.2.2: 8 octets (client only) or 16 to 40 (client plus an 8- to 32-octet server cookie). */
export function cookieLengthOk(length: number): boolean {
  return length === CLIENT_COOKIE || (length >= CLIENT_COOKIE + 8 && length <= CLIENT_COOKIE + 32);
}

/** Writes the RFC 9018 §4.4 hash input (client cookie | version | reserved | timestamp | client IP) into `buf`. */
function hashInput(client: Uint8Array, clientOff: number, stamp: number, ip: Uint8Array): Uint8Array {
  const buf = new Uint8Array(CLIENT_COOKIE + 8 + ip.length);
  buf.set(client.subarray(clientOff, clientOff + CLIENT_COOKIE), 0);
  buf[8] = 1;
  buf[12] = stamp >>> 24;
  buf[13] = (stamp >>> 16) & 0xff;
  buf[14] = (stamp >>> 8) & 0xff;
  buf[15] = stamp & 0xff;
  buf.set(ip, 16);
  return buf;
}

/** True when octets [off, off+8) of `a` equal `b`. */
function equal8(a: Uint8Array, off: number, b: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (a[off + i] !== b[i]) return false;
  return true;
}

/**
 * Check the COOKIE option data at `data[off, off+len)` of a request from `ip` (4 or 16 octets) at Unix time `now`, and
 * make the option data of the answer: the client cookie with our server cookie (the one received when it is fresh,
 * else a new one).
 */
export function checkCookie(data: Uint8Array, off: number, len: number, ip: Uint8Array, now: number, s: CookieSettings): CookieCheck {
  if (!cookieLengthOk(len)) return { kind: 'malformed' };
  const reply = new Uint8Array(COOKIE_REPLY);
  reply.set(data.subarray(off, off + CLIENT_COOKIE), 0);
  if (len === CLIENT_COOKIE + SERVER_COOKIE && data[off + 8] === 1) {
    const p = off + CLIENT_COOKIE;
    const stamp = ((data[p + 4]! << 24) | (data[p + 5]! << 16) | (data[p + 6]! << 8) | data[p + 7]!) >>> 0;
    // RFC 1982 arithmetic on the 32-bit timestamp (RFC 9018 §4.3): age in (-2^31, 2^31).
    const age = (now - stamp) | 0;
    if (age <= MAX_AGE && age >= -MAX_AHEAD) {
      const input = hashInput(data, off, stamp, ip);
      for (const secret of s.secrets) {
        if (!equal8(data, p + 8, sipHash24(secret, input))) continue;
        // The cookie is ours; a fresh one is echoed as it came, an older one replaced by the current secret's.
        if (age < REFRESH_AGE && secret === s.secrets[0]) reply.set(data.subarray(p, p + SERVER_COOKIE), CLIENT_COOKIE);
        else writeServerCookie(reply, ip, now, s.secrets[0]!);
        return { kind: 'valid', reply };
      }
    }
  }
  writeServerCookie(reply, ip, now, s.secrets[0]!);
  return { kind: 'client', reply };
}

/** RFC 9018 §4.2: version 1, reserved 0, timestamp `now`, SipHash-2-4 over the client cookie in `reply[0, 8)`. */
function writeServerCookie(reply: Uint8Array, ip: Uint8Array, now: number, secret: Uint8Array): void {
  const input = hashInput(reply, 0, now >>> 0, ip);
  reply.set(input.subarray(8, 16), CLIENT_COOKIE);
  reply.set(sipHash24(secret, input), CLIENT_COOKIE + 8);
}
