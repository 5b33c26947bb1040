// DNSSEC zone keys (ECDSA P-256, algorithm 13): generation, key tags, and BIND-compatible K<zone>.+013+<tag> files.

import { writeFileAtomic } from '../util/atomic-file.js';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import { Name } from '../wire/name.js';

/** RFC 6605 §2: ECDSA Curve P-256 with SHA-256. */
export const ALG_ECDSAP256SHA256 = 13;
/** RFC 4034 §2.1.1: bit 7 (0x0100) Zone Key; bit 15 (0x0001) Secure Entry Point. RFC 5011 §3: bit 8 REVOKE. */
export const DNSKEY_FLAG_ZONE = 0x0100;
export const DNSKEY_FLAG_SEP = 0x0001;
export const DNSKEY_FLAG_REVOKE = 0x0080;
export const KSK_FLAGS = DNSKEY_FLAG_ZONE | DNSKEY_FLAG_SEP; // 257
export const ZSK_FLAGS = DNSKEY_FLAG_ZONE; // 256

export type KeyRole = 'ksk' | 'zsk';

/** BIND key timing metadata (the `.private` Publish/Activate/Inactive/Delete lines), when present. */
export interface KeyTiming {
  readonly publish?: Date;
  readonly activate?: Date;
  readonly inactive?: Date;
  readonly delete?: Date;
}

export interface ZoneKey {
  readonly role: KeyRole;
  readonly flags: number;
  readonly algorithm: 13;
  readonly tag: number;
  /** RFC 6605 §4: the public key is x || y, 64 octets. */
  readonly publicKey: Uint8Array;
  /** DNSKEY RDATA (RFC 4034 §2.1): flags, protocol 3, algorithm, public key. */
  readonly dnskeyRdata: Uint8Array;
  /** Cached node:crypto key object: sign with it directly, never re-import per signature. */
  readonly privateKey: KeyObject;
  readonly created: Date;
  /** Path of the `.key` file this key was loaded from or written to. */
  readonly file?: string;
  readonly timing?: KeyTiming;
}

/** Key tag (RFC 4034 Appendix B): one's-complement-style sum of the DNSKEY RDATA. */
export function keyTag(dnskeyRdata: Uint8Array): number {
  // RFC 4034 Appendix B.1: algorithm 1 (RSA/MD5) uses the low 16 bits of the modulus instead.
  if (dnskeyRdata[3] === 1 && dnskeyRdata.length >= 4) {
    const n = dnskeyRdata.length;
    return ((dnskeyRdata[n - 3]! << 8) | dnskeyRdata[n - 2]!) & 0xffff;
  }
  let ac = 0;
  for (let i = 0; i < dnskeyRdata.length; i++) ac += i & 1 ? dnskeyRdata[i]! : dnskeyRdata[i]! << 8;
  ac += (ac >>> 16) & 0xffff;
  return ac & 0xffff;
}

/** DNSKEY RDATA: flags(2) protocol(1)=3 (RFC 4034 §2.1.2) algorithm(1) public key. */
export function dnskeyRdataOf(flags: number, algorithm: number, publicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + publicKey.length);
  out[0] = (flags >>> 8) & 0xff;
  out[1] = flags & 0xff;
  out[2] = 3;
  out[3] = algorithm;
  out.set(publicKey, 4);
  return out;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Import a P-256 private scalar (32 octets) as a node KeyObject; also returns the public x || y. */
export function importP256PrivateKey(d: Uint8Array): { privateKey: KeyObject; publicKey: Uint8Array } {
  if (d.length !== 32) throw new Error(`ECDSA P-256 private key must be 32 octets, got ${d.length}`);
  // noble is only used here, at load time; signing uses node:crypto.
  const pub = p256.getPublicKey(d, false); // 0x04 || x || y
  const publicKey = pub.slice(1);
  const privateKey = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: b64url(d), x: b64url(publicKey.subarray(0, 32)), y: b64url(publicKey.subarray(32)) },
    format: 'jwk',
  });
  return { privateKey, publicKey };
}

function makeKey(role: KeyRole, privateKey: KeyObject, publicKey: Uint8Array, created: Date, flags?: number): ZoneKey {
  const f = flags ?? (role === 'ksk' ? KSK_FLAGS : ZSK_FLAGS);
  const dnskeyRdata = dnskeyRdataOf(f, ALG_ECDSAP256SHA256, publicKey);
  return { role, flags: f, algorithm: ALG_ECDSAP256SHA256, tag: keyTag(dnskeyRdata), publicKey, dnskeyRdata, privateKey, created };
}

