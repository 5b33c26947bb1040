// `apexdns zone notify|retransfer|refresh ZONE`: ask the running daemon (via its control socket) to send NOTIFY,
// force a full transfer, or check the primaries' SOA now.

import { resolve as resolvePath } from 'node:path';
import { formatConfigError, loadConfig } from '../config/index.js';
import { CONTROL_COMMANDS, controlSocketPath, sendControl, type ZoneCommand } from '../transfer/control.js';

export const ZONE_USAGE = `usage: apexdns zone notify|retransfer|refresh ZONE (--config FILE | --socket PATH)
  notify      send NOTIFY for ZONE to its notify peers now
  retransfer  secondary ZONE: full AXFR from the primaries now
  refresh     secondary ZONE: SOA check now (IXFR/AXFR when newer)
`;

export async function zoneCommand(args: readonly string[]): Promise<number> {
  const rest = [...args];
  let socket: string | undefined;
  let configFile: string | undefined;
  for (const flag of ['--socket', '--config'] as const) {
    const i = rest.indexOf(flag);
    if (i < 0) continue;
    const v = rest[i + 1];
    if (!v) {
      process.stderr.write(ZONE_USAGE);
      return 2;
    }
    if (flag === '--socket') socket = v;
    else configFile = v;
    rest.splice(i, 2);
  }
  const [cmd, zone, ...extra] = rest;
  if (!cmd || !zone || extra.length > 0 || !CONTROL_COMMANDS.includes(cmd as ZoneCommand) || (!socket && !configFile)) {
    process.stderr.write(ZONE_USAGE);
    return 2;
  }
  if (!socket) {
    const res = await loadConfig(resolvePath(configFile!));
    if (!res.ok) {
      for (const e of res.errors) process.stderr.write(formatConfigError(e) + '\n');
      return 1;
    }
    socket = controlSocketPath(res.config.stateDir);
  }
  try {
    const r = await sendControl(socket, { cmd: cmd as ZoneCommand, zone });
    (r.ok ? process.stdout : process.stderr).write(`${r.message}\n`);
    return r.ok ? 0 : 1;
  } catch (e) {
    process.stderr.write(`apexdns: ${(e as Error).message}\n`);
    return 1;
  }
}
