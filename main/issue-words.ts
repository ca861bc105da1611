// A refused request in words a person can act on: the field, and what it must be, instead
// of the validator's own phrasing and the internal channel name.
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

const unit = (origin: unknown) => (origin === 'string' ? ' characters' : origin === 'array' || origin === 'set' ? ' items' : '');

export function issueText(i: Issue): string {
  const field = i.path.length ? i.path.map(String).join('.') : 'the request';
  switch (i.code) {
    case 'too_big':
      return `${field} must be at most ${String(i.maximum)}${unit(i.origin)}`;
    case 'too_small':
      return i.origin === 'array' && Number(i.minimum) === 1 ? `${field} must list at least one` : `${field} must be at least ${String(i.minimum)}${unit(i.origin)}`;
    case 'invalid_value':
      return `${field} must be ${i.values.length === 1 ? JSON.stringify(i.values[0]) : `one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`}`;
    case 'unrecognized_keys':
      return `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}${i.path.length ? ` in ${field}` : ''}`;
    case 'invalid_type':
      return `${field} must be ${/^[aeiou]/.test(i.expected) ? 'an' : 'a'} ${i.expected}`;
    case 'invalid_format':
      return i.format === 'datetime' ? `${field} must be an ISO time with its offset, such as 2026-12-05T02:00:00Z` : `${field} must be a valid ${i.format}`;
    default:
      return `${field}: ${i.message}`;
  }
}
