// Zone master-file lexer (RFC 1035 §5.1): splits text into logical records of tokens, folding parentheses,
// keeping quoted strings and escapes, and collecting the `;` comments that belong to each record.

import type { RdataToken } from '../wire/rdata-api.js';

/** One logical record: a line, or several lines joined by parentheses (RFC 1035 §5.1). */
export interface LexRecord {
  readonly tokens: readonly RdataToken[];
  /** The record's first line starts with a blank: the owner is inherited (RFC 1035 §5.1). */
  readonly blankOwner: boolean;
  /** Position just after the last token (for "missing field" errors). */
  readonly endLine: number;
  readonly endCol: number;
  /** Every `;` comment inside the record, in order. */
  readonly comments: readonly LexComment[];
}

/** A `;` comment: text after the semicolon (CR stripped) and the semicolon's position. */
export interface LexComment {
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

export type LexErrorSink = (line: number, col: number, message: string) => void;

export interface LexerOptions {
  /** Longest logical record in characters; longer records are reported and skipped. */
  readonly maxRecordChars?: number;
  /** Line number of the first character (for re-lexing text taken from a larger file). */
  readonly firstLine?: number;
}

/** Default cap on a logical record: far above any legal RDATA (65535 octets) written in hex with comments. */
export const DEFAULT_MAX_RECORD_CHARS = 1 << 20;

const SP = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const SEMI = 0x3b;
const LPAREN = 0x28;
const RPAREN = 0x29;
const QUOTE = 0x22;
const BSLASH = 0x5c;

/**
 * Pull-style lexer over one text. `next()` returns the next non-empty logical record or undefined at the end.
 * Errors are reported through the sink and lexing continues; it never throws.
 */
export class Lexer {
  private i = 0;
  private line: number;
  private lineStart = 0;
  private readonly maxChars: number;

  constructor(
    private readonly text: string,
    private readonly onError: LexErrorSink,
    opts: LexerOptions = {},
  ) {
    this.line = opts.firstLine ?? 1;
    this.maxChars = opts.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  }

  /** 1-based line of the next unread character. */
  get currentLine(): number {
    return this.line;
  }

  next(): LexRecord | undefined {
    const text = this.text;
    const n = text.length;
    while (this.i < n) {
      const rec = this.scanRecord(text, n);
      if (rec !== undefined) return rec;
    }
    return undefined;
  }

  /** Scan one logical record starting at the beginning of a line; undefined when it held no tokens. */
  private scanRecord(text: string, n: number): LexRecord | undefined {
    const startIndex = this.i;
    const first = text.charCodeAt(startIndex);
    const blankOwner = first === SP || first === TAB;
    const tokens: RdataToken[] = [];
    const comments: LexComment[] = [];
    // Open parentheses as a stack of positions, to report the outermost unclosed one.
    const parens: number[] = [];
    let tooLong = false;
    let endLine = this.line;
    let endCol = 1;
    let i = this.i;
    while (i < n) {
      if (!tooLong && i - startIndex > this.maxChars && (tokens.length > 0 || parens.length > 0)) {
        tooLong = true;
        this.onError(this.line, i - this.lineStart + 1, `record longer than ${this.maxChars} characters`);
      }
      const c = text.charCodeAt(i);
      if (c === SP || c === TAB || c === CR) {
        i++;
        continue;
      }
      if (c === LF) {
        i++;
        this.line++;
        this.lineStart = i;
        // RFC 1035 §5.1: inside parentheses a line break is ordinary whitespace.
        if (parens.length === 0) break;
        continue;
      }
      if (c === SEMI) {
        // RFC 1035 §5.1: a semicolon starts a comment running to the end of the line.
        let j = text.indexOf('\n', i + 1);
        if (j < 0) j = n;
        let end = j;
        if (end > i + 1 && text.charCodeAt(end - 1) === CR) end--;
        if (tokens.length > 0 && !tooLong) {
          comments.push({ text: text.slice(i + 1, end), line: this.line, col: i - this.lineStart + 1 });
        }
        i = j;
        continue;
      }
      const col = i - this.lineStart + 1;
      if (c === LPAREN) {
        parens.push(this.line, col);
        i++;
        continue;
      }
      if (c === RPAREN) {
        if (parens.length === 0) this.onError(this.line, col, 'unbalanced ")"');
        else parens.length -= 2;
        i++;
        continue;
      }
      const tokLine = this.line;
      if (c === QUOTE) {
        // RFC 1035 §5.1: a quoted string may contain blanks, `;` and parentheses; escapes are kept verbatim.
        let j = i + 1;
        let closed = false;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === QUOTE) {
            closed = true;
            break;
          }
          if (d === LF) break;
          if (d === BSLASH) {
            const e = text.charCodeAt(j + 1);
            if (j + 1 >= n || e === LF) break;
            j += 2;
            continue;
          }
          j++;
        }
        if (!closed) this.onError(tokLine, col, 'unterminated quoted string');
        if (!tooLong) tokens.push({ text: text.slice(i + 1, j), quoted: true, line: tokLine, col });
        i = closed ? j + 1 : j;
        // A dangling backslash before the line end: skip it so the newline ends the string.
        if (!closed && i < n && text.charCodeAt(i) === BSLASH) i++;
        endLine = tokLine;
        endCol = i - this.lineStart + 1;
        continue;
      }
      // Unquoted token: runs to a blank, line end, `;`, parenthesis or quote; `\X` / `\DDD` are kept as written.
      let j = i;
      let dangling = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === SP || d === TAB || d === CR || d === LF || d === SEMI || d === LPAREN || d === RPAREN || d === QUOTE)
          break;
        if (d === BSLASH) {
          const e = text.charCodeAt(j + 1);
          if (j + 1 >= n || e === LF || e === CR) {
            this.onError(tokLine, j - this.lineStart + 1, 'backslash at end of line');
            dangling = true;
            break;
          }
          j += 2;
          continue;
        }
        j++;
      }
      if (!tooLong && j > i) tokens.push({ text: text.slice(i, j), quoted: false, line: tokLine, col });
      i = dangling ? j + 1 : j; // skip a dangling backslash so it is reported once

      endLine = tokLine;
      endCol = i - this.lineStart + 1;
    }
    this.i = i;
    if (parens.length > 0 && i >= n) {
      this.onError(parens[0]!, parens[1]!, 'unbalanced "(": no matching ")" before the end of the file');
    }
    if (tooLong || tokens.length === 0) return undefined;
    return { tokens, blankOwner, endLine, endCol, comments };
  }
}

/** Lex a whole text into records (convenience for tests and small inputs). */
export function lexAll(text: string, onError: LexErrorSink, opts?: LexerOptions): LexRecord[] {
  const lx = new Lexer(text, onError, opts);
  const out: LexRecord[] = [];
  for (let r = lx.next(); r !== undefined; r = lx.next()) out.push(r);
  return out;
}
