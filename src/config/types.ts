// The validated, deep-readonly daemon configuration (camelCase mirror of the kebab-case YAML keys).

import type { Name } from '../wire/name.js';
import type { Cidr, HostPort, IpAddress } from '../util/ip.js';
import type { DnssecConfig } from '../dnssec/settings.js';
import type { ProxyConfig } from '../zone/proxy.js';
import type { FlatteningConfig } from '../flatten/upstream.js';
import type { ZoneLimits } from '../zone/limits.js';
export type { ZoneLimits } from '../zone/limits.js';
export type { HttpsTemplateConfig, ProxyConfig } from '../zone/proxy.js';
export type { FlatteningConfig } from '../flatten/upstream.js';

// Defined by the layer that uses them (config sits above it and only validates).
export { DENIAL_MODES, DNSSEC_STATES, type DenialMode, type DnssecConfig, type DnssecState } from '../dnssec/settings.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export type SerialPolicy = 'keep' | 'increment' | 'unixtime' | 'dateserial';
export const SERIAL_POLICIES: readonly SerialPolicy[] = ['keep', 'increment', 'unixtime', 'dateserial'];

export type ZoneType = 'primary' | 'secondary';
export const ZONE_TYPES: readonly ZoneType[] = ['primary', 'secondary'];

export type TsigAlgorithm = 'hmac-md5' | 'hmac-sha1' | 'hmac-sha224' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';
export const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = [
  'hmac-md5', 'hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512',
];

export interface LogConfig {
  readonly level: LogLevel;
  /** One log line per query. */
  readonly queries: boolean;
}

/** CHAOS TXT answers and NSID, already resolved to the exact text/bytes to serve; undefined = off. */
export interface IdentityConfig {
  /** `version.bind` / `version.server` TXT. */
  readonly version: string | undefined;
  /** `hostname.bind` TXT. */
  readonly hostname: string | undefined;
  /** `id.server` TXT (RFC 4892 §2.2). */
  readonly idServer: string | undefined;
  /** EDNS NSID option payload (RFC 5001 §2.3). */
  readonly nsid: Uint8Array | undefined;
}

export interface EdnsConfig {
  /** Advertised EDNS UDP payload size (RFC 6891 §6.2.5). */
  readonly udpSize: number;
}

export interface UdpConfig {
  /** batched: recvmmsg/sendmmsg through the native addon; dgram: node:dgram; auto: batched when it was built. */
  readonly io: 'auto' | 'batched' | 'dgram';
}

export interface TcpConfig {
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
  readonly maxInflightPerConnection: number;
}

export interface CookiesConfig {
  /** The secret new server cookies are made with; undefined: a random one per start (see cli/serve.ts). */
  readonly secret: Uint8Array | undefined;
  /** A secret still accepted (rotation: the old one, while clients' cookies made with it age out). */
  readonly previousSecret: Uint8Array | undefined;
  /** Answer BADCOOKIE over UDP unless the request carries a valid server cookie (RFC 7873 §5.2.3). */
  readonly require: boolean;
}

export interface RrlConfig {
  /** Per client prefix and response class; 0 turns rate limiting off. */
  readonly responsesPerSecond: number;
  readonly window: number;
  readonly slip: number;
  readonly ipv4PrefixLength: number;
  readonly ipv6PrefixLength: number;
  readonly exempt: readonly Cidr[];
}

export interface AnswerCacheConfig {
  /** 0 disables the cache. */
  readonly maxEntries: number;
}

export interface SignatureCacheConfig {
  /** 0 disables the cache. */
  readonly memoryMb: number;
}

export interface TlsConfig {
  /** DNS-over-TLS listen addresses (RFC 7858). */
  readonly listen: readonly HostPort[];
  /** Absolute paths of the PEM certificate chain and private key. */
  readonly certificate: string;
  readonly key: string;
}

export interface ApiConfig {
  /** HTTP listeners (GET /metrics); empty = none. */
  readonly listen: readonly HostPort[];
}

/** DNS analytics rollups (src/query/analytics.ts). */
export interface AnalyticsConfig {
  readonly enabled: boolean;
  /** Seconds of history kept. */
  readonly retention: number;
  /** Seconds minute buckets are kept before they are folded into hours. */
  readonly minuteRetention: number;
  /** Query names kept per zone and minute (space-saving sketch), and per zone and hour. */
  readonly maxNames: number;
  readonly maxNamesHourly: number;
  /** Client prefixes kept per zone and minute; the rest count as "(other)". */
  readonly maxSources: number;
  /** Rows per zone and minute. */
  readonly maxRows: number;
  /** Rows per serving process in all (the memory budget; oldest buckets go first). */
  readonly maxTotalRows: number;
}

export interface SigningBudgetConfig {
  /** One-off signatures per worker per second for UDP answers (src/dnssec/budget.ts); 0 = unlimited. */
  readonly perSecond: number;
}

export interface TsigKeyConfig {
  /** Key name as a domain name (RFC 8945 §4.2); compared case-insensitively via `name.key`. */
  readonly name: Name;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Uint8Array;
}

export interface PeerConfig {
  readonly name: string;
  readonly address: IpAddress;
  readonly port: number;
  readonly tsig: TsigKeyConfig | undefined;
  /** Ask this peer for IXFR (RFC 1995) before AXFR when it is a primary of ours. */
  readonly ixfr: boolean;
  /** Transfers from this peer over TLS (RFC 9103); undefined = TCP. */
  readonly tls: PeerTlsConfig | undefined;
}

