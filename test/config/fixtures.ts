// Shared config fixtures for the loader tests and the config fuzz test: the shipped example and the issue's schema snippet.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const examplePath = join(repo, 'config.example.yaml');

/** The example with every commented-out key enabled (`## ` prose lines stay comments). */
export function uncommentedExample(): string {
  return readFileSync(examplePath, 'utf8').replace(/^(\s*)# /gm, '$1');
}

/** The schema snippet from the configuration issue, values filled in. */
export const ISSUE_SNIPPET = `
listen: ["127.0.0.1:5353", "[::1]:5353"]
workers: auto
zones-dir: zones
log: { level: info, queries: false }
identity:
  version: false
  hostname: false
  id-server: true
  nsid: false
edns: { udp-size: 1232 }
tcp: { idle-timeout-ms: 10000, max-connections: 1000, max-connections-per-client: 50, max-inflight-per-connection: 100 }
answer-cache: { max-entries: 100000 }
signature-cache: { memory-mb: 64 }
proxy:
  ipv4: ["203.0.113.1", "203.0.113.2"]
  ipv6: ["2001:db8:cf::1", "2001:db8:cf::2"]
  https: { alpn: ["h3", "h2"] }
flattening:
  resolvers: ["127.0.0.1:5300"]
  timeout-ms: 2000
  max-chain: 8
  stale-ttl: 86400
tsig-keys:
  - { name: xfr-key, algorithm: hmac-sha256, secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQ=" }
peers:
  - { name: hidden-primary, address: 192.0.2.53, port: 53, tsig: xfr-key, ixfr: true }
  - { name: backup-ns, address: 198.51.100.53, port: 53, tsig: xfr-key }
acl:
  - { name: ops, address: 10.0.0.0/24, key: xfr-key }
zones:
  - name: example.com
    file: zones/example.com.zone
    type: primary
    notify: [backup-ns]
    allow-transfer: [backup-ns, ops]
    serial: keep
    flatten-all-cnames: false
    multi-provider: false
    proxy: { ipv4: ["203.0.113.9"], ipv6: ["2001:db8:cf::9"], https: {alpn: ["h2"]} }
    dnssec:
      state: active
      denial: compact
      keys: keys/
      mode: live
      validity-days: 7
  - name: example.net
    type: secondary
    primaries: [hidden-primary]
    allow-notify: [hidden-primary]
    refresh: 300
    overlay: zones/example.net.overlay
    file: var/example.net.zone
state-dir: var
journal: { max-changesets: 100, max-bytes: 10485760 }
`;
