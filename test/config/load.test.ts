// Tests for loading and validating the YAML config: the shipped example, the documented schema, and error reports.

import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import {
  checkConfig, formatConfigError, loadConfig, parseConfigText, resolveZoneProxy, type Config, type ConfigError,
  type LoadResult,
} from '../../src/config/index.js';
import { ISSUE_SNIPPET, examplePath, repo, uncommentedExample } from './fixtures.js';

function ok(r: LoadResult): Config {
  if (!r.ok) throw new Error(`expected a valid config:\n${r.errors.map(formatConfigError).join('\n')}`);
  return r.config;
}

function errs(text: string): string[] {
  const r = parseConfigText(text, '/etc/apexdns/c.yaml');
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors.map(formatConfigError);
}

describe('config.example.yaml', () => {
  it('is exactly what npm start serves and validates', async () => {
    const r = await loadConfig(examplePath);
    const c = ok(r);
    expect(r.ok && r.warnings).toEqual([]);
    expect(c.listen.map((l) => l.text)).toEqual(['127.0.0.1:5353', '[::1]:5353']);
    expect(c.workers).toBe('auto');
    expect(c.zones.map((z) => z.name.toString())).toEqual(['example.com.']);
    const z = c.zones[0]!;
    expect(z.type).toBe('primary');
    expect(z.file).toBe(join(repo, 'zones/example.com.zone'));
    expect(z.dnssec).toBeUndefined();
    expect(z.allowTransfer).toEqual([]);
    expect(c.zonesDir).toBe(join(repo, 'zones'));
    expect(c.stateDir).toBe(join(repo, 'var'));
    expect(c.proxy).toBeUndefined();
    expect(c.identity).toEqual({ version: undefined, hostname: undefined, idServer: hostname(), nsid: undefined });
    expect(c.edns.udpSize).toBe(1232);
    expect(c.tcp).toEqual({ idleTimeoutMs: 10000, maxConnections: 1000, maxConnectionsPerClient: 50, maxInflightPerConnection: 100 });
    expect(c.flattening).toEqual({ resolvers: [], timeoutMs: 2000, maxChain: 8, staleTtl: 86400 });
    expect(c.journal).toEqual({ maxChangesets: 100, maxBytes: 10485760 });
    expect(c.analytics).toEqual({ enabled: false, retention: 604_800, minuteRetention: 21_600, maxNames: 200, maxNamesHourly: 500, maxSources: 200, maxRows: 2000, maxTotalRows: 80_000 });
    expect(Object.isFrozen(c) && Object.isFrozen(c.zones) && Object.isFrozen(c.zones[0])).toBe(true);
  });

  it('documents every key: with all comments enabled it still validates', () => {
    const text = uncommentedExample();
    const top = Object.keys(parseDocument(text).toJS() as object).sort();
    expect(top).toEqual([
      'acl', 'analytics', 'answer-cache', 'api', 'cookies', 'edns', 'flattening', 'identity', 'journal', 'limits', 'listen', 'log', 'peers', 'proxy',
      'rrl', 'signature-cache', 'signing-budget', 'state-dir', 'tcp', 'tls', 'tsig-keys', 'workers', 'zones', 'zones-dir',
    ]);
    const r = parseConfigText(text, examplePath);
    const c = ok(r);
    expect(r.warnings).toEqual([]);
    expect(c.identity.idServer).toBe(hostname());
    expect(c.identity.version).toBeUndefined();
    expect(c.peers.map((p) => [p.name, p.address.text, p.port, p.tsig?.name.toString(), p.ixfr])).toEqual([
      ['hidden-primary', '192.0.2.53', 53, 'xfr-key.', true],
      ['backup-ns', '198.51.100.53', 53, 'xfr-key.', false],
      ['tls-primary', '192.0.2.54', 853, undefined, false],
    ]);
    // RFC 9103: a TLS peer's CA path resolves against the config file's directory.
    expect(c.peers[2]?.tls).toEqual({ caFile: join(dirname(examplePath), 'tls', 'primary-ca.pem'), pin: undefined, hostname: 'ns1.example.com' });
    expect(c.peers[0]?.tls).toBeUndefined();
    expect(c.tls?.listen.map((l) => l.text)).toEqual(['127.0.0.1:8853']);
    expect(c.acl.map((a) => [a.name, a.address?.text, a.key?.name.toString()])).toEqual([['ops', '10.0.0.0/24', 'xfr-key.']]);
    expect(c.tsigKeys[0]?.algorithm).toBe('hmac-sha256');
    expect(Buffer.from(c.tsigKeys[0]!.secret).toString()).toBe('apexdns-example-tsig-secret-0001');
    const [com, net] = c.zones;
    expect(com?.notify.map((p) => p.name)).toEqual(['backup-ns']);
    expect(com?.allowTransfer.map((r) => r.kind)).toEqual(['peer', 'acl']);
    expect(com?.dnssec).toEqual({ mode: 'live', state: 'active', denial: 'compact', keys: join(repo, 'keys'), validityDays: 7 });
    expect(resolveZoneProxy(c, com!)?.ipv4.map((a) => a.text)).toEqual(['203.0.113.10']);
    expect(resolveZoneProxy(c, net!)?.ipv4.map((a) => a.text)).toEqual(['203.0.113.1', '203.0.113.2']);
    expect(c.proxy?.https?.alpn).toEqual(['h3', 'h2']);
    expect(net?.type).toBe('secondary');
    // RFC 9432 producer: a primary zone with generated data under state-dir, serial policy increment.
    const cat = c.zones[2];
    expect([cat?.name.toString(), cat?.type, cat?.serial, cat?.file, cat?.catalog?.members?.map((m) => m.toString())]).toEqual(['catalog.example.', 'primary', 'increment', join(repo, 'var', 'catalog', 'catalog.example.zone'), ['example.com.']]);
    expect(com?.catalogGroup).toBe('web');
    expect(net?.primaries.map((p) => p.name)).toEqual(['hidden-primary']);
    expect(net?.refresh).toBe(300);
    expect(net?.multiProvider).toBe(true);
    expect(net?.overlay).toBe(join(repo, 'zones/example.net.overlay'));
    expect(net?.file).toBe(join(repo, 'var/example.net.zone'));
  });

  it('check-config reports OK for it', async () => {
    const rep = await checkConfig(examplePath);
    expect(rep.ok).toBe(true);
    expect(rep.lines).toEqual([`${examplePath}: OK (1 zone, 2 listen addresses)`]);
  });
});

