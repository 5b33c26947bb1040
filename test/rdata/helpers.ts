// Test helpers for RDATA codec tests: build tokens from a zone-style string and hex-dump wire bytes.

import { Name } from '../../src/wire/name.js';
import type { RdataToken } from '../../src/wire/rdata-api.js';
import { lexAll } from '../../src/zone/lexer.js';

export const origin = Name.parse('example.com.');

export function toks(text: string): readonly RdataToken[] {
  const recs = lexAll(text, (line, col, msg) => {
    throw new Error(`lex error ${line}:${col}: ${msg}`);
  });
  return recs[0]?.tokens ?? [];
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
