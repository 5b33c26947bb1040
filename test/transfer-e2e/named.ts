// BIND 9 (named) as a hidden primary for end-to-end tests: a named.conf on a free loopback port with the test TSIG
// key, NOTIFY to an apexdns port, readiness wait, SIGHUP reload and stop (registered with the process helper).

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { capture, register, terminate, trackChild, unregister, type Stoppable } from '../helpers/procs.js';
import { SECRET } from './util.js';

export interface Named extends Stoppable {
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
  /** SIGHUP: re-read named.conf and changed zone files (NOTIFY follows for changed serials). */
  hup(): void;
}

export interface NamedOptions {
  /** `zone "…" { … };` clauses. */
  readonly zones: string;
  /** apexdns port on 127.0.0.1 that gets NOTIFY (signed with the test key). */
  readonly notifyPort?: number;
  /** Port to listen on (default: a free one), for a BIND secondary whose port the primary must know beforehand. */
  readonly port?: number;
}

/** Start named in the foreground (`-g`) in `dir`; resolves once it logs "running". */
export async function startNamed(bin: string, dir: string, o: NamedOptions): Promise<Named> {
  const port = o.port ?? (await freePort());
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify explicit;',
    '  notify-delay 0;',
    // Tiny test zones: BIND would otherwise answer IXFR with a full zone when the diff is large relative to it.
    '  max-ixfr-ratio unlimited;',
    ...(o.notifyPort !== undefined ? [`  also-notify { 127.0.0.1 port ${o.notifyPort} key "xfr-key"; };`] : []),
    '  allow-transfer { key "xfr-key"; };',
    // A BIND secondary takes NOTIFY from the apexdns primary on loopback.
    '  allow-notify { 127.0.0.1; };',
    '};',
    'controls { };',
    `key "xfr-key" { algorithm hmac-sha256; secret "${SECRET}"; };`,
    o.zones,
    '',
  ].join('\n'));
  const child = spawn(bin, ['-g', '-c', conf, '-n', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  const output = (): string => out() + err();
  const n: Named = {
    label: `named:${port}`,
    port,
    child,
    output,
    hup: () => void child.kill('SIGHUP'),
    async stop() {
      unregister(n);
      await terminate(child, 3000);
    },
  };
  register(n);
  const deadline = Date.now() + 10_000;
  while (!/running/.test(output())) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await n.stop();
      throw new Error(`named did not start:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return n;
}
