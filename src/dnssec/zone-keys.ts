// Per-zone DNSSEC context built at load/reload: keys, the DNSKEY/CDS/CDNSKEY/NSEC3PARAM records added to the zone,
// the shared signature cache, and a registry that maps a published snapshot to its signing context.

import { RRType } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { soaFields } from '../wire/rdata/index.js';
import { NO_META, type RR } from '../zone/model.js';
import type { ZoneSnapshot } from '../zone/snapshot.js';
import type { DenialMode, DnssecConfig, DnssecState } from './settings.js';
import { SignatureCache } from './cache.js';
import { cdnskeyDeleteRdata, cdsDeleteRdata, dsRdata } from './ds.js';
import { activeKeys, ensureKeys, type ZoneKey } from './keys.js';
import { nsec3paramRdata } from './nsec3.js';
import { ZoneSigner } from './signer.js';
import type { ValidityOptions } from './validity.js';
import { prepareNsecChain } from './nsec-chain.js';

/** A zone signed at query time by us. */
export interface LiveSigning {
  readonly kind: 'live';
  readonly origin: Name;
  readonly state: Exclude<DnssecState, 'deleted'>;
  readonly denial: DenialMode;
  readonly signer: ZoneSigner;
  /** All keys found in the key directory (the signer uses the active KSK and ZSK). */
  readonly keys: readonly ZoneKey[];
}

/** A zone whose RRSIG/NSEC/NSEC3 come from the zone file (RFC 4035 answer construction, no signing). */
export interface PresignedSigning {
  readonly kind: 'presigned';
  readonly origin: Name;
}

export type ZoneSigning = LiveSigning | PresignedSigning;

/** RFC 9276 §3.1: NSEC3 hash SHA-1, flags 0 (no opt-out), 0 extra iterations, empty salt. */
export const NSEC3_SALT: Uint8Array = new Uint8Array(0);
export const NSEC3_ITERATIONS = 0;

/** Default TTL of the DNSKEY/CDS/CDNSKEY/NSEC3PARAM RRsets we add (seed "Multi-signer DNSSEC": DNSKEY ttl 3600). */
export const DNSSEC_RR_TTL = 3600;

const registry = new WeakMap<ZoneSnapshot, ZoneSigning>();

/** Associate a published snapshot with its signing context (called by the composition root after loading). */
export function attachSigning(snapshot: ZoneSnapshot, signing: ZoneSigning): void {
  registry.set(snapshot, signing);
}

/**
 * attachSigning, then build what answering needs before the snapshot is published: the NSEC chain of `denial: nsec`
 * (in time slices), so no query waits for it.
 */
export async function attachSigningPrepared(snapshot: ZoneSnapshot, signing: ZoneSigning): Promise<void> {
  attachSigning(snapshot, signing);
  if (signing.kind === 'live' && signing.denial === 'nsec') await prepareNsecChain(snapshot);
}

/** The signing context of a snapshot, if the zone is signed (live or pre-signed). */
export function signingOf(snapshot: ZoneSnapshot): ZoneSigning | undefined {
  return registry.get(snapshot);
}

// ---- the process-wide signature cache ----

let shared: SignatureCache | undefined;

/** The process-wide signature cache (config `signature-cache.memory-mb`; 0 disables it). Re-created when the cap changes. */
export function sharedSignatureCache(memoryMb: number): SignatureCache | undefined {
  if (memoryMb <= 0) {
    shared = undefined;
    return undefined;
  }
  const bytes = memoryMb * 1024 * 1024;
  if (shared === undefined || shared.maxBytes !== bytes) shared = new SignatureCache({ maxBytes: bytes });
  return shared;
}

/** Hit/miss figures of the process-wide signature cache (for logs and the bench). */
export function signatureCacheStats(): ReturnType<SignatureCache['stats']> | undefined {
  return shared?.stats();
}

// ---- load-time preparation ----

/** Record types we make ourselves in a live-signed zone; copies in the zone file are dropped. */
const LIVE_GENERATED: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM, RRType.CDS, RRType.CDNSKEY]);
/** State `deleted`: "does not respond with RRSIG, NSEC, DNSKEY, CDS, and CDNSKEY record types" (seed "DNSSEC states"). */
const DELETED_STRIPPED: ReadonlySet<number> = new Set([...LIVE_GENERATED, RRType.DNSKEY]);

/** What the composition root needs for one zone: a record rewriter (before buildSnapshot) and the context to attach. */
export interface ZoneDnssecPrep {
  /** Rewrite the parsed records: drop what we generate, add DNSKEY/CDS/CDNSKEY/NSEC3PARAM. */
  readonly augment: (records: readonly RR[]) => RR[];
  /** undefined for state `deleted`. */
  readonly signing: ZoneSigning | undefined;
  readonly warnings: readonly string[];
}

function validityOptions(days: number | undefined): ValidityOptions | undefined {
  if (days === undefined) return undefined;
  const validity = days * 86400;
  // Keep the jitter well inside the period (validity.ts requires jitter < validity / 2).
  return { validity, jitter: Math.min(12 * 3600, Math.floor(validity / 8)) };
}

