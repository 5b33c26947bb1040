// Domain names as values: raw labels (bytes as latin1 strings), a case-folded lookup key, presentation
// parsing/printing with RFC 1035 §5.1 escapes, and canonical ordering (RFC 4034 §6.1).

/** Thrown for names that are syntactically invalid; callers turn it into a positioned error. */
export class NameError extends Error {
  override readonly name = 'NameError';
}

/**
 * An absolute domain name. `labels` keep the original case, one latin1 char per octet, leftmost first; the root
 * has no labels. `key` is the lowercased (ASCII only, RFC 4343 §3) uncompressed wire form as a latin1 string:
 * unique per name, usable as a Map key, and its suffixes are the keys of the ancestors.
 */
export class Name {
  readonly labels: readonly string[];
  readonly key: string;
  private text: string | undefined;

  constructor(labels: readonly string[]) {
    let wireLen = 1;
    for (const l of labels) {
      if (l.length === 0 || l.length > 63) throw new NameError(`label length ${l.length} outside 1..63`);
      wireLen += l.length + 1;
    }
    // RFC 1035 §2.3.4: names are at most 255 octets in wire form.
    if (wireLen > 255) throw new NameError(`name is ${wireLen} octets in wire form, more than 255`);
    this.labels = labels;
    // join() yields one flat string (repeated += would leave a chain of V8 cons strings, 32 bytes a piece).
    const parts: string[] = [];
    for (const l of labels) parts.push(String.fromCharCode(l.length), asciiLower(l));
    parts.push('\0');
    this.key = parts.join('');
  }

  static readonly root = new Name([]);

  get isRoot(): boolean {
    return this.labels.length === 0;
  }

  /** Octets in uncompressed wire form. */
  get wireLength(): number {
    return this.key.length;
  }

  /** `*` as the first label (RFC 4592 §2.1.1). */
  get isWildcard(): boolean {
    return this.labels[0] === '*';
  }

  /** Drop the `n` leftmost labels. */
  parent(n = 1): Name {
    return new Name(this.labels.slice(n));
  }

  /** Prepend labels (raw). */
  child(...labels: string[]): Name {
    return new Name([...labels, ...this.labels]);
  }

  /** True when `this` equals `other` or lies below it. */
  isSubdomainOf(other: Name): boolean {
    const n = other.labels.length;
    const m = this.labels.length;
    if (n > m) return false;
    return this.key.length >= other.key.length && this.key.endsWith(other.key) && labelAlignedSuffix(this.key, other.key);
  }

  equals(other: Name): boolean {
    return this.key === other.key;
  }

  /** Replace the suffix `from` by `to` (DNAME substitution, RFC 6672 §2.2). Throws NameError when too long. */
  replaceSuffix(from: Name, to: Name): Name {
    return new Name([...this.labels.slice(0, this.labels.length - from.labels.length), ...to.labels]);
  }

  /** Presentation form, absolute with trailing dot, RFC 1035 §5.1 escapes. */
  toString(): string {
    if (this.text === undefined) this.text = this.labels.length === 0 ? '.' : this.labels.map(escapeLabel).join('.') + '.';
    return this.text;
  }

  /** Uncompressed wire form in original case. */
  toWire(): Uint8Array {
    const out = new Uint8Array(this.key.length);
    let p = 0;
    for (const l of this.labels) {
      out[p++] = l.length;
      for (let i = 0; i < l.length; i++) out[p++] = l.charCodeAt(i);
    }
    out[p] = 0;
    return out;
  }

  /** Lowercase copy (RFC 4034 §6.2 canonical form of owner names). */
  toLowerCase(): Name {
    return new Name(this.labels.map(asciiLower));
  }

