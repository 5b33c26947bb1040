#!/usr/bin/env node
// The `apexdns` command: serve, check-zone and check-config.

import { dirname, resolve as resolvePath } from 'node:path';
import { Name, NameError } from '../wire/name.js';
import { loadConfig, formatConfigError, resolveZoneProxy } from '../config/index.js';
import { loadZone, type ZoneShaping } from '../zone/load.js';
import { formatDiagnostic } from '../zone/model.js';
import { serve } from './serve.js';
import { zoneCommand } from './zone.js';
import { dnssecCommand } from './dnssec.js';
import { ctlCommand } from './ctl.js';

const USAGE = `usage:
  apexdns serve --config FILE          run the daemon
  apexdns check-zone ZONE FILE [--config FILE]
                                       parse and check a zone file (exit 1 on error)
  apexdns check-config FILE            validate a config file (exit 1 on error)
  apexdns zone notify|retransfer|refresh ZONE --config FILE   control zone transfers of the running daemon
  apexdns dnssec ds|keygen|status ZONE [--config FILE]        DS to publish, key generation, DNSSEC status
  apexdns status [ZONE] | zone-status ZONE | reload [ZONE] | stats  --config FILE [--json]
                                       ask the running daemon (control socket under state-dir)
`;

async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve': {
      const i = rest.indexOf('--config');
      const file = i >= 0 ? rest[i + 1] : undefined;
      if (!file) {
        process.stderr.write(USAGE);
        return 2;
      }
      return serve(file);
    }
    case 'check-zone':
      return checkZone(rest);
    case 'check-config':
      return checkConfig(rest);
    case 'zone':
      return zoneCommand(rest);
    case 'status':
    case 'zone-status':
    case 'reload':
    case 'stats':
      return ctlCommand(cmd, rest);
    case 'dnssec':
      return dnssecCommand(rest);
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

async function checkZone(argv: readonly string[]): Promise<number> {
  const args = [...argv];
  const ci = args.indexOf('--config');
  const configFile = ci >= 0 ? args[ci + 1] : undefined;
  if (ci >= 0) args.splice(ci, 2);
  const [zone, file, ...extra] = args;
  if (!zone || !file || extra.length > 0 || (ci >= 0 && !configFile)) {
    process.stderr.write('usage: apexdns check-zone ZONE FILE [--config FILE]\n');
    return 2;
  }
  let origin: Name;
  try {
    origin = Name.parse(zone.endsWith('.') ? zone : `${zone}.`);
  } catch (e) {
    if (!(e instanceof NameError)) throw e;
    process.stderr.write(`bad zone name "${zone}": ${e.message}\n`);
    return 1;
  }
  // With --config, the zone's proxy pool and flattening settings apply as the daemon would load it.
  let shaping: ZoneShaping = {};
  let zonesDir = dirname(resolvePath(file));
  if (configFile) {
    const cfg = await loadConfig(resolvePath(configFile));
    if (!cfg.ok) {
      for (const e of cfg.errors) process.stderr.write(formatConfigError(e) + '\n');
      return 1;
    }
    const zc = cfg.config.zones.find((z) => z.name.key === origin.key);
    shaping = { proxy: zc ? resolveZoneProxy(cfg.config, zc) : cfg.config.proxy, flattenAllCnames: zc?.flattenAllCnames ?? false, limits: zc?.limits ?? cfg.config.limits };
    zonesDir = cfg.config.zonesDir;
  }
  const path = resolvePath(file);
  const res = await loadZone(origin, path, zonesDir, shaping);
  const diags = res.ok ? res.zone.diagnostics : res.diagnostics;
  for (const d of diags) process.stderr.write(formatDiagnostic(d) + '\n');
  if (!res.ok) {
    process.stdout.write(`zone ${origin.toString()}: not loaded due to errors.\n`);
    return 1;
  }
  process.stdout.write(`zone ${origin.toString()}: loaded serial ${res.zone.snapshot.soaInfo.serial}, ${res.zone.snapshot.recordCount} records\nOK\n`);
  return 0;
}

async function checkConfig(args: readonly string[]): Promise<number> {
  const [file, ...extra] = args;
  if (!file || extra.length > 0) {
    process.stderr.write('usage: apexdns check-config FILE\n');
    return 2;
  }
  const res = await loadConfig(resolvePath(file));
  if (!res.ok) {
    for (const e of res.errors) process.stderr.write(formatConfigError(e) + '\n');
    return 1;
  }
  process.stdout.write(`${file}: OK (${res.config.zones.length} zones)\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`apexdns: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
