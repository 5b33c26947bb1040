// Cloudflare record attributes carried in a record's trailing zone-file comment: `<comment> cf_tags=<tags>`
// (seed "Import and export records" → "DNS record attributes", "Reserved cf- tags").

import type { RecordTag } from './model.js';

export interface ParsedRecordComment {
  /** Comment with the `cf_tags=` part removed and trimmed; undefined when empty. */
  readonly comment?: string;
  /** Plain tags in order (everything except the cf-proxied / cf-flatten-cname control tags). */
  readonly tags: RecordTag[];
  /** `cf-proxied:true`; `cf-proxied:false` (or absence) is not proxied. */
  readonly proxied: boolean;
  /** True when the comment held `cf-proxied:false` or `cf-proxied:true` explicitly. */
  readonly proxiedExplicit: boolean;
  /** `cf-flatten-cname` */
  readonly flatten: boolean;
  readonly errors: string[];
}

const MARKER = 'cf_tags=';

interface TagList {
  readonly tags: RecordTag[];
  readonly error?: string;
}

// Seed "Record attributes" → Tags: names hold only letters, digits, `-` and `_`.
function isNameChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f;
}

/**
 * Parse a tag list `tag1,tag2:value,tag3:"json, string"`. Seed: values containing `"`, `=`, `,` or `\` must be
 * quoted, and quoted values are JSON strings; `tag:""`, `tag:` and `tag` all mean an empty value.
 */
function parseTagList(s: string): TagList {
  const tags: RecordTag[] = [];
  const n = s.length;
  let i = 0;
  // Trailing blanks belong to the line, not to the last value.
  let end = n;
  while (end > 0 && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  if (end === 0) return { tags };
  for (;;) {
    while (i < end && (s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09)) i++;
    const nameStart = i;
    while (i < end && isNameChar(s.charCodeAt(i))) i++;
    const name = s.slice(nameStart, i);
    if (name.length === 0) return { tags, error: `bad tag name at "${s.slice(nameStart, nameStart + 20)}"` };
    while (i < end && (s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09)) i++;
    let value: string | undefined;
    if (i < end && s.charCodeAt(i) === 0x3a /* : */) {
      i++;
      if (i < end && s.charCodeAt(i) === 0x22 /* " */) {
        // Quoted value: a JSON string literal.
        let j = i + 1;
        while (j < end && s.charCodeAt(j) !== 0x22) j += s.charCodeAt(j) === 0x5c ? 2 : 1;
        if (j >= end) return { tags, error: `unterminated quoted value of tag "${name}"` };
        let v: unknown;
        try {
          v = JSON.parse(s.slice(i, j + 1));
        } catch {
          return { tags, error: `bad quoted value of tag "${name}" (must be a JSON string)` };
        }
        if (typeof v !== 'string') return { tags, error: `bad quoted value of tag "${name}"` };
        value = v;
        i = j + 1;
        while (i < end && (s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09)) i++;
        if (i < end && s.charCodeAt(i) !== 0x2c) return { tags, error: `unexpected text after the quoted value of tag "${name}"` };
      } else {
        const vStart = i;
        while (i < end && s.charCodeAt(i) !== 0x2c) {
          const c = s.charCodeAt(i);
          if (c === 0x22 || c === 0x3d || c === 0x5c)
            return { tags, error: `value of tag "${name}" contains ${JSON.stringify(s[i])} and must be quoted` };
          i++;
        }
        value = s.slice(vStart, i).trim();
      }
      if (value.length === 0) value = undefined;
    } else if (i < end && s.charCodeAt(i) !== 0x2c) {
      return { tags, error: `unexpected ${JSON.stringify(s[i])} after tag name "${name}"` };
    }
    tags.push(value === undefined ? { name } : { name, value });
    if (i >= end) return { tags };
    i++; // the comma
  }
}

/**
 * Split a record comment into free text and `cf_tags=` attributes. The tag list starts at the first `cf_tags=`
 * whose remainder is a valid tag list, so a comment that itself contains `cf_tags=` is written with an extra
 * trailing `cf_tags=` (seed: "Only a comment"). Reserved tags: `cf-proxied:true|false`, `cf-flatten-cname`.
 */
export function parseRecordComment(text: string): ParsedRecordComment {
  const errors: string[] = [];
  let at = text.indexOf(MARKER);
  let list: TagList | undefined;
  let firstError: string | undefined;
  while (at >= 0) {
    const candidate = parseTagList(text.slice(at + MARKER.length));
    if (candidate.error === undefined) {
      list = candidate;
      break;
    }
    firstError ??= candidate.error;
    at = text.indexOf(MARKER, at + 1);
  }
  if (list === undefined && firstError !== undefined) errors.push(`bad cf_tags: ${firstError}`);
  // Seed: "Note the added space character before cf_tags=" — trimming removes it.
  const commentText = (list === undefined ? text : text.slice(0, at)).trim();
  const tags: RecordTag[] = [];
  let proxied = false;
  let proxiedExplicit = false;
  let flatten = false;
  for (const t of list?.tags ?? []) {
    const lname = t.name.toLowerCase();
    if (lname === 'cf-proxied') {
      // Seed "cf-proxied": export writes true/false; the tag's value decides the proxy status.
      const v = t.value?.toLowerCase();
      if (v === 'true') proxied = true;
      else if (v === 'false') proxied = false;
      else {
        errors.push(`cf-proxied needs the value true or false, not ${JSON.stringify(t.value ?? '')}`);
        continue;
      }
      proxiedExplicit = true;
    } else if (lname === 'cf-flatten-cname') {
      // Seed "cf-flatten-cname": the bare tag marks a per-record flattened CNAME.
      const v = t.value?.toLowerCase();
      if (v === undefined || v === 'true') flatten = true;
      else if (v !== 'false') errors.push(`cf-flatten-cname takes no value, not ${JSON.stringify(t.value)}`);
    } else {
      tags.push(t);
    }
  }
  const base = { tags, proxied, proxiedExplicit, flatten, errors };
  return commentText.length > 0 ? { comment: commentText, ...base } : base;
}
