// `apexdns dnssec ds|keygen|status ZONE [--config FILE]`: key management and the DS to publish at the registrar.

import { resolve as resolvePath } from 'node:path';
import { loadConfig, formatConfigError } from '../config/index.js';
import type { ZoneConfig } from '../config/types.js';
import { Name, NameError } from '../wire/name.js';
import { dsText } from '../dnssec/ds.js';
import { activeKeys, ensureKeys, isActive, loadKeys, type ZoneKey } from '../dnssec/keys.js';

/** Used when `--config` is not given. */
export const DEFAULT_CONFIG = '/etc/apexdns/config.yaml';

export const DNSSEC_USAGE = `usage:
  apexdns dnssec ds ZONE [--config FILE]       print the DS (digest type 2) and DNSKEY to publish at the registrar
  apexdns dnssec keygen ZONE [--config FILE]   generate the zone's KSK and ZSK where missing
  apexdns dnssec status ZONE [--config FILE]   show the DNSSEC state, key tags and DS
  (default config: ${DEFAULT_CONFIG})
`;

interface Out {
  out(s: string): void;
  err(s: string): void;
}

const stdio: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Run a `dnssec` subcommand; returns the exit code (2 usage, 1 failure). */
export async function dnssecCommand(args: readonly string[], io: Out = stdio): Promise<number> {
  const rest = [...args];
  let configFile = DEFAULT_CONFIG;
  const ci = rest.indexOf('--config');
  if (ci >= 0) {
    const v = rest[ci + 1];
    if (v === undefined) {
      io.err(DNSSEC_USAGE);
      return 2;
    }
    configFile = v;
    rest.splice(ci, 2);
  }
  const [sub, zoneText, ...extra] = rest;
  if ((sub !== 'ds' && sub !== 'keygen' && sub !== 'status') || zoneText === undefined || extra.length > 0) {
    io.err(DNSSEC_USAGE);
    return 2;
  }
  let zone: Name;
  try {
    zone = Name.parse(zoneText.endsWith('.') ? zoneText : `${zoneText}.`);
  } catch (e) {
    if (!(e instanceof NameError)) throw e;
    io.err(`bad zone name "${zoneText}": ${e.message}\n`);
    return 1;
  }
  const loaded = await loadConfig(resolvePath(configFile));
  if (!loaded.ok) {
    for (const e of loaded.errors) io.err(formatConfigError(e) + '\n');
    return 1;
  }
  const zc: ZoneConfig | undefined = loaded.config.zones.find((z) => z.name.equals(zone));
  if (zc === undefined) {
    io.err(`zone ${zone.toString()} is not in ${configFile}\n`);
    return 1;
  }
  const d = zc.dnssec;
  if (d?.mode === 'presigned') {
    io.err(`zone ${zone.toString()} is pre-signed: its keys and DS come from the primary signer\n`);
    return 1;
  }
  // Without a dnssec block the zone is unsigned; keys still go to the default directory so a DS can be prepared.
  const keysDir = d?.keys ?? resolvePath(loaded.config.baseDir, 'keys');
  const warnings: string[] = [];
  const keys = sub === 'keygen' ? await ensureKeys(keysDir, zone, warnings) : await loadKeys(keysDir, zone, warnings);
  for (const w of warnings) io.err(`warning: ${w}\n`);
  switch (sub) {
    case 'keygen': {
      for (const k of keys) io.out(`${k.role.toUpperCase()} ${k.tag} ${k.file ?? ''}\n`);
      return 0;
    }
    case 'ds': {
      const ksks = keys.filter((k) => k.role === 'ksk' && isActive(k));
      if (ksks.length === 0) {
        io.err(`no active KSK for ${zone.toString()} in ${keysDir} (run: apexdns dnssec keygen ${zoneText})\n`);
        return 1;
      }
      for (const k of ksks) io.out(dsAndKey(zone, k));
      return 0;
    }
    case 'status': {
      io.out(`zone ${zone.toString()}\n`);
      io.out(`state: ${d === undefined ? 'deleted (no dnssec block: unsigned)' : d.state}\n`);
      if (d !== undefined) io.out(`denial: ${d.denial}\nkeys: ${keysDir}\n`);
      if (keys.length === 0) {
        io.out('no keys (they are generated when the zone is loaded with signing enabled, or by `dnssec keygen`)\n');
        return 0;
      }
      let signing: { ksk: ZoneKey; zsk: ZoneKey } | undefined;
      try {
        signing = activeKeys(keys);
      } catch {
        signing = undefined;
      }
      for (const k of keys) {
        const use = k === signing?.ksk || k === signing?.zsk ? 'signing' : isActive(k) ? 'active' : 'inactive';
        io.out(`key ${k.role.toUpperCase()} tag ${k.tag} flags ${k.flags} algorithm 13 ${use} ${k.file ?? ''}\n`);
      }
      if (signing) io.out(dsAndKey(zone, signing.ksk));
      return 0;
    }
  }
}

/** RFC 4509 DS (digest type 2) and the DNSKEY it hashes, as lines to paste at a registrar. */
function dsAndKey(zone: Name, k: ZoneKey): string {
  return `${dsText(zone, k.dnskeyRdata, 2)}\n${zone.toString()} IN DNSKEY ${k.flags} 3 13 ${Buffer.from(k.publicKey).toString('base64')}\n`;
}
