// RFC 2136 UPDATE: the zone section, prerequisite and update sections of a (TSIG-verified) request turned into the
// change path's prerequisites and operations, after the zone and access checks; answers with the RFC's RCODE.

import type { Logger } from 'pino';
import type { AccessRef, UpdateRule, ZoneConfig } from '../config/types.js';
import { RRClass, RRType, Rcode } from '../wire/constants.js';
import { decodeMessage } from '../wire/decode.js';
import type { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { zoneRecord } from '../zone/model.js';
import { accessAllowed, LogSampler } from '../transfer/server.js';
import type { ChangeOp, Prereq } from './apply.js';
import type { ChangeService } from './service.js';

/** An UPDATE as it reaches the zone's change path (possibly forwarded from another worker). */
export interface UpdateRequest {
  /** The request (the TSIG RR may still be in it; it is ignored here: verified by the receiver). */
  readonly message: Uint8Array;
  /** Name of the TSIG key the request was verified with; undefined when unsigned. */
  readonly keyName: Name | undefined;
  readonly address: string;
}

export interface UpdateHandlerOptions {
  readonly zone: (originKey: string) => ZoneConfig | undefined;
  readonly changes: ChangeService;
  readonly logger?: Logger | undefined;
}

type Parsed = { readonly ok: true; readonly zone: Name; readonly prereqs: Prereq[]; readonly ops: ChangeOp[] } | { readonly ok: false; readonly rcode: number; readonly message: string };

/** Meta types that never appear as data (RFC 2136 §3.4.1.2: AXFR, MAILA, MAILB; ANY only with class ANY/NONE-less forms). */
const META: ReadonlySet<number> = new Set([RRType.AXFR, RRType.IXFR, RRType.MAILA, RRType.MAILB]);

/** RFC 2136 §3.1–§3.4.1: sections → prerequisites and operations, with FORMERR / NOTZONE for malformed parts. */
export function parseUpdate(msg: Message): Parsed {
  const formerr = (message: string): Parsed => ({ ok: false, rcode: Rcode.FORMERR, message });
  // §3.1.1: exactly one zone, of type SOA.
  if (msg.question.length !== 1) return formerr('the zone section must hold exactly one zone');
  const z = msg.question[0]!;
  if (z.type !== RRType.SOA) return formerr('the zone section type must be SOA');
  if (z.class !== RRClass.IN) return { ok: false, rcode: Rcode.NOTAUTH, message: `zone class ${z.class} is not served` };
  const zone = z.name;
  const prereqs: Prereq[] = [];
  for (const rr of msg.answer) {
    // §3.2.1: every prerequisite has TTL 0; §3.2: names must be in the zone (NOTZONE).
    if (rr.ttl !== 0) return formerr(`prerequisite ${rr.owner.toString()} has a TTL`);
    if (!rr.owner.isSubdomainOf(zone)) return { ok: false, rcode: Rcode.NOTZONE, message: `prerequisite ${rr.owner.toString()} is outside ${zone.toString()}` };
    if (rr.class === RRClass.ANY) {
      if (rr.rdata.length !== 0) return formerr('class ANY prerequisite with RDATA');
      // §3.2.1 / §2.4.4 name in use; §2.4.1 RRset exists (value independent).
      prereqs.push(rr.type === RRType.ANY ? { kind: 'name-in-use', owner: rr.owner } : { kind: 'rrset-exists', owner: rr.owner, type: rr.type });
    } else if (rr.class === RRClass.NONE) {
      if (rr.rdata.length !== 0) return formerr('class NONE prerequisite with RDATA');
      // §3.2.2 / §2.4.5 name not in use; §2.4.3 RRset does not exist.
      prereqs.push(rr.type === RRType.ANY ? { kind: 'name-absent', owner: rr.owner } : { kind: 'rrset-absent', owner: rr.owner, type: rr.type });
    } else if (rr.class === z.class) {
      // §3.2.3: value-dependent; records of one RRset are collected into one prerequisite.
      if (rr.type === RRType.ANY || META.has(rr.type)) return formerr(`prerequisite of type ${rr.type}`);
      const same = prereqs.find((p) => p.kind === 'rrset-equals' && p.owner.equals(rr.owner) && p.type === rr.type);
      if (same && same.kind === 'rrset-equals') (same.rdata as Uint8Array[]).push(rr.rdata);
      else prereqs.push({ kind: 'rrset-equals', owner: rr.owner, type: rr.type, rdata: [rr.rdata] });
    } else return formerr(`prerequisite class ${rr.class}`);
  }
  const ops: ChangeOp[] = [];
  for (const rr of msg.authority) {
    // §3.4.1.3: names outside the zone are NOTZONE.
    if (!rr.owner.isSubdomainOf(zone)) return { ok: false, rcode: Rcode.NOTZONE, message: `update ${rr.owner.toString()} is outside ${zone.toString()}` };
    if (rr.class === z.class) {
      // §3.4.1.2: no meta types as data.
      if (rr.type === RRType.ANY || META.has(rr.type)) return formerr(`cannot add a record of type ${rr.type}`);
      ops.push({ kind: 'add', rr: zoneRecord(rr) });
    } else if (rr.class === RRClass.ANY) {
      // §3.4.1.2: TTL 0 and no RDATA.
      if (rr.ttl !== 0 || rr.rdata.length !== 0 || META.has(rr.type)) return formerr('malformed class ANY update');
      ops.push(rr.type === RRType.ANY ? { kind: 'delete-name', owner: rr.owner } : { kind: 'delete-rrset', owner: rr.owner, type: rr.type });
    } else if (rr.class === RRClass.NONE) {
      if (rr.ttl !== 0 || rr.type === RRType.ANY || META.has(rr.type)) return formerr('malformed class NONE update');
      ops.push({ kind: 'delete-rr', owner: rr.owner, type: rr.type, rdata: rr.rdata });
    } else return formerr(`update class ${rr.class}`);
  }
  return { ok: true, zone, prereqs, ops };
}

/** An owner pattern of `update-policy` (see UpdateRule) against a name of zone `zone`. */
export function ownerMatches(pattern: string, owner: Name, zone: Name): boolean {
  if (!owner.isSubdomainOf(zone)) return false;
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) {
    const base = pattern === '*.@' ? zone : parseRelative(pattern.slice(2), zone);
    return base !== undefined && !owner.equals(base) && owner.isSubdomainOf(base);
  }
  if (pattern.endsWith('.*')) {
    const label = pattern.slice(0, -2).toLowerCase();
    return owner.labels.length > zone.labels.length && owner.labels[0]!.toLowerCase() === label;
  }
  const exact = pattern === '@' ? zone : parseRelative(pattern, zone);
  return exact !== undefined && owner.equals(exact);
}

