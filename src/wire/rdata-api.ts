// The contract between the zone-file parser and the RDATA codecs (src/wire/rdata/): tokens in, wire RDATA out.


/** One presentation-format token of an RDATA field, as split by the zone lexer. */
export interface RdataToken {
  /** Token text with quotes removed; escapes (\DDD, \X) are left in place for the codec to interpret. */
  readonly text: string;
  /** Was the token written in double quotes? (Matters for TXT/CAA/SVCB values.) */
  readonly quoted: boolean;
  /** 1-based line and column of the token's first character, for error positions. */
  readonly line: number;
  readonly col: number;
}

/** An RDATA error pinned to the token that caused it (index into the token list, or the end when absent). */
export class RdataError extends Error {
  override readonly name = 'RdataError';
  constructor(message: string, readonly tokenIndex: number) {
    super(message);
  }
}
