// Locate external peer tools (dig, kdig, knotd, named, ...) for tests: skip visibly when missing, or fail in CI.

import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';

export type ToolResult = { readonly path: string } | { readonly skip: string };

const EXTRA_DIRS: readonly string[] = ['/usr/sbin', '/usr/bin', '/sbin', '/usr/local/sbin', '/usr/local/bin'];
const cache = new Map<string, string | null>();

function findOnPath(name: string): string | null {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0), ...EXTRA_DIRS];
  let found: string | null = null;
  for (const dir of dirs) {
    const p = join(dir, name);
    try {
      accessSync(p, fsConstants.X_OK);
      found = p;
      break;
    } catch {
      // not here; keep looking
    }
  }
  cache.set(name, found);
  return found;
}

/** The suite name for the SKIP line: the calling test file, taken from the stack. */
function suiteName(): string {
  const m = /([\w.-]+\.test\.ts)/.exec(new Error().stack ?? '');
  return m?.[1] ?? 'test suite';
}

/**
 * Find binary `name` on PATH (plus /usr/sbin, /usr/bin). When it is missing: throw if APEXDNS_REQUIRE_PEERS=1
 * (CI must not silently skip peer comparisons), otherwise warn visibly and return `{ skip }` for describe.skipIf.
 */
export function tool(name: string): ToolResult {
  const p = findOnPath(name);
  if (p !== null) return { path: p };
  if (process.env.APEXDNS_REQUIRE_PEERS === '1') {
    throw new Error(`required tool "${name}" is not installed (APEXDNS_REQUIRE_PEERS=1)`);
  }
  console.warn(`SKIP: ${suiteName()} needs ${name} (not installed)`);
  return { skip: `${name} not installed` };
}

/** Look up several tools: the first `{ skip }` if any is missing, else all paths keyed by name. */
export function requireTools<const N extends string>(
  ...names: readonly N[]
): { readonly paths: Readonly<Record<N, string>> } | { readonly skip: string } {
  const paths = {} as Record<N, string>;
  for (const n of names) {
    const r = tool(n);
    if ('skip' in r) return { skip: r.skip };
    paths[n] = r.path;
  }
  return { paths };
}

/** The path, or throw: for use inside a suite already guarded by describe.skipIf. */
export function toolPath(r: ToolResult): string {
  if ('path' in r) return r.path;
  throw new Error(r.skip);
}
