// Reads the YAML config file, validates it, and pins every problem to the line:col of its YAML node.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { formatPath, type ConfigError, type Path } from './errors.js';
import { validateConfig, type ConfigIssue } from './schema.js';
import type { Config } from './types.js';

/** All or nothing: a config is returned only when the whole file is valid (it never half-applies). */
export type LoadResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: readonly ConfigError[] }
  | { readonly ok: false; readonly errors: readonly ConfigError[]; readonly warnings: readonly ConfigError[] };

/**
 * Load and validate the config file at `path`. Relative paths inside it (zone files, zones-dir, state-dir, key
 * directories, overlays) resolve against the directory containing the config file, not the working directory.
 */
export async function loadConfig(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return { ok: false, errors: [{ kind: 'io', severity: 'error', file: path, path: '', message: `cannot read config: ${reason}` }], warnings: [] };
  }
  return parseConfigText(text, path);
}

/** Parse and validate config text; `path` names the file in messages and anchors relative paths ("" = cwd). */
export function parseConfigText(text: string, path: string): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): { line?: number; col?: number } => {
    if (offset === undefined) return {};
    const lc = lineCounter.linePos(offset);
    // LineCounter reports line 0 before the first recorded newline; lines are 1-based in our output.
    return { line: Math.max(lc.line, 1), col: lc.col };
  };
  const syntax: ConfigError[] = doc.errors.map((e) => ({
    kind: 'syntax', severity: 'error', file: path, path: '', message: firstLine(e.message), ...at(e.pos[0]),
  }));
  const yamlWarnings: ConfigError[] = doc.warnings.map((e) => ({
    kind: 'syntax', severity: 'warning', file: path, path: '', message: firstLine(e.message), ...at(e.pos[0]),
  }));
  if (syntax.length > 0) return { ok: false, errors: sortErrors(syntax), warnings: yamlWarnings };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, errors: [{ kind: 'syntax', severity: 'error', file: path, path: '', message }], warnings: yamlWarnings };
  }
  const baseDir = path.length > 0 ? dirname(resolve(path)) : process.cwd();
  const result = validateConfig(value, { file: path.length > 0 ? resolve(path) : '', baseDir });
  const toError = (i: ConfigIssue): ConfigError => ({
    kind: i.kind, severity: i.severity, file: path, path: formatPath(i.path), message: i.message,
    ...at(locate(doc, i.path, i.at)),
  });
  const errors = sortErrors(result.issues.filter((i) => i.severity === 'error').map(toError));
  const warnings = sortErrors([...yamlWarnings, ...result.issues.filter((i) => i.severity === 'warning').map(toError)]);
  if (result.config === undefined || errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config: result.config, warnings };
}

/**
 * Source offset for a path: the deepest node that exists along it (a missing key points at its parent mapping).
 * With `at: 'key'` the last segment points at the mapping key rather than its value.
 */
function locate(doc: Document, path: Path, atWhat: 'key' | 'value'): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node) && typeof seg === 'string') {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === seg);
      if (!pair) break;
      const keyStart = rangeStart(pair.key);
      if (i === path.length - 1 && atWhat === 'key') return keyStart ?? offset;
      node = pair.value;
      const valStart = rangeStart(node);
      // `key:` with no value: point at the key.
      offset = valStart ?? keyStart ?? offset;
      if (valStart === undefined) break;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      const start = rangeStart(item);
      if (start === undefined) break;
      node = item;
      offset = start;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined;
  const r: unknown = node.range;
  return Array.isArray(r) && typeof r[0] === 'number' ? r[0] : undefined;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

/** Stable sort by source position; position-less entries keep their order at the end. */
function sortErrors(list: ConfigError[]): ConfigError[] {
  return list
    .map((e, i) => ({ e, i }))
    .sort((a, b) => {
      const la = a.e.line ?? Infinity;
      const lb = b.e.line ?? Infinity;
      if (la !== lb) return la - lb;
      const ca = a.e.col ?? Infinity;
      const cb = b.e.col ?? Infinity;
      if (ca !== cb) return ca - cb;
      return a.i - b.i;
    })
    .map((x) => x.e);
}