/**
 * Prepare DNSSEC for one zone. Live mode: load the keys from the key directory, generating a KSK and a ZSK the
 * first time (written atomically, `.private` mode 0600). Returns undefined for zones without a `dnssec` block.
 */
export async function prepareZoneDnssec(
  origin: Name, dnssec: DnssecConfig | undefined, cache: SignatureCache | undefined,
): Promise<ZoneDnssecPrep | undefined> {
  if (dnssec === undefined) return undefined;
  if (dnssec.mode === 'presigned') {
    return { augment: (r) => [...r], signing: { kind: 'presigned', origin }, warnings: [] };
  }
  if (dnssec.state === 'deleted') {
    return { augment: (r) => r.filter((rr) => !DELETED_STRIPPED.has(rr.type)), signing: undefined, warnings: [] };
  }
  const warnings: string[] = [];
  const keys = await ensureKeys(dnssec.keys, origin, warnings);
  const { ksk, zsk } = activeKeys(keys);
  const validity = validityOptions(dnssec.validityDays);
  const signer = new ZoneSigner(origin, { ksk, zsk }, { ...(cache ? { cache } : {}), ...(validity ? { validity } : {}) });
  const state = dnssec.state;
  const signing: LiveSigning = { kind: 'live', origin, state, denial: dnssec.denial, signer, keys };
  return { augment: (records) => augmentLive(origin, records, signing), signing, warnings };
}

/**
 * The records of a live-signed zone: the file's data without RRSIG/NSEC/NSEC3/NSEC3PARAM/CDS/CDNSKEY, plus our
 * DNSKEYs merged with the file's apex DNSKEYs (RFC 8901 model 2: foreign ZSKs signed by our KSK), CDS/CDNSKEY for
 * our KSK (RFC 7344 §3) or the RFC 8078 §4 delete records, and NSEC3PARAM for denial nsec3 (RFC 5155 §4).
 */
export function augmentLive(origin: Name, records: readonly RR[], signing: LiveSigning): RR[] {
  const out: RR[] = [];
  let dnskeyTtl: number | undefined;
  for (const rr of records) {
    if (LIVE_GENERATED.has(rr.type)) continue;
    if (rr.type === RRType.DNSKEY && rr.owner.equals(origin)) dnskeyTtl = Math.min(dnskeyTtl ?? rr.ttl, rr.ttl);
    out.push(rr);
  }
  const ttl = dnskeyTtl ?? DNSSEC_RR_TTL;
  const add = (type: number, rdata: Uint8Array, t = ttl): void => {
    out.push({ owner: origin, type, class: 1, ttl: t, rdata, meta: NO_META });
  };
  const now = Date.now();
  // Every key in the directory is published until its BIND Delete time (buildSnapshot drops duplicate RDATA).
  for (const k of [signing.signer.ksk, signing.signer.zsk, ...signing.keys]) {
    const del = k.timing?.delete;
    if (del !== undefined && del.getTime() <= now && k !== signing.signer.ksk && k !== signing.signer.zsk) continue;
    add(RRType.DNSKEY, k.dnskeyRdata);
  }
  const ksk = signing.signer.ksk;
  if (signing.state === 'pending' || signing.state === 'active') {
    // RFC 7344 §4: CDS/CDNSKEY mirror the DS/DNSKEY the parent should hold (digest type 2, RFC 4509).
    add(RRType.CDS, dsRdata(origin, ksk.dnskeyRdata, 2));
    add(RRType.CDNSKEY, ksk.dnskeyRdata);
  } else {
    // RFC 8078 §4: delete records ask the parent to remove the DS RRset.
    add(RRType.CDS, cdsDeleteRdata);
    add(RRType.CDNSKEY, cdnskeyDeleteRdata);
  }
  if (signing.denial === 'nsec3') {
    // RFC 5155 §4 / RFC 9276 §3.1: NSEC3PARAM at the apex; TTL = SOA MINIMUM (RFC 5155 §4 suggests 0; resolvers ignore it).
    const soa = records.find((r) => r.type === RRType.SOA && r.owner.equals(origin));
    const min = soa ? soaFields(soa.rdata).minimum : ttl;
    add(RRType.NSEC3PARAM, nsec3paramRdata({ iterations: NSEC3_ITERATIONS, salt: NSEC3_SALT }), min);
  }
  return out;
}

/** True when two zone `dnssec` blocks are equal (a state or denial change must rebuild the zone's records). */
export function sameDnssecConfig(a: DnssecConfig | undefined, b: DnssecConfig | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** A one-line summary of the shared signature cache for periodic debug logs; undefined when there is none. */
export function signatureCacheLogFields(): Record<string, number> | undefined {
  const st = shared?.stats();
  return st === undefined ? undefined : { ...st, hitRate: Math.round(st.hitRate * 10000) / 10000 };
}
