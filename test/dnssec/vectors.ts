// Published DNSSEC test vectors shared by the dnssec tests (RFC 4034 §5.4, RFC 6605 §6.1/§6.2).

/** RFC 6605 §6.1 (ECDSA P-256): zone example.net. */
export const RFC6605_PRIVATE = 'GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=';
export const RFC6605_DNSKEY_B64 = 'GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==';
export const RFC6605_TAG = 55648;
export const RFC6605_DS_SHA256 = 'b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17';
/** www.example.net. 3600 IN RRSIG A 13 3 3600 20100909100439 20100812100439 55648 example.net. <sig> */
export const RFC6605_RRSIG_SIG = 'qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==';
export const RFC6605_EXPIRATION = Date.UTC(2010, 8, 9, 10, 4, 39) / 1000;
export const RFC6605_INCEPTION = Date.UTC(2010, 7, 12, 10, 4, 39) / 1000;

/** RFC 6605 §6.2 (ECDSA P-384), for the SHA-384 DS (digest type 4). */
export const RFC6605_P384_DNSKEY_B64 =
  'xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40';
export const RFC6605_P384_TAG = 10771;
export const RFC6605_P384_DS_SHA384 =
  '72d7b62976ce06438e9c0bf319013cf801f09ecc84b8d7e9495f27e305c6a9b0563a9b5f4d288405c3008a946df983d6';

/** RFC 4034 §5.4: dskey.example.com. 86400 IN DNSKEY 256 3 5 ... ; key id = 60485, DS digest type 1. */
export const RFC4034_DNSKEY_B64 =
  'AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==';
export const RFC4034_TAG = 60485;
export const RFC4034_DS_SHA1 = '2BB183AF5F22588179A53B0A98631FAD1A292118';

export function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function toHex(u: Uint8Array): string {
  return Buffer.from(u).toString('hex');
}

/** DNSKEY RDATA from flags/algorithm and a base64 key (protocol 3). */
export function dnskey(flags: number, alg: number, keyB64: string): Uint8Array {
  const k = b64(keyB64);
  const out = new Uint8Array(4 + k.length);
  out[0] = flags >> 8;
  out[1] = flags & 0xff;
  out[2] = 3;
  out[3] = alg;
  out.set(k, 4);
  return out;
}
