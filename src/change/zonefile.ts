// Write-back of a change into the zone file's own text: deleted records lose their lines, replaced ones are edited
// in place, new ones go after their owner's other records (or at the end), and the SOA serial is edited in place;
// comments, blank lines, directives, record order and relative names stay as the operator wrote them.

import { RRType } from '../wire/constants.js';
import { Name, escapeLabel } from '../wire/name.js';
import { rdataToText, typeMnemonic } from '../wire/rdata/index.js';
import type { RR } from '../zone/model.js';

/** A record that cannot be changed through the file (it comes from an $INCLUDE or a $GENERATE). */
export class ReadOnlyRecordError extends Error {
  override readonly name = 'ReadOnlyRecordError';
}

/** One token of a record's text with its line index (0-based) and column range. */
interface Tok {
  readonly line: number;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * Tokens of the record starting at line `first` (RFC 1035 §5.1 syntax: blanks separate, `;` starts a comment,
 * quotes group, parentheses continue the record over lines). Returns the tokens and the record's last line.
 */
function recordTokens(lines: readonly string[], first: number): { readonly toks: readonly Tok[]; readonly last: number } {
  const toks: Tok[] = [];
  let depth = 0;
  let i = first;
  for (; i < lines.length; i++) {
    const s = lines[i]!;
    let c = 0;
    while (c < s.length) {
      const ch = s[c]!;
      if (ch === ';') break;
      if (ch === ' ' || ch === '\t' || ch === '\r') {
        c++;
        continue;
      }
      if (ch === '(') {
        depth++;
        c++;
        continue;
      }
      if (ch === ')') {
        depth = Math.max(0, depth - 1);
        c++;
        continue;
      }
      const start = c;
      if (ch === '"') {
        c++;
        while (c < s.length && s[c] !== '"') c += s[c] === '\\' ? 2 : 1;
        c++;
      } else {
        while (c < s.length && !' \t\r;()"'.includes(s[c]!)) c += s[c] === '\\' ? 2 : 1;
      }
      toks.push({ line: i, start, end: Math.min(c, s.length), text: s.slice(start, Math.min(c, s.length)) });
    }
    if (depth === 0) break;
  }
  return { toks, last: Math.min(i, lines.length - 1) };
}

/** The owner as written relative to `origin` ('@' for the origin itself), or absolute when outside it. */
function ownerText(owner: Name, origin: Name): string {
  if (owner.equals(origin)) return '@';
  if (owner.isSubdomainOf(origin)) return owner.labels.slice(0, owner.labels.length - origin.labels.length).map(escapeLabel).join('.');
  return owner.toString();
}

/** A record as one zone-file line (explicit TTL and class, RDATA in presentation form with absolute names). */
export function recordLine(rr: RR, origin: Name, blankOwner = false): string {
  const owner = blankOwner ? '' : ownerText(rr.owner, origin);
  return `${owner}\t${rr.ttl}\tIN\t${typeMnemonic(rr.type)}\t${rdataToText(rr.type, rr.rdata)}`;
}

export interface FileEdit {
  /** The zone's main file name, as the parser reported it in `meta.pos.file`. */
  readonly file: string;
  /** Its text as read. */
  readonly text: string;
  readonly origin: Name;
  /** Every record parsed from the file(s), in file order (for positions of the records left in place). */
  readonly records: readonly RR[];
  readonly removed: readonly RR[];
  readonly added: readonly RR[];
  /** The SOA record as parsed and the serial to write into it (when it was not replaced by `added`). */
  readonly soa?: { readonly record: RR; readonly serial: number };
}

const blankLine = (s: string): boolean => /^\s*(;.*)?$/.test(s);

/** Where a record was written; throws ReadOnlyRecordError when not in the main file's own lines. */
function position(rr: RR, file: string, lines: readonly string[]): number {
  const pos = rr.meta.pos;
  const what = `${rr.owner.toString()} ${typeMnemonic(rr.type)}`;
  if (!pos) throw new ReadOnlyRecordError(`record ${what} has no position in ${file}`);
  if (pos.file !== file) throw new ReadOnlyRecordError(`${pos.file}:${pos.line}: record ${what} comes from an $INCLUDE file and is read-only`);
  const line = lines[pos.line - 1];
  if (line === undefined) throw new ReadOnlyRecordError(`${file}:${pos.line}: record ${what} is past the end of the file`);
  if (/^\s*\$GENERATE\b/i.test(line)) throw new ReadOnlyRecordError(`${file}:${pos.line}: record ${what} is made by $GENERATE and is read-only`);
  return pos.line - 1;
}

/**
 * The file's new text after the change. Each line of the old text survives unless its record was removed; a
 * removed record with an explicit owner hands that owner to a following line that relied on it (RFC 1035 §5.1:
 * a blank owner is the previous record's).
 */
export function editZoneText(e: FileEdit): string {
  const lines: (string | null)[] = e.text.split('\n');
  const endsWithNewline = e.text.endsWith('\n');
  if (endsWithNewline) lines.pop();
  const ro = lines as readonly (string | null)[];
  const txt = (i: number): string => ro[i] ?? '';
  const asStrings = lines.map((l) => l ?? '');
  // Pair removals with additions of the same owner and type: those are edited in place.
  const inPlace = new Map<number, RR>();
  const adds: RR[] = [];
  const removedAt: { line: number; rr: RR }[] = e.removed.map((rr) => ({ line: position(rr, e.file, asStrings), rr }));
  const free = [...removedAt];
  for (const a of e.added) {
    const j = free.findIndex((r) => r.rr.owner.key === a.owner.key && r.rr.type === a.type);
    if (j >= 0) {
      inPlace.set(free[j]!.line, a);
      free.splice(j, 1);
    } else adds.push(a);
  }
  const last = new Map<number, number>();
  for (const r of removedAt) last.set(r.line, recordTokens(asStrings, r.line).last);
  // In-place edits: the record's lines become one line (keeping a blank owner when it had one).
  const replaced = new Map<number, string>();
  for (const [line, rr] of inPlace) {
    // The record's comments (its text and cf_tags attributes) stay with it.
    const notes = comments(asStrings, line, last.get(line)!);
    replaced.set(line, recordLine(rr, originAt(asStrings, line, e.origin), /^\s/.test(txt(line))) + (notes ? ` ${notes}` : ''));
  }
  // SOA serial: the third field after the type (RFC 1035 §3.3.13: MNAME RNAME SERIAL ...), edited in its token.
  if (e.soa && !e.removed.includes(e.soa.record)) {
    const line = position(e.soa.record, e.file, asStrings);
    const { toks } = recordTokens(asStrings, line);
    const ti = toks.findIndex((t) => t.text.toUpperCase() === 'SOA');
    const st = ti >= 0 ? toks[ti + 3] : undefined;
    if (st === undefined || !/^\d+$/.test(st.text)) throw new Error(`${e.file}:${line + 1}: cannot find the SOA serial`);
    const s = txt(st.line);
    lines[st.line] = s.slice(0, st.start) + String(e.soa.serial) + s.slice(st.end);
  }
  // Removals, last first, so an owner handed on lands on the next surviving record line.
  for (const r of [...free].sort((a, b) => b.line - a.line)) {
    const from = r.line;
    const to = last.get(from)!;
    const head = txt(from);
    const explicitOwner = !/^\s/.test(head) ? recordTokens(asStrings, from).toks[0]?.text : undefined;
    for (let i = from; i <= to; i++) lines[i] = null;
    if (explicitOwner === undefined) continue;
    for (let i = to + 1; i < lines.length; i++) {
      const s = lines[i];
      if (s === null || s === undefined || blankLine(s)) continue;
      if (/^\s/.test(s)) lines[i] = explicitOwner + s;
      break;
    }
  }
  for (const [line, text] of replaced) {
    lines[line] = text;
    for (let i = line + 1; i <= last.get(line)!; i++) lines[i] = null;
  }
  // Additions: after the last surviving record line of the same owner in the main file, else at the end.
  const ownerEnd = new Map<string, number>();
  const gone = new Set(free.map((r) => r.rr));
  const wanted = new Set(adds.map((a) => a.owner.key));
  for (const r of e.records) {
    if (!wanted.has(r.owner.key) || r.meta.pos?.file !== e.file || gone.has(r)) continue;
    const l = r.meta.pos.line - 1;
    if (/^\s*\$GENERATE\b/i.test(txt(l))) continue;
    const end = recordTokens(asStrings, l).last;
    if ((ownerEnd.get(r.owner.key) ?? -1) < end) ownerEnd.set(r.owner.key, end);
  }
  const after = new Map<number, string[]>();
  const tail: string[] = [];
  for (const a of adds) {
    const at = ownerEnd.get(a.owner.key);
    if (at === undefined) tail.push(recordLine(a, originAt(asStrings, lines.length, e.origin)));
    else {
      const l = after.get(at) ?? [];
      l.push(recordLine(a, originAt(asStrings, at, e.origin)));
      after.set(at, l);
    }
  }
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (l !== null) out.push(l);
    const extra = after.get(i);
    if (extra) out.push(...extra);
  });
  out.push(...tail);
  return out.join('\n') + (endsWithNewline || out.length > 0 ? '\n' : '');
}

