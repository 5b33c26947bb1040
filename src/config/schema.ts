// Validates an untyped config value (parsed YAML) into a frozen `Config`, collecting every problem as a path issue.

import { hostname as osHostname, networkInterfaces } from 'node:os';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Name, NameError } from '../wire/name.js';
import { suggest, type ConfigErrorKind, type Path } from './errors.js';
import { parseCidr, parseHostPort, parseIp, type Cidr, type HostPort, type IpAddress } from '../util/ip.js';
import {
  DENIAL_MODES, DNSSEC_STATES, LOG_LEVELS, SERIAL_POLICIES, TSIG_ALGORITHMS, ZONE_TYPES,
  type AccessRef, type AclConfig, type Config, type CookiesConfig, type RrlConfig, type DnssecConfig, type FlatteningConfig, type IdentityConfig,
  type PeerConfig, type ProxyConfig, type TsigKeyConfig, type ZoneConfig, type LimitsConfig, type AnalyticsConfig, type ZoneLimits,
  type TlsConfig,
} from './types.js';
import { DEFAULT_ZONE_LIMITS } from '../zone/limits.js';
import { typeFromMnemonic } from '../wire/rdata/index.js';

/** A validation finding before it is pinned to a source position. */
export interface ConfigIssue {
  readonly kind: ConfigErrorKind;
  readonly severity: 'error' | 'warning';
  readonly path: Path;
  readonly message: string;
  /** Point at the mapping key (unknown keys) or at the value. */
  readonly at: 'key' | 'value';
}

export interface ValidateResult {
  /** Set only when there are no error-severity issues. */
  readonly config: Config | undefined;
  readonly issues: readonly ConfigIssue[];
}

/** Seed "Zone transfers": "The maximum number of linked peers per zone is 30." */
export const MAX_PEERS_PER_ZONE = 30;

const DEFAULT_LISTEN = ['127.0.0.1:5353'];
const UDP_IO = ['auto', 'batched', 'dgram'] as const;

type Rec = { readonly [key: string]: unknown };

/**
 * Default one-off signatures per worker per second: about a tenth of a core at node:crypto's ~27 µs per ECDSA P-256
 * signature, far above the NXDOMAIN rate of real resolver traffic (README "Signing budget").
 */
const DEFAULT_SIGNING_BUDGET = 4000;

const TOP_KEYS = [
  'listen', 'workers', 'zones-dir', 'state-dir', 'log', 'identity', 'edns', 'udp', 'tcp', 'answer-cache',
  'signature-cache', 'signing-budget', 'api', 'tls', 'cookies', 'rrl', 'proxy', 'flattening', 'tsig-keys', 'peers', 'acl', 'zones', 'journal',
  'limits', 'analytics',
] as const;
const ZONE_KEYS = [
  'name', 'file', 'type', 'notify', 'allow-transfer', 'allow-notify', 'allow-update', 'update-policy', 'primaries', 'refresh', 'serial',
  'flatten-all-cnames', 'multi-provider', 'proxy', 'overlay', 'dnssec', 'limits', 'members', 'catalog-group',
] as const;
/** `type:` as written: a `catalog` zone (RFC 9432 producer) becomes a primary zone with generated contents. */
const ZONE_TYPES_IN = [...ZONE_TYPES, 'catalog'] as const;
const DNSSEC_KEYS = ['state', 'denial', 'keys', 'mode', 'validity-days'] as const;

/** Collects issues; every reader reports and returns undefined (or the default) instead of throwing. */
class Checker {
  readonly issues: ConfigIssue[] = [];

  error(path: Path, message: string, kind: ConfigErrorKind = 'schema', at: 'key' | 'value' = 'value'): void {
    this.issues.push({ kind, severity: 'error', path, message, at });
  }

  warn(path: Path, message: string, kind: ConfigErrorKind = 'semantic'): void {
    this.issues.push({ kind, severity: 'warning', path, message, at: 'value' });
  }

  get failed(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }

