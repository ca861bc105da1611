// The policy's bounds are one table: the request schema, the migrate dialog and the CLI's
// flags (parsePolicyField) accept and refuse the same values, and say which bound.
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, parsePolicyField, POLICY_BOUNDS, policyOverrides, type PolicyNumberField } from '../../preload/model';

const FIELDS = Object.keys(POLICY_BOUNDS) as PolicyNumberField[];

describe('policy bounds', () => {
  it('the schema and parsePolicyField agree at and around every bound', () => {
    for (const f of FIELDS) {
      const b = POLICY_BOUNDS[f];
      for (const v of [b.min - 1, b.min, b.min + 0.5, b.min + 1, b.max - 0.5, b.max, b.max + 1, NaN]) {
        const schemaOk = policyOverrides.safeParse({ [f]: v }).success;
        expect('value' in parsePolicyField(f, String(v)), `${f} = ${v}`).toBe(schemaOk);
      }
      expect(policyOverrides.safeParse({ [f]: b.max }).success).toBe(true);
      expect(policyOverrides.safeParse({ [f]: b.minExclusive ? b.min : b.min - 1 }).success).toBe(false);
    }
    expect(policyOverrides.safeParse(DEFAULT_POLICY).success).toBe(true);
  });

  it('parses what a person types, and says the bound when it is out', () => {
    expect(parsePolicyField('downtimeLimitMs', ' 250 ')).toEqual({ value: 250 });
    expect(parsePolicyField('bandwidthMiBps', '12.5')).toEqual({ value: 12.5 });
    expect(parsePolicyField('downtimeLimitMs', '0', '--downtime-limit')).toEqual({ error: '--downtime-limit must be a whole number of ms from 1 to 60000, not "0"' });
    expect(parsePolicyField('downtimeLimitMs', '2.5')).toEqual({ error: 'Downtime limit must be a whole number of ms from 1 to 60000, not "2.5"' });
    expect(parsePolicyField('bandwidthMiBps', '0')).toEqual({ error: 'Bandwidth cap must be a number of MiB/s above 0 and at most 1000000, not "0"' });
    expect(parsePolicyField('timeoutS', '', '--timeout')).toEqual({ error: '--timeout must be a number of s above 0 and at most 86400, not ""' });
    expect('error' in parsePolicyField('timeoutS', 'ten')).toBe(true);
  });
});
