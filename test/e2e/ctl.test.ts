// End to end: `apexdns status | zone-status | reload | stats` against a running daemon with two workers, over the
// control socket under state-dir: exact counts summed over both workers, the zone's serial before and after a reload
// through the CLI, readable text and --json, and clear errors.

import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DAEMON_MAIN, daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { exampleZoneDir, perTest, udp, waitFor, logLines } from './env.js';

const built = daemonBuilt();
const run = promisify(execFile);

async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [DAEMON_MAIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

const sumOf = (samples: Record<string, number>, prefix: string): number =>
  Object.entries(samples).filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);

describe.skipIf('skip' in built)('apexdns status / stats / reload', () => {
  const t = perTest();

  it('workers: 2 — stats summed over workers, status per zone, reload through the CLI', async () => {
    t.z = exampleZoneDir();
    t.d = await startDaemon([{ name: 'example.com', file: t.z.zoneFile }], { workers: 2 });
    await waitFor('two workers', () => logLines(t.d!.output()).filter((l) => l.msg === 'worker ready' && typeof l.workerPid === 'number').length === 2, 20_000);
    const cfg = ['--config', t.d.configFile];
    expect(statSync(join(t.d.dir, 'var', 'control.sock')).mode & 0o777).toBe(0o600);
    const before = JSON.parse((await cli(['stats', ...cfg, '--json'])).stdout) as Record<string, number>;
    for (let i = 0; i < 30; i++) expect((await udp(t.d.port, { name: 'www.example.com', type: 'A' })).rcode).toBe(0);
    const stats = await cli(['stats', ...cfg, '--json']);
    expect(stats.code).toBe(0);
    const after = JSON.parse(stats.stdout) as Record<string, number>;
    const key = 'apexdns_queries_total{qtype="A",rcode="NOERROR",protocol="udp",ip_version="4"}';
    expect((after[key] ?? 0) - (before[key] ?? 0)).toBe(30);
    const text = await cli(['stats', ...cfg]);
    expect(text.stdout).toMatch(/^queries: +\d+ \(udp \d+, tcp 0; IPv4 \d+, IPv6 0\)$/m);
    expect(text.stdout).toMatch(/^rcodes: +NOERROR \d+/m);

    const status = await cli(['status', ...cfg, '--json']);
    expect(status.code).toBe(0);
    const st = JSON.parse(status.stdout) as { pid: number; workers: number; zones: { zone: string; serial: number; type: string; dnssec: string; lastLoadOk: boolean }[]; queriesPerSecond: number };
    expect(st.pid).toBe(t.d.pid);
    expect(st.workers).toBe(2);
    expect(st.zones).toEqual([expect.objectContaining({ zone: 'example.com.', type: 'primary', serial: 2024060101, dnssec: 'unsigned', lastLoadOk: true })]);
    expect(typeof st.queriesPerSecond).toBe('number');
    expect((await cli(['status', ...cfg])).stdout).toMatch(/^ {2}example\.com\. {2}primary {2}serial 2024060101 {2}records \d+ {2}dnssec unsigned {2}serving; last load \S+ ok$/m);

    // Edit the zone (new serial) and reload through the CLI: both workers report, and status shows the new serial.
    writeFileSync(t.z.zoneFile, readFileSync(t.z.zoneFile, 'utf8').replace('2024060101', '2024060102'));
    const reload = await cli(['reload', ...cfg]);
    expect(reload.code).toBe(0);
    expect(reload.stdout.trim().split('\n').sort()).toEqual([expect.stringMatching(/^worker \d+: 1 loaded, 0 unchanged, 0 failed$/), expect.stringMatching(/^worker \d+: 1 loaded, 0 unchanged, 0 failed$/)]);
    writeFileSync(t.z.zoneFile, readFileSync(t.z.zoneFile, 'utf8').replace('2024060102', '2024060103'));
    const one = await cli(['reload', 'example.com', ...cfg]);
    expect(one.stdout.trim().split('\n').map((l) => l.replace(/^worker \d+: /, ''))).toEqual(['example.com. loaded, serial 2024060103', 'example.com. loaded, serial 2024060103']);
    const zs = JSON.parse((await cli(['zone-status', 'example.com', ...cfg, '--json'])).stdout) as { zones: { serial: number }[] };
    expect(zs.zones.map((z) => z.serial)).toEqual([2024060103]);
    expect(sumOf(after, 'apexdns_queries_total')).toBeGreaterThanOrEqual(30);

    const unknown = await cli(['zone-status', 'nope.example', ...cfg]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('zone nope.example. is not configured');
    expect((await cli(['zone-status', ...cfg])).code).toBe(2);
  }, 90_000);

  it('a clear error when no daemon runs', async () => {
    t.z = exampleZoneDir();
    const r = await cli(['status', '--socket', `${t.z.dir}/control.sock`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^apexdns: cannot reach the daemon on .*control\.sock/);
  });
});