describe('documented schema', () => {
  it('the issue snippet validates, relative paths anchored at the config directory', () => {
    const c = ok(parseConfigText(ISSUE_SNIPPET, '/etc/apexdns/apexdns.yaml'));
    expect(c.file).toBe('/etc/apexdns/apexdns.yaml');
    expect(c.zonesDir).toBe('/etc/apexdns/zones');
    expect(c.stateDir).toBe('/etc/apexdns/var');
    expect(c.zones[0]?.file).toBe('/etc/apexdns/zones/example.com.zone');
    expect(c.zones[0]?.dnssec).toEqual({ mode: 'live', state: 'active', denial: 'compact', keys: '/etc/apexdns/keys', validityDays: 7 });
    expect(c.zones[1]?.file).toBe('/etc/apexdns/var/example.net.zone');
    expect(c.flattening.resolvers.map((r) => r.text)).toEqual(['127.0.0.1:5300']);
    expect(c.proxy?.ipv6.map((a) => a.text)).toEqual(['2001:db8:cf::1', '2001:db8:cf::2']);
    expect(Array.from(c.proxy!.ipv4[0]!.bytes)).toEqual([203, 0, 113, 1]);
    expect(c.zones[1]?.allowNotify).toEqual([{ kind: 'peer', peer: c.peers[0] }]);
    expect(c.zones[0]?.notify[0]).toBe(c.peers[1]);
    expect(c.acl[0]?.key).toBe(c.tsigKeys[0]);
  });

  it('defaults: listen 127.0.0.1:5353, secondary file under state-dir, presigned dnssec', () => {
    const c = ok(parseConfigText(
      'peers: [{name: p, address: "2001:db8::53"}]\nzones:\n  - {name: Example.ORG., type: secondary, primaries: [p], dnssec: {mode: presigned}}\n',
      '/srv/dns/apexdns.yaml'));
    expect(c.listen.map((l) => l.text)).toEqual(['127.0.0.1:5353']);
    expect(c.peers[0]).toMatchObject({ port: 53, ixfr: false, tsig: undefined });
    expect(c.zones[0]?.file).toBe('/srv/dns/var/Example.ORG.zone');
    expect(c.zones[0]?.dnssec).toEqual({ mode: 'presigned' });
    expect(c.zones[0]?.serial).toBe('keep');
    expect(c.zones[0]?.refresh).toBeUndefined();
  });

  it('identity strings and NSID bytes; TTL-style refresh', () => {
    const c = ok(parseConfigText(
      'identity: {version: true, hostname: true, id-server: false, nsid: "ns1"}\n' +
        'peers: [{name: p, address: 192.0.2.1}]\nzones: [{name: a.test, type: secondary, primaries: [p], refresh: 1h30m}]\n',
      ''));
    expect(c.identity.version).toBe('apexdns 0.1.0');
    expect(c.identity.hostname).toBe(hostname());
    expect(c.identity.idServer).toBeUndefined();
    expect(Array.from(c.identity.nsid!)).toEqual([0x6e, 0x73, 0x31]);
    expect(c.zones[0]?.refresh).toBe(5400);
  });
});

