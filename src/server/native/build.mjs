// Build step for the native addons: compiles udp.c (batched UDP) and shm.c (memory shared by the workers) into
// dist/server/native/*.node with the system C compiler. Optional: when there is no compiler or no Node headers it
// says so and apexdns uses node:dgram and per-worker tables, unless APEXDNS_REQUIRE_NATIVE=1 (container images)
// makes that a build failure.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const say = (text) => process.stderr.write(`apexdns build: ${text}\n`);

function headers() {
  const candidates = [process.env.APEXDNS_NODE_HEADERS, join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find((d) => d !== undefined && existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')));
}

function build(name) {
  const source = join(here, `${name}.c`);
  const out = resolve(here, `../../../dist/server/native/${name}.node`);
  if (process.platform !== 'linux') return `skipped on ${process.platform}`;
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return 'up to date';
  const inc = headers();
  if (inc === undefined) throw new Error("Node's C headers (node_api.h, uv.h) were not found; set APEXDNS_NODE_HEADERS");
  mkdirSync(dirname(out), { recursive: true });
  const cc = process.env.CC ?? 'cc';
  execFileSync(cc, ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-fvisibility=hidden', `-I${inc}`, '-o', out, source], { stdio: ['ignore', 'inherit', 'inherit'] });
  return `built ${out}`;
}

for (const [name, what, fallback] of [
  ['udp', 'batched UDP addon', 'UDP will use node:dgram'],
  ['shm', 'shared-memory addon', 'each worker keeps its own rate-limit table'],
]) {
  try {
    say(`${what}: ${build(name)}`);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    if (process.env.APEXDNS_REQUIRE_NATIVE === '1') {
      say(`${what} not built (${why}) and APEXDNS_REQUIRE_NATIVE=1`);
      process.exitCode = 1;
    } else say(`${what} not built (${why}); ${fallback}`);
  }
}