function parseRelative(text: string, zone: Name): Name | undefined {
  try {
    return Name.parse(text, zone);
  } catch {
    return undefined;
  }
}

/** Types the live signer makes (src/dnssec/): an UPDATE may not add them to a live-signed zone. */
const SIGNER_OWNED: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM]);

const refName = (r: AccessRef): string => (r.kind === 'peer' ? r.peer.name : r.acl.name);

/**
 * `update-policy` (in the spirit of BIND's update-policy and Knot's update-owner/update-type): undefined when the
 * operations are allowed, else the first one that is not. A ref with no rules may change anything.
 */
export function policyViolation(rules: readonly UpdateRule[], admitted: readonly string[], zone: Name, ops: readonly ChangeOp[]): string | undefined {
  if (admitted.some((a) => !rules.some((r) => r.ref === a))) return undefined;
  const mine = rules.filter((r) => admitted.includes(r.ref));
  for (const op of ops) {
    const owner = op.kind === 'add' ? op.rr.owner : op.owner;
    const type = op.kind === 'add' ? op.rr.type : op.kind === 'delete-name' ? undefined : op.type;
    const ok = mine.some((r) => r.owners.some((o) => ownerMatches(o, owner, zone)) && (r.types.length === 0 || (type !== undefined && r.types.includes(type))));
    if (!ok) return `${op.kind} ${owner.toString()}${type !== undefined ? ` type ${type}` : ''} is outside update-policy`;
  }
  return undefined;
}