/** Make a new ECDSA P-256 key. `zone` is accepted for symmetry with the file functions (keys are zone-agnostic). */
export function generateKey(_zone: Name, role: KeyRole, now: Date = new Date()): ZoneKey {
  const { privateKey, publicKey: pubObj } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = pubObj.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw new Error('EC key export lacks x/y');
  const publicKey = new Uint8Array(64);
  publicKey.set(Buffer.from(jwk.x, 'base64url'), 0);
  publicKey.set(Buffer.from(jwk.y, 'base64url'), 32);
  // BIND key files record times with one-second precision.
  return makeKey(role, privateKey, publicKey, new Date(Math.floor(now.getTime() / 1000) * 1000));
}

/** The 32-octet private scalar of a key (for writing `.private` files). */
function privateScalar(key: ZoneKey): Uint8Array {
  const jwk = key.privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new Error('EC private key export lacks d');
  const d = Buffer.from(jwk.d, 'base64url');
  if (d.length === 32) return d;
  const out = new Uint8Array(32); // left-pad a short scalar
  out.set(d, 32 - d.length);
  return out;
}

// ---- BIND file names and formats ----

/**
 * Zone name as BIND writes it in key file names: lowercase presentation form without the trailing dot ("." for
 * the root), octets other than [a-z0-9_-] and the label separators as %XX (as dnssec-keygen does for "/" or "$").
 */
export function keyFileZone(zone: Name): string {
  if (zone.isRoot) return '.';
  const parts: string[] = [];
  for (const label of zone.toLowerCase().labels) {
    let s = '';
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
      s += ok ? label[i] : '%' + c.toString(16).toUpperCase().padStart(2, '0');
    }
    parts.push(s);
  }
  return parts.join('.');
}

/** `K<zone>.+013+<tag>` (without extension), e.g. `Kexample.com.+013+05132`. */
export function keyFileBase(zone: Name, algorithm: number, tag: number): string {
  const z = keyFileZone(zone);
  return `K${z === '.' ? '' : z}.+${String(algorithm).padStart(3, '0')}+${String(tag).padStart(5, '0')}`;
}

/** `YYYYMMDDHHMMSS` in UTC (BIND key metadata and RRSIG presentation, RFC 4034 §3.2). */
export function formatTimestamp(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function parseTimestamp(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(s.trim());
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(t) ? undefined : new Date(t);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
/** ctime(3)-style UTC date as BIND puts in `.key` comments: `Fri Nov 27 13:23:30 2026`. */
function ctime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** Text of the `.key` file (comment header + DNSKEY line), as dnssec-keygen writes it. */
export function keyFileText(zone: Name, key: ZoneKey): string {
  const ts = formatTimestamp(key.created);
  const kind = key.role === 'ksk' ? 'key-signing' : 'zone-signing';
  const b64 = Buffer.from(key.publicKey).toString('base64');
  return (
    `; This is a ${kind} key, keyid ${key.tag}, for ${zone.toString()}\n` +
    `; Created: ${ts} (${ctime(key.created)})\n` +
    `; Publish: ${ts} (${ctime(key.created)})\n` +
    `; Activate: ${ts} (${ctime(key.created)})\n` +
    `${zone.toString()} IN DNSKEY ${key.flags} 3 ${key.algorithm} ${b64}\n`
  );
}

/** Text of the `.private` file, BIND Private-key-format v1.3. */
export function privateFileText(key: ZoneKey): string {
  const ts = formatTimestamp(key.created);
  return (
    'Private-key-format: v1.3\n' +
    'Algorithm: 13 (ECDSAP256SHA256)\n' +
    `PrivateKey: ${Buffer.from(privateScalar(key)).toString('base64')}\n` +
    `Created: ${ts}\nPublish: ${ts}\nActivate: ${ts}\n`
  );
}

/** A parsed `.key` file: the DNSKEY record it holds. */
export interface KeyFileRecord {
  readonly owner: Name;
  readonly flags: number;
  readonly protocol: number;
  readonly algorithm: number;
  readonly publicKey: Uint8Array;
}

/** Parse a BIND `.key` file: `;` comments, then `owner [ttl] [class] DNSKEY flags protocol algorithm base64...`. */
export function parseKeyFile(text: string): KeyFileRecord {
  const body = text
    .split('\n')
    .map((l) => {
      const i = l.indexOf(';');
      return i >= 0 ? l.slice(0, i) : l;
    })
    .join(' ')
    .replace(/[()]/g, ' ');
  const tok = body.split(/\s+/).filter((t) => t.length > 0);
  const at = tok.findIndex((t, i) => i > 0 && t.toUpperCase() === 'DNSKEY');
  if (at < 0 || tok.length < at + 5) throw new Error('no DNSKEY record in key file');
  const owner = Name.parse(tok[0]!, Name.root);
  const flags = Number(tok[at + 1]);
  const protocol = Number(tok[at + 2]);
  const algorithm = Number(tok[at + 3]);
  if (![flags, protocol, algorithm].every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff)) {
    throw new Error('bad DNSKEY flags/protocol/algorithm in key file');
  }
  const b64 = tok.slice(at + 4).join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new Error('bad base64 public key in key file');
  return { owner, flags, protocol, algorithm, publicKey: new Uint8Array(Buffer.from(b64, 'base64')) };
}

/** Parse a BIND `.private` file into its `Field: value` lines. */
export function parsePrivateFile(text: string): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}