  /** A mapping with only `keys`; unknown keys are reported with a suggestion. Null/absent → undefined, silently. */
  map(v: unknown, path: Path, keys: readonly string[]): Rec | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
      this.error(path, `must be a mapping (key: value), got ${describe(v)}`);
      return undefined;
    }
    const rec = v as Rec;
    for (const k of Object.keys(rec)) {
      if (keys.includes(k)) continue;
      const s = suggest(k, keys);
      this.error([...path, k], s ? `unknown key (did you mean "${s}"?)` : `unknown key (allowed: ${keys.join(', ')})`, 'schema', 'key');
    }
    return rec;
  }

  list(rec: Rec | undefined, key: string, path: Path): readonly unknown[] | undefined {
    const v = get(rec, key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      this.error([...path, key], `must be a list, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  str(rec: Rec | undefined, key: string, path: Path): string | undefined {
    const v = get(rec, key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0) {
      this.error([...path, key], `must be a non-empty string, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  bool(rec: Rec | undefined, key: string, path: Path, def: boolean): boolean {
    const v = get(rec, key);
    if (v === undefined) return def;
    if (typeof v !== 'boolean') {
      this.error([...path, key], `must be true or false, got ${describe(v)}`);
      return def;
    }
    return v;
  }

  int(rec: Rec | undefined, key: string, path: Path, min: number, max: number, def: number): number {
    const v = get(rec, key);
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.error([...path, key], `must be an integer ${min}..${max}, got ${describe(v)}`);
      return def;
    }
    return v;
  }

  /** Seconds: an integer or a TTL-style string such as "1h30m" (units s, m, h, d, w as in BIND/RFC 2308 §4). */
  duration(rec: Rec | undefined, key: string, path: Path, min: number, max: number): number | undefined {
    const v = get(rec, key);
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? parseDuration(v) : undefined;
    if (n === undefined || !Number.isInteger(n) || n < min || n > max) {
      this.error([...path, key], `must be ${min}..${max} seconds (an integer or units like "1h30m"), got ${describe(v)}`);
      return undefined;
    }
    return n;
  }

  oneOf<T extends string>(rec: Rec | undefined, key: string, path: Path, values: readonly T[], def: T): T {
    const v = get(rec, key);
    if (v === undefined) return def;
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    const s = typeof v === 'string' ? suggest(v, values) : undefined;
    this.error([...path, key], `must be one of ${values.join(', ')}${s ? ` (did you mean "${s}"?)` : ''}`);
    return def;
  }

  /** `false` → undefined, `true` → `whenTrue`, a string → itself. */
  flagOrText(rec: Rec | undefined, key: string, path: Path, def: boolean, whenTrue: () => string): string | undefined {
    const v = get(rec, key);
    const eff = v === undefined ? def : v;
    if (eff === false) return undefined;
    if (eff === true) return whenTrue();
    if (typeof eff === 'string' && eff.length > 0) return eff;
    this.error([...path, key], `must be true, false or a non-empty string, got ${describe(eff)}`);
    return undefined;
  }
}

function get(rec: Rec | undefined, key: string): unknown {
  if (rec === undefined) return undefined;
  const v = rec[key];
  return v === null ? undefined : v;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

/** "300", "5m", "1h30m", "2w" → seconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const re = /(\d+)([smhdw])/giy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const mult = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]!.toLowerCase() as 's' | 'm' | 'h' | 'd' | 'w'];
    total += Number(m[1]) * mult;
    end = re.lastIndex;
  }
  return end === text.length && end > 0 ? total : undefined;
}

let cachedVersion: string | undefined;
/** `apexdns <package.json version>` (package.json sits two levels up from both src/config and dist/config). */
export function apexdnsVersion(): string {
  if (cachedVersion === undefined) {
    cachedVersion = 'apexdns';
    try {
      const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
        cachedVersion = `apexdns ${pkg.version}`;
      }
    } catch {
      // Keep the bare name when package.json is not where we expect it.
    }
  }
  return cachedVersion;
}

const textEncoder = new TextEncoder();

/** Strict base64 (RFC 4648 §4) with padding; undefined when invalid. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Reject non-canonical encodings (stray bits in the last character) by re-encoding.
  if (bytes.toString('base64') !== text) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length).slice();
}

/** Domain name from config text; a trailing dot is optional (names here are always absolute). */
function parseConfigName(text: string): Name | string {
  try {
    return Name.parse(text, Name.root);
  } catch (e) {
    if (e instanceof NameError) return e.message;
    throw e;
  }
}

export interface ValidateOptions {
  /** Path of the config file, used only for messages ("" when none). */
  readonly file: string;
  /** Directory relative paths resolve against (the config file's directory). */
  readonly baseDir: string;
}

/** Validate a parsed config value. Never throws for bad input; the config is returned only when error-free. */
export function validateConfig(value: unknown, opts: ValidateOptions): ValidateResult {
  const c = new Checker();
  const baseDir = resolve(opts.baseDir);
  const absPath = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const root: Rec = c.map(value ?? {}, [], TOP_KEYS) ?? {};

  // listen: UDP and TCP on each address.
  const listen: HostPort[] = [];
  const listenV = get(root, 'listen');
  const listenRaw = listenV === undefined ? DEFAULT_LISTEN : (c.list(root, 'listen', []) ?? []);
  if (Array.isArray(listenV) && listenV.length === 0) c.error(['listen'], 'must list at least one address');
  listenRaw.forEach((v, i) => {
    const p = ['listen', i];
    if (typeof v !== 'string') return c.error(p, `must be a string like "127.0.0.1:53" or "[::1]:53", got ${describe(v)}`);
    const r = parseHostPort(v, undefined, { zones: true });
    if (!r.ok) return c.error(p, r.message);
    // RFC 4007 §6: a link-local address is bound on one interface, which must exist here.
    const zone = r.value.zone;
    if (zone !== undefined && !/^\d+$/.test(zone) && networkInterfaces()[zone] === undefined) {
      return c.error(p, `no network interface "${zone}" on this machine (have: ${Object.keys(networkInterfaces()).join(', ')})`);
    }
    const dup = listen.findIndex((l) => l.text === r.value.text);
    if (dup >= 0) return c.error(p, `duplicate listen address ${r.value.text} (also listen[${dup}])`);
    listen.push(r.value);
  });

  let workers: 'auto' | number = 'auto';
  const w = get(root, 'workers');
  if (w !== undefined && w !== 'auto') {
    if (typeof w === 'number' && Number.isInteger(w) && w >= 1 && w <= 1024) workers = w;
    else c.error(['workers'], `must be "auto" or an integer 1..1024, got ${describe(w)}`);
  }

  const zonesDir = absPath(c.str(root, 'zones-dir', []) ?? 'zones');
  const stateDir = absPath(c.str(root, 'state-dir', []) ?? 'var');

  const logRec = c.map(get(root, 'log'), ['log'], ['level', 'queries']);
  const log = { level: c.oneOf(logRec, 'level', ['log'], LOG_LEVELS, 'info'), queries: c.bool(logRec, 'queries', ['log'], false) };

  const identity = readIdentity(c, get(root, 'identity'));

  const ednsRec = c.map(get(root, 'edns'), ['edns'], ['udp-size']);
  // RFC 6891 §6.2.5: sizes below 512 are treated as 512; 1232 avoids IP fragmentation (DNS Flag Day 2020).
  const edns = { udpSize: c.int(ednsRec, 'udp-size', ['edns'], 512, 4096, 1232) };

  const udpRec = c.map(get(root, 'udp'), ['udp'], ['io']);
  const udp = { io: c.oneOf(udpRec, 'io', ['udp'], UDP_IO, 'auto') };

  const tcpP = ['tcp'];
  const tcpRec = c.map(get(root, 'tcp'), tcpP, ['idle-timeout-ms', 'max-connections', 'max-connections-per-client', 'max-inflight-per-connection']);
  const tcp = {
    // RFC 7766 §6.2.3: servers should close idle connections after a timeout on the order of seconds.
    idleTimeoutMs: c.int(tcpRec, 'idle-timeout-ms', tcpP, 100, 3_600_000, 10_000),
    maxConnections: c.int(tcpRec, 'max-connections', tcpP, 1, 1_000_000, 1000),
    maxConnectionsPerClient: c.int(tcpRec, 'max-connections-per-client', tcpP, 1, 1_000_000, 50),
    // RFC 7766 §6.2.1.1: pipelined queries on one connection are processed concurrently.
    maxInflightPerConnection: c.int(tcpRec, 'max-inflight-per-connection', tcpP, 1, 65_535, 100),
  };
  if (tcp.maxConnectionsPerClient > tcp.maxConnections) {
    c.warn(['tcp', 'max-connections-per-client'], `is larger than max-connections (${tcp.maxConnections})`);
  }

  const acRec = c.map(get(root, 'answer-cache'), ['answer-cache'], ['max-entries']);
  const answerCache = { maxEntries: c.int(acRec, 'max-entries', ['answer-cache'], 0, 100_000_000, 100_000) };
  const scRec = c.map(get(root, 'signature-cache'), ['signature-cache'], ['memory-mb']);
  const signatureCache = { memoryMb: c.int(scRec, 'memory-mb', ['signature-cache'], 0, 1_048_576, 64) };
  // The HTTP listener (GET /metrics); absent = none.
  const apiRec = c.map(get(root, 'api'), ['api'], ['listen']);
  // `listen` is one "host:port" or a list of them (issue 13's example writes a list).
  const apiListen: HostPort[] = [];
  const apiV = get(apiRec, 'listen');
  const apiItems: readonly unknown[] = apiV === undefined ? [] : Array.isArray(apiV) ? apiV : [apiV];
  apiItems.forEach((v, i) => {
    const p = Array.isArray(apiV) ? ['api', 'listen', i] : ['api', 'listen'];
    if (typeof v !== 'string') return c.error(p, `must be a string like "127.0.0.1:8053" or "[::1]:8053", got ${describe(v)}`);
    const r = parseHostPort(v, undefined, {});
    if (!r.ok) return c.error(p, r.message);
    if (apiListen.some((l) => l.text === r.value.text)) return c.error(p, `duplicate address ${r.value.text}`);
    apiListen.push(r.value);
  });
  const api = { listen: apiListen };
  // DNS over TLS (RFC 7858): listen addresses and the PEM certificate chain and key (read at start and on SIGHUP).
  const tlsRec = c.map(get(root, 'tls'), ['tls'], ['listen', 'certificate', 'key']);
  let tls: TlsConfig | undefined;
  if (tlsRec !== undefined) {
    const tlsListen: HostPort[] = [];
    (c.list(tlsRec, 'listen', ['tls']) ?? []).forEach((v, i) => {
      const p = ['tls', 'listen', i];
      if (typeof v !== 'string') return c.error(p, `must be a string like "127.0.0.1:853", got ${describe(v)}`);
      const r = parseHostPort(v, undefined, {});
      if (!r.ok) return c.error(p, r.message);
      tlsListen.push(r.value);
    });
    if (tlsListen.length === 0) c.error(['tls', 'listen'], 'must list at least one address');
    const certificate = c.str(tlsRec, 'certificate', ['tls']);
    const key = c.str(tlsRec, 'key', ['tls']);
    if (certificate === undefined) c.error(['tls', 'certificate'], 'is required (a PEM certificate chain file)');
    if (key === undefined) c.error(['tls', 'key'], 'is required (a PEM private key file)');
    if (certificate !== undefined && key !== undefined) tls = { listen: tlsListen, certificate: absPath(certificate), key: absPath(key) };
  }
  // One-off signatures (random-subdomain floods on live-signed zones) per worker per second; 0 = unlimited.
  const sbRec = c.map(get(root, 'signing-budget'), ['signing-budget'], ['per-second']);
  const signingBudget = { perSecond: c.int(sbRec, 'per-second', ['signing-budget'], 0, 10_000_000, DEFAULT_SIGNING_BUDGET) };

  const cookies = readCookies(c, get(root, 'cookies'));
  const rrl = readRrl(c, get(root, 'rrl'));
  const proxy = readProxy(c, get(root, 'proxy'), ['proxy']);
  const flattening = readFlattening(c, get(root, 'flattening'));

  const jRec = c.map(get(root, 'journal'), ['journal'], ['max-changesets', 'max-bytes']);
  const journal = {
    maxChangesets: c.int(jRec, 'max-changesets', ['journal'], 1, 1_000_000, 100),
    maxBytes: c.int(jRec, 'max-bytes', ['journal'], 4096, 2 ** 40, 10_485_760),
  };

  const limits = readLimits(c, get(root, 'limits'));
  const analytics = readAnalytics(c, get(root, 'analytics'));
  const tsigKeys = readTsigKeys(c, root);
  const peers = readPeers(c, root, tsigKeys, absPath);
  const acl = readAcls(c, root, tsigKeys, peers);
  const zones = readZones(c, root, { peers, acl, absPath, stateDir, limits });

  if (c.failed) return { config: undefined, issues: c.issues };
  const config: Config = {
    file: opts.file, baseDir, listen, workers, zonesDir, stateDir, log, identity, edns, udp, tcp, answerCache,
    signatureCache, signingBudget, api, tls, cookies, rrl, proxy, flattening, tsigKeys, peers, acl, zones, journal, limits,
    analytics,
  };
  return { config: deepFreeze(config), issues: c.issues };
}

/** `cookies:` (RFC 7873, RFC 9018): 128-bit SipHash secrets as 32 hex digits, shared by every worker and node. */
function readCookies(c: Checker, v: unknown): CookiesConfig {
  const p = ['cookies'];
  const rec = c.map(v, p, ['secret', 'previous-secret', 'require']);
  const secret = (key: string): Uint8Array | undefined => {
    const text = c.str(rec, key, p);
    if (text === undefined) return undefined;
    if (/^[0-9a-fA-F]{32}$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'));
    c.error([...p, key], `must be 32 hex digits (a 128-bit secret), got ${text.length} characters`);
    return undefined;
  };
  const current = secret('secret');
  const previous = secret('previous-secret');
  if (previous !== undefined && current === undefined) c.error([...p, 'previous-secret'], 'needs cookies.secret (the new secret) beside it');
  return { secret: current, previousSecret: previous, require: c.bool(rec, 'require', p, false) };
}

/** Clients never rate limited unless `rrl.exempt` says otherwise: loopback cannot be spoofed from outside. */
const RRL_DEFAULT_EXEMPT = ['127.0.0.0/8', '::1/128'];

/** `rrl:` response rate limiting (ISC RRL semantics; src/query/rrl.ts). On by default: see README. */
function readRrl(c: Checker, v: unknown): RrlConfig {
  const p = ['rrl'];
  const rec = c.map(v, p, ['responses-per-second', 'window', 'slip', 'ipv4-prefix-length', 'ipv6-prefix-length', 'exempt']);
  const exempt: Cidr[] = [];
  const listed = get(rec, 'exempt') === undefined ? RRL_DEFAULT_EXEMPT : (c.list(rec, 'exempt', p) ?? []);
  listed.forEach((x, i) => {
    if (typeof x !== 'string') return c.error([...p, 'exempt', i], `must be an address or CIDR string, got ${describe(x)}`);
    const r = parseCidr(x);
    if (r.ok) exempt.push(r.cidr);
    else c.error([...p, 'exempt', i], r.message);
  });
  return {
    responsesPerSecond: c.int(rec, 'responses-per-second', p, 0, 1_000_000, 20),
    window: c.int(rec, 'window', p, 1, 3600, 15),
    slip: c.int(rec, 'slip', p, 0, 10, 2),
    ipv4PrefixLength: c.int(rec, 'ipv4-prefix-length', p, 1, 32, 24),
    ipv6PrefixLength: c.int(rec, 'ipv6-prefix-length', p, 1, 128, 56),
    exempt,
  };
}

function readIdentity(c: Checker, v: unknown): IdentityConfig {
  const p = ['identity'];
  const rec = c.map(v, p, ['version', 'hostname', 'id-server', 'nsid']);
  const host = (): string => osHostname();
  const txt = (key: string, def: boolean, whenTrue: () => string): string | undefined => {
    const s = c.flagOrText(rec, key, p, def, whenTrue);
    // RFC 1035 §3.3: a TXT character-string holds at most 255 octets.
    if (s !== undefined && textEncoder.encode(s).length > 255) {
      c.error([...p, key], 'must be at most 255 bytes (one TXT character-string, RFC 1035 §3.3)');
      return undefined;
    }
    return s;
  };
  const version = txt('version', false, apexdnsVersion);
  const hostname = txt('hostname', false, host);
  const idServer = txt('id-server', true, host);
  const nsidText = txt('nsid', false, host);
  return { version, hostname, idServer, nsid: nsidText === undefined ? undefined : textEncoder.encode(nsidText) };
}

function readAddressList(c: Checker, rec: Rec | undefined, key: 'ipv4' | 'ipv6', path: Path): IpAddress[] {
  const out: IpAddress[] = [];
  c.list(rec, key, path)?.forEach((v, i) => {
    const p = [...path, key, i];
    if (typeof v !== 'string') return c.error(p, `must be an ${key === 'ipv4' ? 'IPv4' : 'IPv6'} address string, got ${describe(v)}`);
    const a = parseIp(v);
    if (!a || (a.family === 4) !== (key === 'ipv4')) return c.error(p, `"${v}" is not an ${key === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
    if (out.some((o) => o.text === a.text)) return c.error(p, `duplicate address ${a.text}`);
    out.push(a);
  });
  return out;
}

function readProxy(c: Checker, v: unknown, path: Path): ProxyConfig | undefined {
  const rec = c.map(v, path, ['ipv4', 'ipv6', 'https']);
  if (!rec) return undefined;
  const ipv4 = readAddressList(c, rec, 'ipv4', path);
  const ipv6 = readAddressList(c, rec, 'ipv6', path);
  const given = (k: string): number => {
    const x = get(rec, k);
    return Array.isArray(x) ? x.length : x === undefined ? 0 : 1;
  };
  if (given('ipv4') + given('ipv6') === 0) c.error(path, 'needs at least one address in ipv4 or ipv6');
  let https: ProxyConfig['https'];
  const hp = [...path, 'https'];
  const hRec = c.map(get(rec, 'https'), hp, ['alpn']);
  if (hRec) {
    const alpn: string[] = [];
    const list = c.list(hRec, 'alpn', hp);
    if (!list || list.length === 0) c.error([...hp, 'alpn'], 'must list at least one ALPN id (e.g. h3, h2)');
    list?.forEach((a, i) => {
      // RFC 9460 §7.1.1: each alpn-id is 1..255 octets.
      if (typeof a !== 'string' || a.length === 0 || textEncoder.encode(a).length > 255) {
        return c.error([...hp, 'alpn', i], `must be an ALPN id of 1..255 bytes, got ${describe(a)}`);
      }
      if (alpn.includes(a)) return c.error([...hp, 'alpn', i], `duplicate ALPN id "${a}"`);
      alpn.push(a);
    });
    https = { alpn };
  }
  return { ipv4, ipv6, https };
}

function readFlattening(c: Checker, v: unknown): FlatteningConfig {
  const p = ['flattening'];
  const rec = c.map(v, p, ['resolvers', 'timeout-ms', 'max-chain', 'stale-ttl']);
  const resolvers: HostPort[] = [];
  c.list(rec, 'resolvers', p)?.forEach((r, i) => {
    const rp = [...p, 'resolvers', i];
    if (typeof r !== 'string') return c.error(rp, `must be a string like "127.0.0.1:53", got ${describe(r)}`);
    const hp = parseHostPort(r, 53);
    if (!hp.ok) return c.error(rp, hp.message);
    resolvers.push(hp.value);
  });
  return {
    resolvers,
    timeoutMs: c.int(rec, 'timeout-ms', p, 1, 60_000, 2000),
    maxChain: c.int(rec, 'max-chain', p, 1, 32, 8),
    // RFC 8767 §5 suggests capping stale data at 1 to 3 days; default 1 day, our ceiling 7 days.
    staleTtl: c.duration(rec, 'stale-ttl', p, 0, 604_800) ?? 86_400,
  };
}

function readTsigKeys(c: Checker, root: Rec): TsigKeyConfig[] {
  const out: TsigKeyConfig[] = [];
  const seen = new Map<string, number>();
  c.list(root, 'tsig-keys', [])?.forEach((v, i) => {
    const p = ['tsig-keys', i];
    const rec = c.map(v, p, ['name', 'algorithm', 'secret']);
    if (!rec) return v === null || v === undefined ? c.error(p, 'must be a mapping with name, algorithm, secret') : undefined;
    const nameText = c.str(rec, 'name', p);
    const algorithm = c.oneOf(rec, 'algorithm', p, TSIG_ALGORITHMS, 'hmac-sha256');
    const secretText = get(rec, 'secret');
    let secret: Uint8Array | undefined;
    if (secretText === undefined) c.error([...p, 'secret'], 'is required (base64)');
    else if (typeof secretText !== 'string' || !(secret = decodeBase64(secretText))) {
      c.error([...p, 'secret'], 'must be valid base64 (RFC 4648 §4, with "=" padding)');
    }
    if (get(rec, 'name') === undefined) c.error([...p, 'name'], 'is required');
    if (nameText === undefined) return;
    // RFC 8945 §4.2: the key name is a domain name; names compare case-insensitively (RFC 4343).
    const name = parseConfigName(nameText);
    if (typeof name === 'string') return c.error([...p, 'name'], `not a valid domain name: ${name}`);
    const prev = seen.get(name.key);
    if (prev !== undefined) return c.error([...p, 'name'], `duplicate TSIG key "${nameText}" (also tsig-keys[${prev}])`, 'reference');
    seen.set(name.key, i);
    if (secret) out.push({ name, algorithm, secret });
  });
  return out;
}

function findKey(keys: readonly TsigKeyConfig[], text: string): TsigKeyConfig | undefined {
  const n = parseConfigName(text);
  if (typeof n === 'string') return undefined;
  return keys.find((k) => k.name.key === n.key);
}

function keyRef(c: Checker, keys: readonly TsigKeyConfig[], rec: Rec, key: string, path: Path): TsigKeyConfig | undefined {
  const t = c.str(rec, key, path);
  if (t === undefined) return undefined;
  const k = findKey(keys, t);
  if (!k) {
    const names = keys.map((x) => x.name.toString().slice(0, -1));
    const s = suggest(t, names);
    c.error([...path, key], `unknown TSIG key "${t}"${s ? ` (did you mean "${s}"?)` : ''}`, 'reference');
  }
  return k;
}

function readPeers(c: Checker, root: Rec, keys: readonly TsigKeyConfig[], absPath: (p: string) => string): PeerConfig[] {
  const out: PeerConfig[] = [];
  c.list(root, 'peers', [])?.forEach((v, i) => {
    const p = ['peers', i];
    const rec = c.map(v, p, ['name', 'address', 'port', 'tsig', 'ixfr', 'tls', 'tls-ca', 'tls-pin', 'tls-hostname']);
    if (!rec) return v === null || v === undefined ? c.error(p, 'must be a mapping with name and address') : undefined;
    const name = c.str(rec, 'name', p);
    if (get(rec, 'name') === undefined) c.error([...p, 'name'], 'is required');
    const addrText = get(rec, 'address');
    let address: IpAddress | undefined;
    if (addrText === undefined) c.error([...p, 'address'], 'is required (an IPv4 or IPv6 address)');
    else if (typeof addrText !== 'string' || !(address = parseIp(addrText))) {
      c.error([...p, 'address'], `${describe(addrText)} is not an IPv4 or IPv6 address`);
    }
    // RFC 9103: zone transfers over TLS to this peer (port 853 unless given), the certificate checked against
    // `tls-ca` (default the system CAs) and `tls-hostname` (default the address), or a pinned key (`tls-pin`).
    const useTls = c.bool(rec, 'tls', p, false);
    const port = c.int(rec, 'port', p, 1, 65535, useTls ? 853 : 53);
    const ca = c.str(rec, 'tls-ca', p);
    const pin = c.str(rec, 'tls-pin', p);
    const hostname = c.str(rec, 'tls-hostname', p);
    if (!useTls) for (const k of ['tls-ca', 'tls-pin', 'tls-hostname']) if (get(rec, k) !== undefined) c.error([...p, k], 'needs tls: true');
    if (pin !== undefined && !/^[A-Za-z0-9+/]{43}=$/.test(pin)) c.error([...p, 'tls-pin'], 'must be the base64 SHA-256 of the certificate\'s public key (44 characters; openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl sha256 -binary | base64)');
    const tls = useTls ? { caFile: ca === undefined ? undefined : absPath(ca), pin, hostname } : undefined;
    const tsig = keyRef(c, keys, rec, 'tsig', p);
    // Seed "Zone transfers": IXFR is opt-in per peer ("sends IXFR requests in addition to the default AXFR").
    const ixfr = c.bool(rec, 'ixfr', p, false);
    if (name === undefined) return;
    const dup = out.findIndex((o) => o.name === name);
    if (dup >= 0) return c.error([...p, 'name'], `duplicate peer "${name}" (also peers[${dup}])`, 'reference');
    if (address) out.push({ name, address, port, tsig, ixfr, tls });
  });
  return out;
}

function readAcls(c: Checker, root: Rec, keys: readonly TsigKeyConfig[], peers: readonly PeerConfig[]): AclConfig[] {
  const out: AclConfig[] = [];
  c.list(root, 'acl', [])?.forEach((v, i) => {
    const p = ['acl', i];
    const rec = c.map(v, p, ['name', 'address', 'key']);
    if (!rec) return v === null || v === undefined ? c.error(p, 'must be a mapping with name and address and/or key') : undefined;
    const name = c.str(rec, 'name', p);
    if (get(rec, 'name') === undefined) c.error([...p, 'name'], 'is required');
    const addrText = get(rec, 'address');
    let address: AclConfig['address'];
    if (addrText !== undefined) {
      if (typeof addrText !== 'string') c.error([...p, 'address'], `must be an address or CIDR prefix, got ${describe(addrText)}`);
      else {
        const r = parseCidr(addrText);
        if (!r.ok) c.error([...p, 'address'], r.message);
        else {
          address = r.cidr;
          // Seed "Create a new ACL": ranges are limited to /24 (IPv4) and /64 (IPv6); wider ones are allowed here but flagged.
          const widest = address.family === 4 ? 24 : 64;
          if (address.prefix < widest) c.warn([...p, 'address'], `${address.text} is wider than /${widest}`);
        }
      }
    }
    const key = keyRef(c, keys, rec, 'key', p);
    if (addrText === undefined && get(rec, 'key') === undefined) c.error(p, 'needs an address, a key, or both');
    if (name === undefined) return;
    const dup = out.findIndex((o) => o.name === name);
    if (dup >= 0) return c.error([...p, 'name'], `duplicate acl "${name}" (also acl[${dup}])`, 'reference');
    const peerDup = peers.findIndex((o) => o.name === name);
    if (peerDup >= 0) {
      return c.error([...p, 'name'], `"${name}" is already a peer name (peers[${peerDup}]); peer and acl names share one namespace`, 'reference');
    }
    out.push({ name, address, key });
  });
  return out;
}

interface ZoneCtx {
  readonly peers: readonly PeerConfig[];
  readonly acl: readonly AclConfig[];
  readonly absPath: (p: string) => string;
  readonly stateDir: string;
  /** The server-level caps, which a zone's own `limits:` keys override. */
  readonly limits: LimitsConfig;
}

function readZones(c: Checker, root: Rec, ctx: ZoneCtx): ZoneConfig[] {
  const out: ZoneConfig[] = [];
  const seen = new Map<string, number>();
  const list = c.list(root, 'zones', []);
  if (list === undefined || list.length === 0) c.warn(['zones'], 'no zones configured');
  list?.forEach((v, i) => {
    const z = readZone(c, v, ['zones', i], ctx);
    // Duplicates are checked even when the zone has other errors, so one run reports everything.
    const nameV = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec)['name'] : undefined;
    const name = typeof nameV === 'string' ? parseConfigName(nameV) : undefined;
    if (name === undefined || typeof name === 'string') return;
    const prev = seen.get(name.key);
    if (prev !== undefined) {
      return c.error(['zones', i, 'name'], `duplicate zone "${name.toString()}" (also zones[${prev}])`, 'reference');
    }
    seen.set(name.key, i);
    if (z) out.push(z);
  });
  return out;
}

function readZone(c: Checker, v: unknown, p: Path, ctx: ZoneCtx): ZoneConfig | undefined {
  const rec = c.map(v, p, ZONE_KEYS);
  if (!rec) {
    if (v === null || v === undefined) c.error(p, 'must be a mapping with at least name and file');
    return undefined;
  }
  const errorsBefore = c.issues.length;
  const nameText = c.str(rec, 'name', p);
  let name: Name | undefined;
  if (get(rec, 'name') === undefined) c.error([...p, 'name'], 'is required');
  if (nameText !== undefined) {
    const n = parseConfigName(nameText);
    if (typeof n === 'string') c.error([...p, 'name'], `not a valid domain name: ${n}`);
    else name = n;
  }
  const typeIn = c.oneOf(rec, 'type', p, ZONE_TYPES_IN, 'primary');
  const isCatalog = typeIn === 'catalog';
  const type = isCatalog ? 'primary' : typeIn;
  const secondary = type === 'secondary';
  // RFC 9432 producer: the zone's data is made from the member list (all primary zones, or `members:`), under
  // state-dir; a file, signing or shaping of its own makes no sense.
  if (isCatalog) {
    for (const k of ['file', 'dnssec', 'proxy', 'flatten-all-cnames', 'allow-update', 'update-policy', 'catalog-group', 'serial']) {
      if (get(rec, k) !== undefined) c.error([...p, k], 'not allowed on a catalog zone (its contents are generated)', 'semantic');
    }
  } else if (get(rec, 'members') !== undefined) c.error([...p, 'members'], 'only valid for catalog zones (type: catalog)', 'semantic');
  const members: Name[] = [];
  c.list(rec, 'members', p)?.forEach((m, i) => {
    const n = typeof m === 'string' ? parseConfigName(m) : 'must be a zone name';
    if (typeof n === 'string') c.error([...p, 'members', i], typeof m === 'string' ? `not a valid domain name: ${n}` : `must be a zone name, got ${describe(m)}`);
    else members.push(n);
  });
  const group = c.str(rec, 'catalog-group', p);
  const only = (key: string, want: 'primary' | 'secondary'): boolean => {
    if (get(rec, key) === undefined || type === want) return true;
    c.error([...p, key], `only valid for ${want} zones (this zone is type ${type})`, 'semantic');
    return false;
  };

  const fileText = c.str(rec, 'file', p);
  if (!secondary && !isCatalog && get(rec, 'file') === undefined) c.error([...p, 'file'], 'is required for primary zones', 'semantic');

  const peerRefs = (key: string): PeerConfig[] => {
    const out: PeerConfig[] = [];
    c.list(rec, key, p)?.forEach((r, i) => {
      const rp = [...p, key, i];
      if (typeof r !== 'string') return c.error(rp, `must be a peer name, got ${describe(r)}`);
      const peer = ctx.peers.find((x) => x.name === r);
      if (peer) return void (out.includes(peer) ? c.error(rp, `"${r}" is listed twice`) : out.push(peer));
      if (ctx.acl.some((a) => a.name === r)) return c.error(rp, `"${r}" is an acl; ${key} takes peer names`, 'reference');
      const s = suggest(r, ctx.peers.map((x) => x.name));
      c.error(rp, `unknown peer "${r}"${s ? ` (did you mean "${s}"?)` : ''}`, 'reference');
    });
    return out;
  };
  const accessRefs = (key: string): AccessRef[] => {
    const out: AccessRef[] = [];
    c.list(rec, key, p)?.forEach((r, i) => {
      const rp = [...p, key, i];
      if (typeof r !== 'string') return c.error(rp, `must be a peer or acl name, got ${describe(r)}`);
      if (out.some((o) => (o.kind === 'peer' ? o.peer.name : o.acl.name) === r)) return c.error(rp, `"${r}" is listed twice`);
      const peer = ctx.peers.find((x) => x.name === r);
      if (peer) return void out.push({ kind: 'peer', peer });
      const acl = ctx.acl.find((x) => x.name === r);
      if (acl) return void out.push({ kind: 'acl', acl });
      const s = suggest(r, [...ctx.peers.map((x) => x.name), ...ctx.acl.map((x) => x.name)]);
      c.error(rp, `unknown peer or acl "${r}"${s ? ` (did you mean "${s}"?)` : ''}`, 'reference');
    });
    return out;
  };

  const notify = peerRefs('notify');
  const allowTransfer = accessRefs('allow-transfer');
  only('allow-notify', 'secondary');
  const allowNotify = accessRefs('allow-notify');
  // RFC 2136 UPDATE (src/change/update.ts): who may change a primary zone; same names as allow-transfer.
  const allowUpdate = accessRefs('allow-update');
  const updatePolicy: ZoneConfig['updatePolicy'][number][] = [];
  c.list(rec, 'update-policy', p)?.forEach((r, i) => {
    const rp = [...p, 'update-policy', i];
    const m = c.map(r, rp, ['acl', 'owners', 'types']);
    if (!m) return;
    const ref = c.str(m, 'acl', rp);
    if (ref === undefined) return c.error([...rp, 'acl'], 'is required: a peer or acl listed in allow-update');
    if (!allowUpdate.some((a) => (a.kind === 'peer' ? a.peer.name : a.acl.name) === ref)) return c.error([...rp, 'acl'], `"${ref}" is not listed in allow-update`, 'reference');
    const owners: string[] = [];
    const ol = c.list(m, 'owners', rp);
    if (!ol || ol.length === 0) c.error([...rp, 'owners'], 'must list at least one owner pattern (e.g. "_acme-challenge.*")');
    ol?.forEach((o, j) => (typeof o === 'string' && o.length > 0 ? owners.push(o) : c.error([...rp, 'owners', j], `must be a name pattern, got ${describe(o)}`)));
    const types: number[] = [];
    c.list(m, 'types', rp)?.forEach((t, j) => {
      const code = typeof t === 'string' ? typeFromMnemonic(t.toUpperCase()) : undefined;
      if (code === undefined) return c.error([...rp, 'types', j], `must be a record type (e.g. TXT), got ${describe(t)}`);
      types.push(code);
    });
    updatePolicy.push({ ref, owners, types });
  });
  only('primaries', 'secondary');
  const primaries = peerRefs('primaries');
  const primariesV = get(rec, 'primaries');
  if (secondary && primariesV === undefined) {
    c.error([...p, 'primaries'], 'is required for secondary zones (at least one peer name)', 'semantic');
  } else if (secondary && Array.isArray(primariesV) && primariesV.length === 0) {
    c.error([...p, 'primaries'], 'must list at least one peer', 'semantic');
  }
  only('refresh', 'secondary');
  // Seed "Set up incoming zone transfers": the configured refresh replaces the primary's SOA REFRESH (RFC 1035 §3.3.13).
  const refresh = c.duration(rec, 'refresh', p, 1, 2_147_483_647);
  only('serial', 'primary');
  // A catalog's serial must grow with every membership change (RFC 9432 §5.1: consumers follow by IXFR).
  const serial = isCatalog ? 'increment' : c.oneOf(rec, 'serial', p, SERIAL_POLICIES, 'keep');
  const flattenAllCnames = c.bool(rec, 'flatten-all-cnames', p, false);
  const mp = get(rec, 'multi-provider');
  // Seed "Nameserver options": multi-provider "is an enforced default behavior for zones using secondary setup".
  if (secondary && mp === false) c.error([...p, 'multi-provider'], 'secondary zones are always multi-provider (remove this key)', 'semantic');
  const multiProvider = secondary ? true : c.bool(rec, 'multi-provider', p, false);
  const proxy = readProxy(c, get(rec, 'proxy'), [...p, 'proxy']);
  only('overlay', 'secondary');
  const overlayText = c.str(rec, 'overlay', p);
  const dnssec = readDnssec(c, get(rec, 'dnssec'), [...p, 'dnssec'], ctx.absPath);
  const limits = readZoneLimits(c, get(rec, 'limits'), [...p, 'limits'], ctx.limits);
  if (dnssec?.mode === 'presigned') {
    // Seed "DNSSEC for Secondary DNS": pre-signed is not compatible with Secondary DNS Overrides.
    if (overlayText !== undefined) c.error([...p, 'overlay'], 'cannot be used with dnssec.mode presigned', 'semantic');
    // Changing the SOA serial would invalidate the primary's SOA RRSIG (RFC 4035 §2.2).
    if (serial !== 'keep') c.error([...p, 'serial'], 'must be keep with dnssec.mode presigned (a new serial breaks the SOA RRSIG)', 'semantic');
    // Seed "Proxying limitations": pre-signed DNSSEC treats all records as DNS-only.
    if (proxy) c.warn([...p, 'proxy'], 'ignored: with dnssec.mode presigned all records are DNS-only');
  }

  // Seed "Zone transfers": at most 30 linked peers per zone.
  const linked = new Set<PeerConfig>([...primaries, ...notify]);
  for (const r of [...allowTransfer, ...allowNotify]) if (r.kind === 'peer') linked.add(r.peer);
  if (linked.size > MAX_PEERS_PER_ZONE) {
    c.error(p, `links ${linked.size} peers (primaries, notify, allow-*); at most ${MAX_PEERS_PER_ZONE} per zone`, 'semantic');
  }
  // Seed "Set up outgoing zone transfers": when one linked peer uses TSIG, all are expected to use the same key.
  const tsigs = new Set([...linked].map((x) => x.tsig));
  if (tsigs.size > 1) c.warn(p, 'linked peers use different TSIG keys (or some none); the seed expects one shared key');

  if (name === undefined || c.issues.slice(errorsBefore).some((x) => x.severity === 'error')) return undefined;
  const base = name.isRoot ? 'root' : name.toString().slice(0, -1).replace(/[/\\]/g, '_');
  const file = isCatalog ? join(ctx.stateDir, 'catalog', `${base}.zone`) : fileText !== undefined ? ctx.absPath(fileText) : join(ctx.stateDir, `${base}.zone`);
  return {
    name, type, file, notify, allowTransfer, allowNotify, allowUpdate, updatePolicy, primaries, refresh, serial, flattenAllCnames, multiProvider,
    proxy, overlay: overlayText === undefined ? undefined : ctx.absPath(overlayText), dnssec, limits,
    ...(isCatalog ? { catalog: { members: get(rec, 'members') === undefined ? undefined : members } } : {}),
    ...(group !== undefined ? { catalogGroup: group } : {}),
  };
}

// ---- limits (caps against a hostile zone file or transfer) --------------------------------------------------

const ZONE_LIMIT_KEYS = ['max-records', 'max-rrset', 'max-file-size', 'max-include-depth'] as const;
const LIMIT_KEYS = [...ZONE_LIMIT_KEYS, 'max-cname-chain'] as const;
/** Default CNAME/DNAME redirections per answer: real chains of 9 CNAMEs exist (a CDN login name that broke
 * Unbound's old limit of 8), so 12, the bound apexdns had before this was configurable. */
const DEFAULT_MAX_CNAME_CHAIN = 12;

/** The four zone caps of a `limits:` mapping, each defaulting to `base`. */
function zoneLimitsOf(c: Checker, rec: Rec | undefined, p: Path, base: ZoneLimits): ZoneLimits {
  return {
    maxRecords: c.int(rec, 'max-records', p, 1, 1_000_000_000, base.maxRecords),
    // RFC 1035 §4.1.1: a message carries at most 65535 records, so no RRset can be answered whole beyond that.
    maxRrset: c.int(rec, 'max-rrset', p, 1, 65_535, base.maxRrset),
    maxFileSize: c.int(rec, 'max-file-size', p, 1, 2 ** 40, base.maxFileSize),
    maxIncludeDepth: c.int(rec, 'max-include-depth', p, 0, 100, base.maxIncludeDepth),
  };
}

/** Server-level `limits:`. */
/** DNS analytics rollups (README "DNS analytics"): off by default (it costs ~17 % throughput); caps per zone and minute, retention. */
function readAnalytics(c: Checker, v: unknown): AnalyticsConfig {
  const p = ['analytics'];
  const rec = c.map(v, p, ['enabled', 'retention', 'minute-retention', 'max-names', 'max-names-hourly', 'max-sources', 'max-rows', 'max-total-rows']);
  const retention = c.duration(rec, 'retention', p, 3600, 366 * 86_400) ?? 7 * 86_400;
  const minuteRetention = c.duration(rec, 'minute-retention', p, 60, 366 * 86_400) ?? 6 * 3600;
  return {
    enabled: c.bool(rec, 'enabled', p, false),
    retention,
    minuteRetention: Math.min(minuteRetention, retention),
    maxNames: c.int(rec, 'max-names', p, 1, 1_000_000, 200),
    maxNamesHourly: c.int(rec, 'max-names-hourly', p, 1, 1_000_000, 500),
    maxSources: c.int(rec, 'max-sources', p, 1, 1_000_000, 200),
    maxRows: c.int(rec, 'max-rows', p, 1, 10_000_000, 2000),
    maxTotalRows: c.int(rec, 'max-total-rows', p, 1000, 100_000_000, 80_000),
  };
}

function readLimits(c: Checker, v: unknown): LimitsConfig {
  const p = ['limits'];
  const rec = c.map(v, p, LIMIT_KEYS);
  return { ...zoneLimitsOf(c, rec, p, DEFAULT_ZONE_LIMITS), maxCnameChain: c.int(rec, 'max-cname-chain', p, 1, 64, DEFAULT_MAX_CNAME_CHAIN) };
}

/** A zone's `limits:` over the server's; the CNAME chain cap is server-wide (the query path knows no zone limits). */
function readZoneLimits(c: Checker, v: unknown, p: Path, server: LimitsConfig): ZoneLimits {
  const rec = c.map(v, p, LIMIT_KEYS);
  if (get(rec, 'max-cname-chain') !== undefined) c.error([...p, 'max-cname-chain'], 'is a server-level setting: set it in the top-level limits: block', 'semantic');
  const { maxRecords, maxRrset, maxFileSize, maxIncludeDepth } = server;
  return zoneLimitsOf(c, rec, p, { maxRecords, maxRrset, maxFileSize, maxIncludeDepth });
}

function readDnssec(c: Checker, v: unknown, p: Path, absPath: (s: string) => string): DnssecConfig | undefined {
  const rec = c.map(v, p, DNSSEC_KEYS);
  if (!rec) return undefined;
  const mode = c.oneOf(rec, 'mode', p, ['live', 'presigned'] as const, 'live');
  if (mode === 'presigned') {
    for (const k of ['state', 'denial', 'keys', 'validity-days']) {
      if (get(rec, k) !== undefined) c.error([...p, k], 'not allowed with mode presigned (the primary signs the zone)', 'semantic');
    }
    return { mode: 'presigned' };
  }
  // pending and active both sign; "active" documents that the DS is at the parent (seed "DNSSEC states").
  const state = c.oneOf(rec, 'state', p, DNSSEC_STATES, 'active');
  const denial = c.oneOf(rec, 'denial', p, DENIAL_MODES, 'compact');
  const keys = absPath(c.str(rec, 'keys', p) ?? 'keys');
  const vd = get(rec, 'validity-days');
  const validityDays = vd === undefined ? undefined : c.int(rec, 'validity-days', p, 1, 365, 0);
  return { mode: 'live', state, denial, keys, validityDays };
}

/** The effective proxy pool of a zone: its own `proxy:` block replaces the global one entirely. */
export function resolveZoneProxy(config: Config, zone: ZoneConfig): ProxyConfig | undefined {
  return zone.proxy ?? config.proxy;
}

/** Freeze plain objects and arrays recursively; leaves class instances (Name) and byte arrays alone. */
function deepFreeze<T>(v: T): T {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return v;
  const proto: unknown = Object.getPrototypeOf(v);
  if (!Array.isArray(v) && proto !== Object.prototype) return v;
  Object.freeze(v);
  for (const child of Object.values(v)) deepFreeze(child);
  return v;
}
