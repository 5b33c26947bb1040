// Tests for the zone-file lexer: tokens, quoting, escapes, parentheses, comments, blank owners, positions.
import { describe, expect, it } from 'vitest';
import { lexAll, type LexRecord } from '../../src/zone/lexer.js';

interface Err { line: number; col: number; message: string }
function lex(text: string, maxRecordChars?: number): { recs: LexRecord[]; errs: Err[] } {
  const errs: Err[] = [];
  const recs = lexAll(text, (line, col, message) => errs.push({ line, col, message }), maxRecordChars === undefined ? {} : { maxRecordChars });
  return { recs, errs };
}
const texts = (r: LexRecord): string[] => r.tokens.map((t) => t.text);

describe('lexer', () => {
  it('splits lines into tokens with 1-based positions', () => {
    const { recs, errs } = lex('a 300 IN A 1.2.3.4\n\n\tb\tA 5.6.7.8\n');
    expect(errs).toEqual([]);
    expect(recs.length).toBe(2);
    expect(recs[0]!.tokens).toEqual([
      { text: 'a', quoted: false, line: 1, col: 1 },
      { text: '300', quoted: false, line: 1, col: 3 },
      { text: 'IN', quoted: false, line: 1, col: 7 },
      { text: 'A', quoted: false, line: 1, col: 10 },
      { text: '1.2.3.4', quoted: false, line: 1, col: 12 },
    ]);
    expect(recs[0]!.blankOwner).toBe(false);
    expect(recs[0]!).toMatchObject({ endLine: 1, endCol: 19 });
    expect(recs[1]!.blankOwner).toBe(true);
    expect(recs[1]!.tokens[0]).toEqual({ text: 'b', quoted: false, line: 3, col: 2 });
  });

  it('handles CRLF line ends', () => {
    const { recs, errs } = lex('a A 1.1.1.1 ; c\r\nb A 2.2.2.2\r\n');
    expect(errs).toEqual([]);
    expect(recs.map(texts)).toEqual([['a', 'A', '1.1.1.1'], ['b', 'A', '2.2.2.2']]);
    expect(recs[0]!.comments).toEqual([{ text: ' c', line: 1, col: 13 }]);
  });

  it('joins parenthesised lines and keeps every comment of the record', () => {
    const src = '@ SOA ns host ( 1 ; serial\n  2 ; refresh\n; alone\n  3 4 5 ) ; end\nx A 1.1.1.1\n';
    const { recs, errs } = lex(src);
    expect(errs).toEqual([]);
    expect(recs.map(texts)).toEqual([['@', 'SOA', 'ns', 'host', '1', '2', '3', '4', '5'], ['x', 'A', '1.1.1.1']]);
    expect(recs[0]!.comments).toEqual([
      { text: ' serial', line: 1, col: 19 },
      { text: ' refresh', line: 2, col: 5 },
      { text: ' alone', line: 3, col: 1 },
      { text: ' end', line: 4, col: 11 },
    ]);
    expect(recs[0]!.tokens[8]).toEqual({ text: '5', quoted: false, line: 4, col: 7 });
    expect(recs[1]!.tokens[0]!.line).toBe(5);
  });

  it('ignores comments that do not belong to a record', () => {
    const { recs } = lex('; header\n   ; indented\na A 1.1.1.1\n');
    expect(recs.length).toBe(1);
    expect(recs[0]!.comments).toEqual([]);
    expect(recs[0]!.blankOwner).toBe(false);
  });

  it('allows nested and repeated parentheses', () => {
    const { recs, errs } = lex('a TXT (( "x" ) "y" ) ( "z" )\n');
    expect(errs).toEqual([]);
    expect(texts(recs[0]!)).toEqual(['a', 'TXT', 'x', 'y', 'z']);
  });

  it('reports an unbalanced ")" at the paren', () => {
    const { recs, errs } = lex('a A 1.1.1.1 )\n');
    expect(errs).toEqual([{ line: 1, col: 13, message: 'unbalanced ")"' }]);
    expect(texts(recs[0]!)).toEqual(['a', 'A', '1.1.1.1']);
  });

  it('reports an unclosed "(" at the paren', () => {
    const { errs } = lex('a 60 A\n b MX ( 10\n   mx\n');
    expect(errs).toEqual([{ line: 2, col: 7, message: 'unbalanced "(": no matching ")" before the end of the file' }]);
  });

  it('strips quotes, keeps escapes, and marks quoted tokens', () => {
    const { recs, errs } = lex('a TXT "a b;c(d)" "q\\"x\\059" plain\\ word \\# "" \n');
    expect(errs).toEqual([]);
    expect(recs[0]!.tokens.slice(2)).toEqual([
      { text: 'a b;c(d)', quoted: true, line: 1, col: 7 },
      { text: 'q\\"x\\059', quoted: true, line: 1, col: 18 },
      { text: 'plain\\ word', quoted: false, line: 1, col: 29 },
      { text: '\\#', quoted: false, line: 1, col: 41 },
      { text: '', quoted: true, line: 1, col: 44 },
    ]);
  });

  it('a quote ends an unquoted token and starts a quoted one (like BIND)', () => {
    const { recs, errs } = lex('a TXT "x"y a"b"\n');
    expect(errs).toEqual([]);
    expect(recs[0]!.tokens.slice(2).map((t) => [t.text, t.quoted])).toEqual([
      ['x', true], ['y', false], ['a', false], ['b', true],
    ]);
  });

  it('escaped delimiters stay inside the token', () => {
    const { recs } = lex('a\\;b\\(c\\) TXT x\n');
    expect(texts(recs[0]!)).toEqual(['a\\;b\\(c\\)', 'TXT', 'x']);
  });

  it('reports an unterminated quoted string at the quote and continues on the next line', () => {
    const { recs, errs } = lex('a TXT "abc\nb A 1.1.1.1\n');
    expect(errs).toEqual([{ line: 1, col: 7, message: 'unterminated quoted string' }]);
    expect(recs.map(texts)).toEqual([['a', 'TXT', 'abc'], ['b', 'A', '1.1.1.1']]);
  });

  it('reports a backslash at the end of a line once', () => {
    const { recs, errs } = lex('ab\\\nc A 1.1.1.1\n');
    expect(errs).toEqual([{ line: 1, col: 3, message: 'backslash at end of line' }]);
    expect(recs.map(texts)).toEqual([['ab'], ['c', 'A', '1.1.1.1']]);
    expect(lex('x TXT "ab\\\n').errs).toEqual([{ line: 1, col: 7, message: 'unterminated quoted string' }]);
    expect(lex('\\').errs).toEqual([{ line: 1, col: 1, message: 'backslash at end of line' }]);
  });

  it('handles text without a final newline', () => {
    const { recs, errs } = lex('a A 1.1.1.1');
    expect(errs).toEqual([]);
    expect(recs.map(texts)).toEqual([['a', 'A', '1.1.1.1']]);
    expect(recs[0]!).toMatchObject({ endLine: 1, endCol: 12 });
  });

  it('caps the logical record length', () => {
    const { recs, errs } = lex(`a TXT ( ${'x '.repeat(100)} )\nb A 1.1.1.1\n`, 50);
    expect(errs).toEqual([{ line: 1, col: 52, message: 'record longer than 50 characters' }]);
    expect(recs.map(texts)).toEqual([['b', 'A', '1.1.1.1']]);
  });

  it('a long comment-only line is not a long record', () => {
    const { recs, errs } = lex(`; ${'x'.repeat(200)}\nb A 1.1.1.1\n`, 50);
    expect(errs).toEqual([]);
    expect(recs.map(texts)).toEqual([['b', 'A', '1.1.1.1']]);
  });

  it('end position follows the last token, across lines', () => {
    const { recs } = lex('a MX (\n  10\n )\n');
    expect(recs[0]!).toMatchObject({ endLine: 2, endCol: 5 });
  });
});