/** Build a ZoneKey from the contents of a `.key` / `.private` pair. Throws on anything inconsistent. */
export function keyFromFiles(zone: Name, keyText: string, privateText: string, file?: string): ZoneKey {
  const rec = parseKeyFile(keyText);
  if (!rec.owner.equals(zone)) throw new Error(`key file is for ${rec.owner.toString()}, not ${zone.toString()}`);
  if (rec.algorithm !== ALG_ECDSAP256SHA256) throw new Error(`algorithm ${rec.algorithm} is not supported`);
  // RFC 4034 §2.1.2: protocol MUST be 3.
  if (rec.protocol !== 3) throw new Error(`DNSKEY protocol ${rec.protocol} is not 3`);
  if ((rec.flags & DNSKEY_FLAG_ZONE) === 0) throw new Error('DNSKEY lacks the Zone Key flag (RFC 4034 §2.1.1)');
  if (rec.publicKey.length !== 64) throw new Error(`ECDSA P-256 public key must be 64 octets (RFC 6605 §4), got ${rec.publicKey.length}`);
  const priv = parsePrivateFile(privateText);
  const fmt = priv.get('Private-key-format');
  if (fmt === undefined || !/^v1\.\d+$/.test(fmt)) throw new Error(`unsupported Private-key-format ${fmt ?? '(missing)'}`);
  const alg = Number((priv.get('Algorithm') ?? '').split(/\s/)[0]);
  if (alg !== ALG_ECDSAP256SHA256) throw new Error(`private key algorithm ${priv.get('Algorithm') ?? '(missing)'} is not 13`);
  const pk = priv.get('PrivateKey');
  if (pk === undefined) throw new Error('private key file has no PrivateKey');
  const { privateKey, publicKey } = importP256PrivateKey(new Uint8Array(Buffer.from(pk, 'base64')));
  if (Buffer.compare(Buffer.from(publicKey), Buffer.from(rec.publicKey)) !== 0) {
    throw new Error('private key does not match the public key in the .key file');
  }
  const ts = (f: string): Date | undefined => {
    const v = priv.get(f);
    return v === undefined ? undefined : parseTimestamp(v);
  };
  const timing: KeyTiming = {
    ...(ts('Publish') ? { publish: ts('Publish') } : {}),
    ...(ts('Activate') ? { activate: ts('Activate') } : {}),
    ...(ts('Inactive') ? { inactive: ts('Inactive') } : {}),
    ...(ts('Delete') ? { delete: ts('Delete') } : {}),
  };
  const role: KeyRole = rec.flags & DNSKEY_FLAG_SEP ? 'ksk' : 'zsk';
  const key = makeKey(role, privateKey, publicKey, ts('Created') ?? new Date(0), rec.flags);
  return { ...key, timing, ...(file !== undefined ? { file } : {}) };
}

/**
 * Load every `K<zone>.+013+<tag>.key` / `.private` pair for `zone` in `dir`. Files for other algorithms, broken or
 * revoked keys and `.key` files without a `.private` are skipped; a message for each goes to `warnings` if given.
 */
