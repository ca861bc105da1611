// Words for the engine's notes, reasons and event texts. Figures (bytes, durations,
// rates) come from common/units.ts, the same definitions the console and the CLI use.
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