  /** Parse presentation text. Relative names (no trailing dot) are completed with `origin`; `@` is the origin. */
  static parse(text: string, origin?: Name): Name {
    if (text === '@') {
      if (!origin) throw new NameError('"@" used without an origin');
      return origin;
    }
    if (text === '.') return Name.root;
    if (text.length === 0) throw new NameError('empty name');
    const labels: string[] = [];
    // A label without escapes is one slice of the text (a flat string); escaped labels are built piece by piece.
    let start = 0;
    let cur: string | undefined;
    let absolute = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\\') {
        cur ??= text.slice(start, i);
        const next = text[i + 1];
        if (next === undefined) throw new NameError('dangling "\\" at end of name');
        if (isDigit(next)) {
          const d = text.slice(i + 1, i + 4);
          if (!/^\d{3}$/.test(d)) throw new NameError(`bad escape "\\${d}": \\DDD needs three digits`);
          const v = Number(d);
          if (v > 255) throw new NameError(`bad escape "\\${d}": value above 255`);
          cur += String.fromCharCode(v);
          i += 3;
        } else {
          // RFC 1035 §5.1: \X stands for the octet X; a character that is not an octet cannot be one.
          if (next.charCodeAt(0) > 0xff) throw new NameError(`non-ASCII character after "\\" in "${text}" (use \\DDD)`);
          cur += next;
          i += 1;
        }
      } else if (c === '.') {
        const label = cur === undefined ? text.slice(start, i) : flatten(cur);
        if (label.length === 0) throw new NameError(`empty label in "${text}"`);
        labels.push(label);
        cur = undefined;
        start = i + 1;
        if (i === text.length - 1) absolute = true;
      } else {
        const code = c.charCodeAt(0);
        if (code > 0xff) throw new NameError(`non-ASCII character in "${text}" (use punycode or \\DDD)`);
        if (cur !== undefined) cur += c;
      }
    }
    const last = cur === undefined ? text.slice(start) : flatten(cur);
    if (last.length > 0) labels.push(last);
    if (absolute) return new Name(labels.slice());
    if (!origin) throw new NameError(`relative name "${text}" without an origin`);
    return new Name(labels.concat(origin.labels));
  }

  /** Build from an uncompressed wire-form key or wire buffer slice (no pointers). */
  static fromWire(buf: Uint8Array, offset = 0): Name {
    const labels: string[] = [];
    let p = offset;
    for (;;) {
      const len = buf[p];
      if (len === undefined) throw new NameError('name runs past the end of the buffer');
      if (len === 0) break;
      if (len > 63) throw new NameError('compression pointer or bad label type in uncompressed name');
      if (p + 1 + len > buf.length) throw new NameError('label runs past the end of the buffer');
      labels.push(latin1(buf, p + 1, len));
      p += 1 + len;
    }
    return new Name(labels);
  }
}

/** A flat copy of a string built by concatenation (V8 cons strings cost a node per piece). */
function flatten(s: string): string {
  return s.length <= 1 ? s : Buffer.from(s, 'latin1').toString('latin1');
}

/** Bytes → latin1 string without allocating a Buffer. */
export function latin1(buf: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(buf[start + i]!);
  return s;
}

/** ASCII-only lowercase (RFC 4343 §3: only A-Z fold). */
/** One name octet folded for comparison: ASCII A-Z to a-z, every other octet as it is (RFC 4343 §3). */
export function foldOctet(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

export function asciiLower(s: string): string {
  let needs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      needs = true;
      break;
    }
  }
  if (!needs) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return out;
}

/** True when `suffix` is a key that starts at a label boundary of `key` (both lowercased wire keys). */
function labelAlignedSuffix(key: string, suffix: string): boolean {
  const target = key.length - suffix.length;
  let p = 0;
  while (p < target) p += key.charCodeAt(p) + 1;
  return p === target;
}

/** Strip the leftmost label from a wire key; undefined at the root. */
export function parentKey(key: string): string | undefined {
  if (key.length <= 1) return undefined;
  return key.slice(key.charCodeAt(0) + 1);
}

/** Number of labels in a wire key. */
export function keyLabelCount(key: string): number {
  let n = 0;
  let p = 0;
  while (key.charCodeAt(p) !== 0) {
    p += key.charCodeAt(p) + 1;
    n++;
  }
  return n;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** RFC 1035 §5.1 presentation escaping of one label (as BIND/Knot print it). */
export function escapeLabel(label: string): string {
  let out = '';
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    const ch = label[i]!;
    if (ch === '.' || ch === '\\' || ch === '"' || ch === ';' || ch === '(' || ch === ')' || ch === '@' || ch === '$') {
      out += '\\' + ch;
    } else if (c <= 0x20 || c >= 0x7f) {
      out += '\\' + String(c).padStart(3, '0');
    } else {
      out += ch;
    }
  }
  return out;
}