export interface PeerTlsConfig {
  /** PEM CA file the peer's certificate must chain to (absolute path); undefined = the system's CAs. */
  readonly caFile: string | undefined;
  /** base64 SHA-256 of the peer's SPKI; when set it replaces the chain check. */
  readonly pin: string | undefined;
  /** Name the certificate must carry (default: the peer's address, as an IP SAN). */
  readonly hostname: string | undefined;
}

/** A match rule: the source address must be in `address` (when set) and the message signed by `key` (when set). */
export interface AclConfig {
  readonly name: string;
  readonly address: Cidr | undefined;
  readonly key: TsigKeyConfig | undefined;
}

/** A reference from a zone's allow-* list: a peer (its address/port/tsig) or an ACL. */
export type AccessRef =
  | { readonly kind: 'peer'; readonly peer: PeerConfig }
  | { readonly kind: 'acl'; readonly acl: AclConfig };

/**
 * One `update-policy` rule: requests admitted by `ref` (a name listed in allow-update) may change only owners
 * matching one of `owners` (names relative to the zone: `www` exactly, `*.www` anything below it, `label.*` any
 * name whose first label is `label`, `@` the apex) and, when `types` is not empty, only those types.
 */
export interface UpdateRule {
  readonly ref: string;
  readonly owners: readonly string[];
  readonly types: readonly number[];
}

export interface ZoneConfig {
  readonly name: Name;
  readonly type: ZoneType;
  /**
   * Absolute path. Primary: the zone file. Secondary: where the transferred copy is persisted (default
   * `<state-dir>/<zone>.zone`, the zone name without its trailing dot).
   */
  readonly file: string;
  readonly notify: readonly PeerConfig[];
  readonly allowTransfer: readonly AccessRef[];
  /** Extra NOTIFY sources; the zone's primaries are always accepted too (RFC 1996 §3.10). */
  readonly allowNotify: readonly AccessRef[];
  /** RFC 2136 UPDATE: peers/acls allowed to change the zone (empty: UPDATE refused). Secondary zones refuse UPDATE. */
  readonly allowUpdate: readonly AccessRef[];
  /** Finer UPDATE policy (src/change/update.ts): what the peers/acls of allow-update may touch; empty = anything. */
  readonly updatePolicy: readonly UpdateRule[];
  /** Secondary only: primaries, tried in order. */
  readonly primaries: readonly PeerConfig[];
  /** Secondary only: seconds between SOA checks, replacing the primary's SOA REFRESH; undefined = use the SOA. */
  readonly refresh: number | undefined;
  readonly serial: SerialPolicy;
  readonly flattenAllCnames: boolean;
  /** Serve apex NS records from the zone data as-is (always true for secondaries). */
  readonly multiProvider: boolean;
  /** The zone's own proxy block; use `resolveZoneProxy` for the effective pool. */
  readonly proxy: ProxyConfig | undefined;
  /** Secondary only: absolute path of the local overlay file. */
  readonly overlay: string | undefined;
  /** undefined = unsigned (equivalent to state `deleted`). */
  readonly dnssec: DnssecConfig | undefined;
  /** Effective caps for this zone: its own `limits:` keys over the server's `limits:` block. */
  readonly limits: ZoneLimits;
  /** RFC 9432 catalog producer (`type: catalog`): a primary zone whose data lists member zones (src/zone/catalog.ts). */
  readonly catalog?: { readonly members: readonly Name[] | undefined };
  /** The `group` property (RFC 9432 §4.4.2) of this zone in the catalogs that list it. */
  readonly catalogGroup?: string;
}

/** `limits:` (server level): the zone caps every zone inherits, and the CNAME chain cap of the query path. */
export interface LimitsConfig extends ZoneLimits {
  /** CNAME/DNAME redirections followed within one answer (RFC 1034 §3.6.2, §4.3.2 step 3a). */
  readonly maxCnameChain: number;
}

export interface JournalConfig {
  readonly maxChangesets: number;
  readonly maxBytes: number;
}

export interface Config {
  /** Absolute path of the config file ("" when parsed from text without a file). */
  readonly file: string;
  /** Directory that relative paths were resolved against. */
  readonly baseDir: string;
  readonly listen: readonly HostPort[];
  readonly workers: 'auto' | number;
  /** Absolute $INCLUDE confinement root. */
  readonly zonesDir: string;
  /** Absolute directory for secondary copies and IXFR journals. */
  readonly stateDir: string;
  readonly log: LogConfig;
  readonly identity: IdentityConfig;
  readonly edns: EdnsConfig;
  readonly udp: UdpConfig;
  readonly tcp: TcpConfig;
  readonly answerCache: AnswerCacheConfig;
  readonly cookies: CookiesConfig;
  readonly rrl: RrlConfig;
  readonly signatureCache: SignatureCacheConfig;
  readonly signingBudget: SigningBudgetConfig;
  readonly api: ApiConfig;
  /** undefined: no DNS-over-TLS listener. */
  readonly tls: TlsConfig | undefined;
  readonly analytics: AnalyticsConfig;
  /** Global proxy pool; undefined = none configured. */
  readonly proxy: ProxyConfig | undefined;
  readonly flattening: FlatteningConfig;
  readonly tsigKeys: readonly TsigKeyConfig[];
  readonly peers: readonly PeerConfig[];
  readonly acl: readonly AclConfig[];
  readonly zones: readonly ZoneConfig[];
  readonly journal: JournalConfig;
  readonly limits: LimitsConfig;
}
