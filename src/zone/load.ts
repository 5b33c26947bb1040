// Loads one zone from its BIND file(s) into a snapshot, with diagnostics and a content fingerprint so a reload
// can skip zones whose files did not change.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Name } from '../wire/name.js';
import type { Diagnostic, RR } from './model.js';
import { parseZoneFile, type ParseResult } from './parser.js';
import { buildSnapshotAsync, type ZoneSnapshot } from './snapshot.js';
import { applyFlattenAll, applyProxy } from './proxy.js';
import type { ProxyConfig } from './proxy.js';
import { RRType } from '../wire/constants.js';
import { soaFields, soaWithSerial } from '../wire/rdata/index.js';
import { DEFAULT_ZONE_LIMITS, type ZoneLimits } from './limits.js';

export interface LoadedZone {
  readonly snapshot: ZoneSnapshot;
  readonly diagnostics: readonly Diagnostic[];
  /** Every file read ($INCLUDEs too), for change detection. */
  readonly files: readonly string[];
  /** Hash over the contents of `files`. */
  readonly fingerprint: string;
  readonly loadMs: number;
}

export type LoadResult = { readonly ok: true; readonly zone: LoadedZone } | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** Load-time answer shaping of one zone (see zone/proxy.ts). */
export interface ZoneShaping {
  /** The zone's effective proxy pool (`resolveZoneProxy`); proxied records without one fail the load. */
  readonly proxy?: ProxyConfig | undefined;
  /** `flatten-all-cnames: true`: every CNAME is flattened. */
  readonly flattenAllCnames?: boolean;
  /** DNSSEC record rewriting before the snapshot is built (src/dnssec/zone-keys.ts: DNSKEY/CDS/CDNSKEY/NSEC3PARAM). */
  readonly augment?: (records: readonly RR[]) => readonly RR[];
  /**
   * SOA serial policy (src/transfer/primary.ts): given the file's serial and fingerprint, the serial to serve, or an
   * error that fails the load (serial: keep on a changed zone whose serial did not increase).
   */
  readonly serial?: ((fileSerial: number, fingerprint: string) => number | { readonly error: string }) | undefined;
  /** Caps against a hostile zone file (src/zone/limits.ts); default DEFAULT_ZONE_LIMITS. */
  readonly limits?: ZoneLimits;
  /** The file as just parsed by the caller (the change path, src/change/): not parsed again. */
  readonly parsed?: ParseResult | undefined;
}

export async function loadZone(origin: Name, file: string, zonesDir: string, shaping: ZoneShaping = {}): Promise<LoadResult> {
  const started = performance.now();
  let parsed;
  const limits = shaping.limits ?? DEFAULT_ZONE_LIMITS;
  try {
    parsed = shaping.parsed ?? await parseZoneFile(file, { origin, zonesDir, maxRecords: limits.maxRecords, maxFileSize: limits.maxFileSize, maxIncludeDepth: limits.maxIncludeDepth });
  } catch (e) {
    return { ok: false, diagnostics: [{ severity: 'error', pos: { file, line: 0, col: 0 }, message: (e as Error).message }] };
  }
  const parseErrors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (parseErrors.length > 0) return { ok: false, diagnostics: parsed.diagnostics };
  const proxied = applyProxy(parsed.records, origin, shaping.proxy);
  if (proxied.diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics: [...parsed.diagnostics, ...proxied.diagnostics] };
  const shaped = shaping.flattenAllCnames ? applyFlattenAll(proxied.records) : proxied.records;
  let records = shaping.augment ? shaping.augment(shaped) : shaped;
  if (shaping.serial) {
    // Serial policy (src/transfer/primary.ts): may refuse the load or replace the SOA serial.
    const i = records.findIndex((r) => r.type === RRType.SOA && r.owner.equals(origin));
    const soa = records[i];
    if (soa && soa.rdata.length >= 22) {
      const fileSerial = soaFields(soa.rdata).serial;
      const want = shaping.serial(fileSerial, await fingerprintFiles(parsed.files));
      if (typeof want !== 'number') return { ok: false, diagnostics: [...parsed.diagnostics, { severity: 'error', pos: soa.meta.pos ?? { file, line: 0, col: 0 }, message: want.error }] };
      if (want !== fileSerial) {
        const copy = records.slice();
        copy[i] = { ...soa, rdata: soaWithSerial(soa.rdata, want) };
        records = copy;
      }
    }
  }
  const built = await buildSnapshotAsync(origin, records, { maxRrset: limits.maxRrset });
  const diagnostics = [...parsed.diagnostics, ...proxied.diagnostics, ...built.diagnostics];
  if (!built.snapshot) return { ok: false, diagnostics };
  const fingerprint = await fingerprintFiles(parsed.files);
  return { ok: true, zone: { snapshot: built.snapshot, diagnostics, files: parsed.files, fingerprint, loadMs: performance.now() - started } };
}

/** SHA-256 over the files' contents in order; a missing file yields a value that never matches. */
export async function fingerprintFiles(files: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of files) {
    try {
      h.update(f);
      h.update(await readFile(f));
    } catch {
      h.update(`missing:${Date.now()}:${Math.random()}`);
    }
  }
  return h.digest('hex');
}
