// Public surface of the config module: load/validate the YAML config, types, error rendering, reload checks.

export { loadConfig, parseConfigText, type LoadResult } from './load.js';
export { validateConfig, resolveZoneProxy, parseDuration, decodeBase64, MAX_PEERS_PER_ZONE, type ConfigIssue, type ValidateResult, type ValidateOptions } from './schema.js';
export { formatConfigError, formatPath, type ConfigError, type ConfigErrorKind } from './errors.js';
export { diffConfigForReload, reloadDiff, dnssecTransitionError, type ReloadDiff } from './reload.js';
export { checkConfig, type CheckReport } from './check.js';
export { parseIp, parseIPv4, parseIPv6, parseCidr, parseHostPort, cidrContains, formatIPv6, type IpAddress, type Cidr, type HostPort } from '../util/ip.js';
export type {
  Config, ZoneConfig, DnssecConfig, ProxyConfig, PeerConfig, TsigKeyConfig, AclConfig, AccessRef, LogConfig,
  IdentityConfig, EdnsConfig, TcpConfig, AnswerCacheConfig, SignatureCacheConfig, SigningBudgetConfig, ApiConfig, TlsConfig, HttpsTemplateConfig,
  FlatteningConfig, JournalConfig, LogLevel, DnssecState, DenialMode, SerialPolicy, ZoneType, TsigAlgorithm,
} from './types.js';