/** The `;` comments of lines first..last (outside quotes), joined. */
function comments(lines: readonly string[], first: number, last: number): string {
  const out: string[] = [];
  for (let i = first; i <= last; i++) {
    const s = lines[i] ?? '';
    let q = false;
    for (let c = 0; c < s.length; c++) {
      const ch = s[c];
      if (ch === '\\') c++;
      else if (ch === '"') q = !q;
      else if (ch === ';' && !q) {
        out.push(s.slice(c).trimEnd());
        break;
      }
    }
  }
  return out.join(' ');
}

/** The origin in effect at line `upto` of the main file ($ORIGIN directives before it, RFC 1035 §5.1). */
function originAt(lines: readonly string[], upto: number, zone: Name): Name {
  let o = zone;
  for (let i = 0; i < upto && i < lines.length; i++) {
    const m = /^\$ORIGIN\s+(\S+)/i.exec(lines[i]!);
    if (!m) continue;
    try {
      o = Name.parse(m[1]!, o);
    } catch {
      // The parser already accepted the file; an odd directive here just keeps the previous origin.
    }
  }
  return o;
}

/** True when the record type is the zone's SOA (helper for callers deciding whether to bump in place). */
export function isSoa(rr: RR): boolean {
  return rr.type === RRType.SOA;
}
