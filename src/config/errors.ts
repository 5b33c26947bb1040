// Config diagnostics: the ConfigError value, its `file:line:col: path: message` rendering, and "did you mean".

export type ConfigErrorKind = 'io' | 'syntax' | 'schema' | 'reference' | 'semantic';

/** One problem in a config file. `path` is a YAML path like `zones[1].dnssec.state` ("" for the whole file). */
export interface ConfigError {
  readonly kind: ConfigErrorKind;
  readonly severity: 'error' | 'warning';
  readonly file: string;
  readonly path: string;
  readonly message: string;
  /** 1-based source position of the offending YAML node, when known. */
  readonly line?: number;
  readonly col?: number;
}

/** `file:line:col: path: message` (position and path parts are left out when unknown/empty). */
export function formatConfigError(e: ConfigError): string {
  let out = e.file.length > 0 ? e.file : '<config>';
  if (e.line !== undefined && e.col !== undefined) out += `:${e.line}:${e.col}`;
  out += ': ';
  if (e.severity === 'warning') out += 'warning: ';
  if (e.path.length > 0) out += `${e.path}: `;
  return out + e.message;
}

export type PathSeg = string | number;
export type Path = readonly PathSeg[];

/** `zones[1].dnssec.state` */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out.length === 0 ? seg : `.${seg}`;
  }
  return out;
}

/** The closest candidate to `word` when it is plausibly a typo of it; undefined otherwise. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');
  const w = norm(word);
  // Same key in another spelling convention (camelCase, snake_case): an exact match once normalized.
  for (const c of candidates) if (norm(c) === w) return c;
  // A truncated or extended name ("backup" for "backup-ns").
  if (w.length >= 3) {
    for (const c of candidates) {
      const n = norm(c);
      if (n.length >= 3 && (n.startsWith(w) || w.startsWith(n))) return c;
    }
  }
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(word.length, 3) / 3));
  return bestDist <= limit ? best : undefined;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transposition). */
function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}
