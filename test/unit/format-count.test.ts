// The console's counts ("2,500 hosts · 40,000 VMs") read as toLocaleString('en-US') writes them.
import { describe, expect, it } from 'vitest';
import { formatCount } from '../../renderer/src/format';

describe('formatCount', () => {
  it('groups whole numbers by thousands as en-US does, and passes anything else to it', () => {
    for (const n of [0, 1, 12, 123, 1234, 12_345, 123_456, 1_234_567, 40_000, -1, -999, -1000, -1_234_567, Number.MAX_SAFE_INTEGER, 1.5, 2 ** 60, NaN, Infinity]) {
      expect(formatCount(n), String(n)).toBe(n.toLocaleString('en-US'));
    }
    expect(formatCount(null)).toBe('—');
    expect(formatCount(undefined)).toBe('—');
  });
});
