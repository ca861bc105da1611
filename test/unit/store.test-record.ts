// A complete migration record for store tests; fields overridable.
import { DEFAULT_POLICY, type MigrationRecord } from '../../preload/model';

export function record(id: string, over: Partial<MigrationRecord> = {}): MigrationRecord {
  return {
    id, vm: 'web-001', vmId: 'web-001', from: 'ams-h01', to: 'ams-h02', fromId: 'ams-h01', toId: 'ams-h02',
    cluster: 'ams', driver: 'sim', startedBy: 'tester', requestedStrategy: 'auto', strategy: 'precopy',
    reason: 'converges', policy: DEFAULT_POLICY, predicted: { converges: true, downtimeMs: 40, totalMs: 3000, bytes: 1e9, rounds: 3 },
    outcome: 'completed', phase: 'done', downtimeMs: 42, totalMs: 3100, bytes: 1.1e9, rounds: 4, postcopyFaults: null,
    queuedAt: '2026-11-20T10:00:00.000Z', startedAt: '2026-11-20T10:00:00.100Z', endedAt: '2026-11-20T10:00:03.200Z',
    events: [{ t: 0, text: 'queued' }],
    ...over,
  };
}

