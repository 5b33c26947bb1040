// DNS protocol constants (RFC 1035, IANA registries) as `as const` objects with derived unions.

export const RRType = {
  A: 1, NS: 2, MD: 3, MF: 4, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, NULL: 10, WKS: 11, PTR: 12, HINFO: 13,
  MINFO: 14, MX: 15, TXT: 16, RP: 17, AFSDB: 18, X25: 19, ISDN: 20, RT: 21, NSAP: 22, SIG: 24, KEY: 25, PX: 26,
  AAAA: 28, LOC: 29, NXT: 30, SRV: 33, NAPTR: 35, KX: 36, CERT: 37, A6: 38, DNAME: 39, OPT: 41, APL: 42, DS: 43,
  SSHFP: 44, IPSECKEY: 45, RRSIG: 46, NSEC: 47, DNSKEY: 48, DHCID: 49, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52,
  SMIMEA: 53, HIP: 55, CDS: 59, CDNSKEY: 60, OPENPGPKEY: 61, CSYNC: 62, ZONEMD: 63, SVCB: 64, HTTPS: 65,
  SPF: 99, NID: 104, L32: 105, L64: 106, LP: 107, EUI48: 108, EUI64: 109, NXNAME: 128, TKEY: 249, TSIG: 250,
  IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255, URI: 256, CAA: 257, AVC: 258, DOA: 259,
  AMTRELAY: 260, TA: 32768, DLV: 32769,
  /** Not a real type: written ALIAS / ANAME in zone files, stored as a CNAME marked for flattening. */
} as const;
export type RRTypeName = keyof typeof RRType;

const typeNames = new Map<number, string>();
for (const [k, v] of Object.entries(RRType)) typeNames.set(v, k);

/** Presentation mnemonic for a type code; RFC 3597 §5 `TYPEnnn` for unknown codes. */
export function typeToString(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`;
}

/** Type code from a mnemonic or RFC 3597 `TYPEnnn`; undefined when neither. */
export function typeFromString(text: string): number | undefined {
  const up = text.toUpperCase();
  const known = (RRType as Record<string, number>)[up];
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(up);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

export const RRClass = { IN: 1, CS: 2, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export function classToString(cls: number): string {
  for (const [k, v] of Object.entries(RRClass)) if (v === cls) return k;
  return `CLASS${cls}`;
}

export function classFromString(text: string): number | undefined {
  const up = text.toUpperCase();
  const known = (RRClass as Record<string, number>)[up];
  if (known !== undefined && up !== 'NONE' && up !== 'ANY') return known;
  const m = /^CLASS(\d{1,5})$/.exec(up);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

export const Rcode = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7,
  NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10, BADVERS: 16, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADMODE: 19,
  BADNAME: 20, BADALG: 21, BADTRUNC: 22, BADCOOKIE: 23,
} as const;

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5, DSO: 6 } as const;

/** EDNS(0) option codes (IANA "DNS EDNS0 Option Codes"). */
export const EdnsOption = { NSID: 3, COOKIE: 10, EDE: 15, PADDING: 12 } as const;

/** Extended DNS Error info codes (RFC 8914 §4). */
export const EdeCode = {
  OTHER: 0, UNSUPPORTED_DNSKEY_ALG: 1, STALE_ANSWER: 3, FORGED_ANSWER: 4, DNSSEC_INDETERMINATE: 5,
  DNSSEC_BOGUS: 6, NOT_READY: 14, BLOCKED: 15, PROHIBITED: 18, NOT_AUTHORITATIVE: 20, NOT_SUPPORTED: 21,
  NO_REACHABLE_AUTHORITY: 22, NETWORK_ERROR: 23, INVALID_DATA: 24,
} as const;

/** Header flag bits in the 16-bit flags word (RFC 1035 §4.1.1, RFC 4035 §3.2). */
export const Flag = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, AD: 0x0020, CD: 0x0010 } as const;

/** EDNS flags in the OPT TTL's low 16 bits: DO (RFC 3225), CO "Compact Answers OK" (RFC 9824 §5.2). */
export const EdnsFlag = { DO: 0x8000, CO: 0x4000 } as const;
