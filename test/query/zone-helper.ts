// Test helper: zone text → snapshot, failing loudly on diagnostics.

import { Name } from '../../src/wire/name.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildSnapshot, type ZoneSnapshot } from '../../src/zone/snapshot.js';
import { formatDiagnostic } from '../../src/zone/model.js';

export function zoneFromText(origin: string, text: string): ZoneSnapshot {
  const o = Name.parse(origin);
  const parsed = parseZoneText(text, 'test.zone', { origin: o, zonesDir: '/nonexistent' });
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map(formatDiagnostic).join('\n'));
  const built = buildSnapshot(o, parsed.records);
  if (!built.snapshot) throw new Error(built.diagnostics.map(formatDiagnostic).join('\n'));
  return built.snapshot;
}