export async function loadKeys(dir: string, zone: Name, warnings?: string[]): Promise<ZoneKey[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const z = keyFileZone(zone);
  const prefix = `K${z === '.' ? '' : z}.+`;
  const keys: ZoneKey[] = [];
  for (const f of entries.sort()) {
    if (!f.startsWith(prefix) || !f.endsWith('.key')) continue;
    const m = /^\+(\d{3})\+(\d{5})\.key$/.exec(f.slice(prefix.length - 1));
    if (!m) continue;
    const alg = Number(m[1]);
    if (alg !== ALG_ECDSAP256SHA256) {
      warnings?.push(`${f}: algorithm ${alg} is not supported (only 13, ECDSAP256SHA256); ignored`);
      continue;
    }
    const keyPath = join(dir, f);
    const privPath = keyPath.slice(0, -'.key'.length) + '.private';
    let keyText: string;
    let privText: string;
    try {
      keyText = await readFile(keyPath, 'utf8');
      privText = await readFile(privPath, 'utf8');
    } catch (e) {
      warnings?.push(`${f}: ${(e as Error).message}; ignored`);
      continue;
    }
    try {
      const key = keyFromFiles(zone, keyText, privText, keyPath);
      if (key.flags & DNSKEY_FLAG_REVOKE) {
        warnings?.push(`${f}: key is revoked (RFC 5011 §2.1); ignored`);
        continue;
      }
      if (key.tag !== Number(m[2])) warnings?.push(`${f}: file name tag ${m[2]} differs from computed key tag ${key.tag}`);
      keys.push(key);
    } catch (e) {
      warnings?.push(`${f}: ${(e as Error).message}; ignored`);
    }
  }
  return keys;
}

/**
 * Write `key` as a BIND key pair in `dir`. The `.private` (mode 0600) is written before the `.key` (0644), each
 * atomically, so a `.key` never exists without its private half. Creates `dir` (0700) if missing. Returns the key
 * with `file` set.
 */
export async function writeKey(dir: string, zone: Name, key: ZoneKey): Promise<ZoneKey> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const base = join(dir, keyFileBase(zone, key.algorithm, key.tag));
  await writeFileAtomic(`${base}.private`, privateFileText(key), 0o600);
  await writeFileAtomic(`${base}.key`, keyFileText(zone, key), 0o644);
  return { ...key, file: `${base}.key` };
}

/**
 * Load the zone's keys from `dir` (created with mode 0700 if missing) and generate + write a KSK and/or ZSK when
 * no key of that role is active now (per BIND timing metadata). A new key never reuses the tag of a key already there (RFC 4034 Appendix B: tags are not unique).
 */
export async function ensureKeys(dir: string, zone: Name, warnings?: string[]): Promise<ZoneKey[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const missing = (keys: readonly ZoneKey[]): boolean => !(['ksk', 'zsk'] as const).every((role) => keys.some((k) => k.role === role && isActive(k)));
  const first = await loadKeys(dir, zone, warnings);
  if (!missing(first)) return first;
  // Several worker processes may load the same zone at once: one of them generates, the others wait for its files,
  // so every process signs with the same keys.
  const release = await lockKeygen(dir, zone);
  try {
    const keys = await loadKeys(dir, zone, warnings);
    for (const role of ['ksk', 'zsk'] as const) {
      if (keys.some((k) => k.role === role && isActive(k))) continue;
      let k = generateKey(zone, role);
      while (keys.some((o) => o.tag === k.tag)) k = generateKey(zone, role);
      keys.push(await writeKey(dir, zone, k));
    }
    return keys;
  } finally {
    await release();
  }
}

/** Locks older than this are left over from a crash and are taken over. */
const STALE_LOCK_MS = 30_000;

/** An exclusive lock file per zone in the key directory (O_CREAT|O_EXCL); resolves to its release function. */
async function lockKeygen(dir: string, zone: Name): Promise<() => Promise<void>> {
  const path = join(dir, `.${keyFileZone(zone)}.keygen.lock`);
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = await stat(path).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) await unlink(path).catch(() => undefined);
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** True when the key's BIND timing metadata says it signs at `now` (Activate passed, Inactive not yet). */
export function isActive(key: ZoneKey, now: Date = new Date()): boolean {
  const t = key.timing;
  if (t?.activate !== undefined && t.activate.getTime() > now.getTime()) return false;
  if (t?.inactive !== undefined && t.inactive.getTime() <= now.getTime()) return false;
  return true;
}

/**
 * The signing KSK and ZSK of a key list (as returned by ensureKeys): the newest active key of each role
 * (per BIND timing metadata). Throws when either role has no active key.
 */
export function activeKeys(keys: readonly ZoneKey[], now: Date = new Date()): { readonly ksk: ZoneKey; readonly zsk: ZoneKey } {
  const pick = (role: KeyRole): ZoneKey | undefined =>
    keys
      .filter((k) => k.role === role && isActive(k, now))
      .sort((a, b) => b.created.getTime() - a.created.getTime() || a.tag - b.tag)[0];
  const ksk = pick('ksk');
  const zsk = pick('zsk');
  if (!ksk || !zsk) throw new Error('zone needs an active KSK and an active ZSK');
  return { ksk, zsk };
}