export class UpdateHandler {
  /** Refusals any client can trigger with one packet are logged at most once a second per kind (as transfers are). */
  private readonly sampler = new LogSampler();

  constructor(private readonly opts: UpdateHandlerOptions) {}

  private refused(level: 'info' | 'warn', kind: string, fields: Record<string, unknown>, msg: string): void {
    const left = this.opts.logger && this.sampler.admit(kind);
    if (left === undefined) return;
    this.opts.logger?.[level]({ ...fields, ...(left > 0 ? { suppressed: left } : {}) }, msg);
  }

  /** The RCODE to answer an UPDATE with (the caller builds and signs the response). */
  async handle(req: UpdateRequest): Promise<number> {
    let msg: Message;
    try {
      msg = decodeMessage(req.message);
    } catch (e) {
      this.refused('info', 'formerr', { event: 'update.formerr', client: req.address, error: (e as Error).message }, 'malformed UPDATE');
      return Rcode.FORMERR;
    }
    const p = parseUpdate(msg);
    const zoneName = msg.question[0]?.name;
    const zc = zoneName ? this.opts.zone(zoneName.key) : undefined;
    // RFC 2136 §3.1.2: a zone we are not authoritative for is NOTAUTH.
    if (!zc && zoneName) {
      this.refused('info', 'not authoritative', { event: 'update.refused', zone: zoneName.toString(), client: req.address, reason: 'not authoritative' }, 'UPDATE for a zone not served here');
      return Rcode.NOTAUTH;
    }
    if (!p.ok) {
      this.refused('info', 'rcode', { event: 'update.refused', zone: zoneName?.toString(), client: req.address, rcode: p.rcode, reason: p.message }, 'UPDATE not accepted');
      return p.rcode;
    }
    const cfg = zc!;
    // A secondary zone does not forward UPDATE to its primary (RFC 2136 §6 allows either): REFUSED.
    if (cfg.type !== 'primary') {
      this.refused('info', 'secondary zone', { event: 'update.refused', zone: p.zone.toString(), client: req.address, reason: 'secondary zone' }, 'UPDATE refused: secondary zone');
      return Rcode.REFUSED;
    }
    // RFC 2136 §3.3: permission; `allow-update` peers/acls (an acl with a key requires a request signed with it).
    if (!accessAllowed(cfg.allowUpdate, req.address, req.keyName)) {
      this.refused('warn', 'allow-update', { event: 'update.refused', zone: p.zone.toString(), client: req.address, key: req.keyName?.toString(), reason: 'allow-update' }, 'UPDATE refused by allow-update');
      return Rcode.REFUSED;
    }
    // A live-signed zone makes its own RRSIG/NSEC/NSEC3 at query time (RFC 4035 §2): those are not for UPDATE to set.
    if (cfg.dnssec?.mode === 'live') {
      const t = p.ops.find((o) => o.kind === 'add' && SIGNER_OWNED.has(o.rr.type));
      if (t) {
        this.refused('info', 'dnssec records are made by the signer', { event: 'update.refused', zone: p.zone.toString(), client: req.address, reason: 'dnssec records are made by the signer' }, 'UPDATE refused: DNSSEC records in a live-signed zone');
        return Rcode.REFUSED;
      }
    }
    const admitted = cfg.allowUpdate.filter((r) => accessAllowed([r], req.address, req.keyName)).map(refName);
    const denied = policyViolation(cfg.updatePolicy, admitted, p.zone, p.ops);
    if (denied !== undefined) {
      this.refused('warn', 'update-policy', { event: 'update.refused', zone: p.zone.toString(), client: req.address, key: req.keyName?.toString(), reason: denied }, 'UPDATE refused by update-policy');
      return Rcode.REFUSED;
    }
    const who = req.keyName ? `key:${req.keyName.toString()}` : `addr:${req.address}`;
    const out = await this.opts.changes.change({ zone: p.zone, prereqs: p.prereqs, ops: p.ops, who: `${who} from ${req.address}` });
    return out.rcode;
  }
}
