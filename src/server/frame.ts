// TCP message framing for DNS: the 2-octet big-endian length prefix (RFC 1035 §4.2.2, RFC 7766 §8).

/** Why a TCP byte stream cannot be deframed; the connection must be closed. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    message: string,
    readonly code: 'zero-length' | 'too-large',
  ) {
    super(message);
  }
}

const NO_MESSAGES: readonly Uint8Array[] = Object.freeze([]);

/** Largest DNS message a 2-octet length can describe (RFC 1035 §4.2.2). */
export const MAX_MESSAGE = 0xffff;

/**
 * Incremental deframer for one TCP connection. `push(chunk)` returns the messages completed by that chunk, in
 * order. Messages lying wholly inside one chunk are returned as zero-copy views of it; only a message split across
 * chunks is copied (into a buffer of exactly its length). At most `maxMessage + 2` bytes are ever buffered.
 */
export class Deframer {
  /** First length octet when only one of the two has arrived, else -1. */
  private hi = -1;
  /** Partially received message, allocated once its length is known. */
  private cur: Uint8Array | null = null;
  private filled = 0;

  constructor(readonly maxMessage: number = MAX_MESSAGE) {
    if (!Number.isInteger(maxMessage) || maxMessage < 1 || maxMessage > MAX_MESSAGE) {
      throw new RangeError(`maxMessage must be an integer in 1..${MAX_MESSAGE}`);
    }
  }

  /** Bytes of an incomplete message currently held (length octets included). */
  get buffered(): number {
    if (this.cur !== null) return 2 + this.filled;
    return this.hi >= 0 ? 1 : 0;
  }

  /**
   * Feed received bytes; returns the completed messages (a shared frozen empty array when none).
   * Throws FrameError on a zero-length or over-long message; the deframer is then unusable.
   */
  push(chunk: Uint8Array): readonly Uint8Array[] {
    let out: Uint8Array[] | null = null;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      const cur = this.cur;
      if (cur !== null) {
        const take = Math.min(cur.length - this.filled, n - i);
        cur.set(chunk.subarray(i, i + take), this.filled);
        this.filled += take;
        i += take;
        if (this.filled === cur.length) {
          this.cur = null;
          this.filled = 0;
          (out ??= []).push(cur);
        }
        continue;
      }
      let len: number;
      if (this.hi >= 0) {
        len = (this.hi << 8) | (chunk[i] as number);
        this.hi = -1;
        i += 1;
      } else if (n - i >= 2) {
        len = ((chunk[i] as number) << 8) | (chunk[i + 1] as number);
        i += 2;
      } else {
        this.hi = chunk[i] as number;
        i += 1;
        break;
      }
      // RFC 1035 §4.2.1 requires a 12-octet header, so a zero-length message is a protocol error (RFC 7766 §8).
      if (len === 0) throw new FrameError('zero-length TCP message', 'zero-length');
      if (len > this.maxMessage) {
        throw new FrameError(`TCP message of ${len} octets exceeds the limit of ${this.maxMessage}`, 'too-large');
      }
      if (n - i >= len) {
        (out ??= []).push(chunk.subarray(i, i + len));
        i += len;
      } else {
        const buf = new Uint8Array(len);
        buf.set(chunk.subarray(i), 0);
        this.filled = n - i;
        this.cur = buf;
        i = n;
      }
    }
    return out ?? NO_MESSAGES;
  }
}

/** `msg` with its 2-octet length prefix (RFC 1035 §4.2.2), in a fresh buffer. */
export function frame(msg: Uint8Array): Buffer {
  const len = msg.length;
  if (len > MAX_MESSAGE) throw new RangeError(`DNS message of ${len} octets cannot be framed (max ${MAX_MESSAGE})`);
  const out = Buffer.allocUnsafe(len + 2);
  out[0] = len >>> 8;
  out[1] = len & 0xff;
  out.set(msg, 2);
  return out;
}