describe('error reports (path, message, line:col)', () => {
  const F = '/etc/apexdns/c.yaml';

  it('bad dnssec state value', () => {
    expect(errs('zones:\n  - name: a.test\n    file: a.zone\n  - name: b.test\n    file: b.zone\n    dnssec:\n      state: on\n')).toEqual([
      `${F}:7:14: zones[1].dnssec.state: must be one of pending, active, pending-disabled, disabled, deleted`,
    ]);
    expect(errs('zones: [{name: a.test, file: a.zone, dnssec: {state: activ}}]\n')).toEqual([
      `${F}:1:54: zones[0].dnssec.state: must be one of pending, active, pending-disabled, disabled, deleted (did you mean "active"?)`,
    ]);
  });

  it('rrl and cookies: defaults, and errors that name the key', () => {
    const c = ok(parseConfigText('zones: []\n', '/etc/apexdns/c.yaml'));
    expect([c.rrl.responsesPerSecond, c.rrl.window, c.rrl.slip, c.rrl.ipv4PrefixLength, c.rrl.ipv6PrefixLength]).toEqual([20, 15, 2, 24, 56]);
    expect(c.rrl.exempt.map((x) => x.text)).toEqual(['127.0.0.0/8', '::1/128']);
    expect([c.cookies.secret, c.cookies.previousSecret, c.cookies.require]).toEqual([undefined, undefined, false]);
    expect(ok(parseConfigText('rrl: {exempt: []}\n', '/etc/apexdns/c.yaml')).rrl.exempt).toEqual([]);
    expect(errs('rrl:\n  slip: 11\n  exempt: ["192.0.2.1/33", 5]\ncookies:\n  secret: "abc"\n  previous-secret: "00112233445566778899aabbccddeeff"\n')).toEqual([
      `${F}:2:9: rrl.slip: must be an integer 0..10, got 11`,
      expect.stringMatching(/^\/etc\/apexdns\/c\.yaml:3:12: rrl\.exempt\[0\]: /),
      `${F}:3:28: rrl.exempt[1]: must be an address or CIDR string, got 5`,
      `${F}:5:11: cookies.secret: must be 32 hex digits (a 128-bit secret), got 3 characters`,
      `${F}:6:20: cookies.previous-secret: needs cookies.secret (the new secret) beside it`,
    ]);
  });

  it('api.listen: one address or a list of them (issue 13 writes a list); errors name the item', () => {
    const one = ok(parseConfigText('api: { listen: "127.0.0.1:8053" }\n', '/etc/apexdns/c.yaml'));
    expect(one.api.listen.map((l) => l.text)).toEqual(['127.0.0.1:8053']);
    const two = ok(parseConfigText('api:\n  listen: ["127.0.0.1:8053", "[::1]:8053"]\n', '/etc/apexdns/c.yaml'));
    expect(two.api.listen.map((l) => l.text)).toEqual(['127.0.0.1:8053', '[::1]:8053']);
    expect(ok(parseConfigText('listen: ["127.0.0.1:53"]\n', '/etc/apexdns/c.yaml')).api.listen).toEqual([]);
    expect(errs('api:\n  listen: ["127.0.0.1:8053", 5, "127.0.0.1:8053"]\n')).toEqual([
      `${F}:2:30: api.listen[1]: must be a string like "127.0.0.1:8053" or "[::1]:8053", got 5`,
      `${F}:2:33: api.listen[2]: duplicate address 127.0.0.1:8053`,
    ]);
  });

  it('tls and TLS peers: required keys, tls-* only with tls: true, the pin format', () => {
    expect(errs('tls: { listen: [] }\npeers:\n  - { name: p, address: 192.0.2.1, tls-ca: ca.pem }\n  - { name: q, address: 192.0.2.2, tls: true, tls-pin: abc }\n').map((e) => e.replace(/^\S+:\d+:\d+: /, ''))).toEqual([
      'tls.certificate: is required (a PEM certificate chain file)',
      'tls.key: is required (a PEM private key file)',
      'tls.listen: must list at least one address',
      'peers[0].tls-ca: needs tls: true',
      "peers[1].tls-pin: must be the base64 SHA-256 of the certificate's public key (44 characters; openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl sha256 -binary | base64)",
    ]);
  });

  it('analytics: durations, caps, and the minute retention never above the retention', () => {
    const c = ok(parseConfigText('zones: []\nanalytics: { retention: 2d, minute-retention: 3d, max-names: 50, enabled: false }\n', '/etc/apexdns/c.yaml'));
    expect(c.analytics).toEqual({ enabled: false, retention: 172_800, minuteRetention: 172_800, maxNames: 50, maxNamesHourly: 500, maxSources: 200, maxRows: 2000, maxTotalRows: 80_000 });
    expect(errs('zones: []\nanalytics: { retention: 10m }\n')).toEqual([`${F}:2:25: analytics.retention: must be 3600..31622400 seconds (an integer or units like "1h30m"), got "10m"`]);
  });

  it('unknown keys, with a suggestion when close', () => {
    expect(errs('zones:\n  - name: a.test\n    file: a.zone\n    alow-transfer: []\nlisten: ["127.0.0.1:53"]\ntcp: {idleTimeoutMs: 5}\nfoo: 1\n')).toEqual([
      `${F}:4:5: zones[0].alow-transfer: unknown key (did you mean "allow-transfer"?)`,
      `${F}:6:7: tcp.idleTimeoutMs: unknown key (did you mean "idle-timeout-ms"?)`,
      `${F}:7:1: foo: unknown key (allowed: listen, workers, zones-dir, state-dir, log, identity, edns, udp, tcp, answer-cache, signature-cache, signing-budget, api, tls, cookies, rrl, proxy, flattening, tsig-keys, peers, acl, zones, journal, limits, analytics)`,
    ]);
  });

  it('unknown peer, acl and key references', () => {
    expect(errs(
      'tsig-keys: [{name: xfr-key, secret: "AAAA"}]\n' +
        'peers:\n  - {name: backup-ns, address: 192.0.2.1, tsig: xfr-kye}\n' +
        'acl:\n  - {name: ops, address: 10.0.0.0/8}\n' +
        'zones:\n  - name: a.test\n    file: a.zone\n    notify: [backup, ops]\n    allow-transfer: [nobody]\n')).toEqual([
      `${F}:3:49: peers[0].tsig: unknown TSIG key "xfr-kye" (did you mean "xfr-key"?)`,
      `${F}:9:14: zones[0].notify[0]: unknown peer "backup" (did you mean "backup-ns"?)`,
      `${F}:9:22: zones[0].notify[1]: "ops" is an acl; notify takes peer names`,
      `${F}:10:22: zones[0].allow-transfer[0]: unknown peer or acl "nobody"`,
    ]);
  });

  it('TSIG key references are domain names compared case-insensitively', () => {
    const c = ok(parseConfigText('tsig-keys: [{name: Xfr-Key., secret: "AAAA"}]\npeers: [{name: p, address: 192.0.2.1, tsig: xfr-key}]\nzones: []\n', ''));
    expect(c.peers[0]?.tsig).toBe(c.tsigKeys[0]);
    expect(errs('tsig-keys: [{name: k, secret: "AAAA"}, {name: K., secret: "AAAA"}]\n')).toEqual([
      `${F}:1:47: tsig-keys[1].name: duplicate TSIG key "K." (also tsig-keys[0])`,
    ]);
  });

  it('duplicate zones (case-insensitive, trailing dot optional)', () => {
    expect(errs('zones:\n  - {name: example.com, file: a.zone}\n  - {name: EXAMPLE.com., file: b.zone}\n')).toEqual([
      `${F}:3:12: zones[1].name: duplicate zone "EXAMPLE.com." (also zones[0])`,
    ]);
  });

  it('bad CIDR, bad listen address, bad base64 secret', () => {
    expect(errs(
      'listen:\n  - "127.0.0.1"\n  - "[::1]:99999"\n  - "::1"\n' +
        'tsig-keys:\n  - name: k\n    secret: "not base64!"\n' +
        'acl:\n  - name: ops\n    address: 10.0.0.1/24\n  - name: x\n    address: 10.0.0.0/33\n  - name: y\n')).toEqual([
      `${F}:2:5: listen[0]: "127.0.0.1": missing port (expected a.b.c.d:port or [ipv6]:port)`,
      `${F}:3:5: listen[1]: "[::1]:99999": port must be an integer 1..65535`,
      `${F}:4:5: listen[2]: "::1": write IPv6 with a port as [addr]:port`,
      `${F}:7:13: tsig-keys[0].secret: must be valid base64 (RFC 4648 §4, with "=" padding)`,
      `${F}:10:14: acl[0].address: host bits set below /24 (did you mean "10.0.0.0/24"?)`,
      `${F}:12:14: acl[1].address: prefix length "33" must be an integer 0..32`,
      `${F}:13:5: acl[2]: needs an address, a key, or both`,
    ]);
  });

  it('link-local listen addresses keep their interface (RFC 4007 §11); the interface must exist', () => {
    const c = ok(parseConfigText('listen: ["[FE80::1%lo]:5353", "[fe80::2%1]:53"]\nzones: []\n', '/etc/apexdns/c.yaml'));
    expect(c.listen.map((l) => [l.text, l.zone])).toEqual([['[fe80::1%lo]:5353', 'lo'], ['[fe80::2%1]:53', '1']]);
    expect(errs('listen:\n  - "[fe80::1%nosuch0]:53"\n  - "[2001:db8::1%lo]:53"\n  - "[fe80::1%]:53"\n')).toEqual([
      expect.stringMatching(/^\/etc\/apexdns\/c\.yaml:2:5: listen\[0\]: no network interface "nosuch0" on this machine \(have: .*\blo\b.*\)$/),
      `/etc/apexdns/c.yaml:3:5: listen[1]: "2001:db8::1%lo": a zone id (%lo) only goes with a link-local address (fe80::/10)`,
      `/etc/apexdns/c.yaml:4:5: listen[2]: "fe80::1%": "" is not an interface name or index`,
    ]);
  });

  it('secondary without primaries; primary without file; secondary-only keys on a primary', () => {
    expect(errs('zones:\n  - name: b.test\n    type: secondary\n  - name: c.test\n    refresh: 60\n')).toEqual([
      `${F}:2:5: zones[0].primaries: is required for secondary zones (at least one peer name)`,
      `${F}:4:5: zones[1].file: is required for primary zones`,
      `${F}:5:14: zones[1].refresh: only valid for secondary zones (this zone is type primary)`,
    ]);
  });

  it('at most 30 peers per zone', () => {
    const peers = Array.from({ length: 31 }, (_, i) => `  - {name: p${i}, address: 192.0.2.${i + 1}}`).join('\n');
    const names = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => `p${from + i}`).join(', ');
    const ok30 = `peers:\n${peers}\nzones:\n  - name: a.test\n    file: a.zone\n    notify: [${names(0, 20)}]\n    allow-transfer: [${names(10, 30)}]\n`;
    expect(parseConfigText(ok30, F).ok).toBe(true);
    const bad = `peers:\n${peers}\nzones:\n  - name: a.test\n    file: a.zone\n    notify: [${names(0, 20)}]\n    allow-transfer: [${names(10, 31)}]\n`;
    expect(errs(bad)).toEqual([`${F}:34:5: zones[0]: links 31 peers (primaries, notify, allow-*); at most 30 per zone`]);
  });

  it('presigned excludes state, denial, keys', () => {
    expect(errs('zones:\n  - name: a.test\n    file: a.zone\n    dnssec: {mode: presigned, state: active, keys: k}\n')).toEqual([
      `${F}:4:38: zones[0].dnssec.state: not allowed with mode presigned (the primary signs the zone)`,
      `${F}:4:52: zones[0].dnssec.keys: not allowed with mode presigned (the primary signs the zone)`,
    ]);
  });

  it('proxy pools hold literals of the right family', () => {
    expect(errs('proxy:\n  ipv4: ["203.0.113.1", "2001:db8::1"]\n  ipv6: ["203.0.113.1"]\n  https: {alpn: []}\nzones: []\n')).toEqual([
      `${F}:2:25: proxy.ipv4[1]: "2001:db8::1" is not an IPv4 address`,
      `${F}:3:10: proxy.ipv6[0]: "203.0.113.1" is not an IPv6 address`,
      `${F}:4:17: proxy.https.alpn: must list at least one ALPN id (e.g. h3, h2)`,
    ]);
  });

  it('type errors name the value found', () => {
    expect(errs('workers: 0\nedns: {udp-size: 100}\nlog: {level: verbose, queries: "yes"}\nzones: 3\n')).toEqual([
      `${F}:1:10: workers: must be "auto" or an integer 1..1024, got 0`,
      `${F}:2:18: edns.udp-size: must be an integer 512..4096, got 100`,
      `${F}:3:14: log.level: must be one of fatal, error, warn, info, debug, trace`,
      `${F}:3:32: log.queries: must be true or false, got "yes"`,
      `${F}:4:8: zones: must be a list, got 3`,
    ]);
  });

  it('YAML syntax errors and duplicate keys are reported with positions; nothing half-applies', () => {
    expect(errs('zones: []\nzones: []\n')).toEqual([`${F}:2:1: Map keys must be unique`]);
    const r = parseConfigText('listen: ["127.0.0.1:53"\nzones: []\n', F);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors[0]?.kind).toBe('syntax');
    expect('config' in r).toBe(false);
  });

  it('a missing file is an io error', async () => {
    const r = await loadConfig('/nonexistent/apexdns.yaml');
    expect(r.ok).toBe(false);
    const e: ConfigError | undefined = r.ok ? undefined : r.errors[0];
    expect(e?.kind).toBe('io');
    expect(e && formatConfigError(e)).toMatch(/^\/nonexistent\/apexdns\.yaml: cannot read config: ENOENT/);
  });

  it('formatConfigError without position or path', () => {
    expect(formatConfigError({ kind: 'io', severity: 'error', file: '', path: '', message: 'boom' })).toBe('<config>: boom');
    expect(formatConfigError({ kind: 'schema', severity: 'error', file: 'c.yaml', path: 'zones[0].file', message: 'x', line: 3, col: 5 }))
      .toBe('c.yaml:3:5: zones[0].file: x');
    expect(errs('listen: []\nzones: []\n')).toEqual([`${F}:1:9: listen: must list at least one address`]);
  });

  it('warnings do not fail the load and are formatted as such', () => {
    const r = parseConfigText('acl: [{name: wide, address: 10.0.0.0/8}]\nzones: []\n', F);
    expect(r.ok).toBe(true);
    expect(r.warnings.map(formatConfigError)).toEqual([
      `${F}:1:29: warning: acl[0].address: 10.0.0.0/8 is wider than /24`,
      `${F}:2:8: warning: zones: no zones configured`,
    ]);
  });
});
