// `apexdns check-config`: validate a config file and render the report lines a CLI prints (nsd-checkconf style).

import { formatConfigError } from './errors.js';
import { loadConfig, type LoadResult } from './load.js';

export interface CheckReport {
  readonly ok: boolean;
  /** Warnings and errors as `file:line:col: path: message`, then a one-line verdict. */
  readonly lines: readonly string[];
  readonly result: LoadResult;
}

/** Validate `path` without starting anything; exit status 0 when `ok`. */
export async function checkConfig(path: string): Promise<CheckReport> {
  const result = await loadConfig(path);
  const lines = result.warnings.map(formatConfigError);
  if (!result.ok) {
    lines.push(...result.errors.map(formatConfigError));
    const n = result.errors.length;
    lines.push(`${path}: ${n} error${n === 1 ? '' : 's'}, config not valid`);
    return { ok: false, lines, result };
  }
  const z = result.config.zones.length;
  const l = result.config.listen.length;
  lines.push(`${path}: OK (${z} zone${z === 1 ? '' : 's'}, ${l} listen address${l === 1 ? '' : 'es'})`);
  return { ok: true, lines, result };
}
