// JSON nested without end (`[[[[...` ) must be refused before anything walks it: parsers,
// schemas and printers that recurse would otherwise end in "Maximum call stack size
// exceeded". This counts the nesting of raw JSON text in one loop, no recursion.
import { FerryError } from '../preload/contract';

/** Deeper than any document or request Ferry reads. */
export const MAX_JSON_DEPTH = 64;

/** True when arrays and objects in `text` nest deeper than `limit` (strings are skipped). */
export function jsonTooDeep(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Parses JSON text, refusing (bad-request) text nested deeper than `limit`: "`what` is nested ...". */
export function parseBoundedJson(text: string, what = 'the JSON', limit = MAX_JSON_DEPTH): unknown {
  if (jsonTooDeep(text, limit)) throw new FerryError('bad-request', `${what} is nested more than ${limit} levels deep`);
  return JSON.parse(text) as unknown;
}
