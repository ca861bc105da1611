// "Migration difficulty" of a VM: its dirty rate against a typical 10 GbE link. At or
// above the link's payload rate (1192 MiB/s) pre-copy cannot converge on such a link.
export const LINK_10GBE_MIBPS = 1192;

export interface DifficultyBand {
  level: 0 | 1 | 2 | 3 | 4;
  /** Upper bound of dirty rate / link rate for this band. */
  below: number;
  label: string;
  words: string;
}

export const DIFFICULTY: DifficultyBand[] = [
  { level: 0, below: 0.05, label: 'Easy', words: 'under 5 % of a 10 GbE link' },
  { level: 1, below: 0.2, label: 'Moderate', words: '5–20 % of the link' },
  { level: 2, below: 0.5, label: 'Hard', words: '20–50 % of the link' },
  { level: 3, below: 1, label: 'Very hard', words: '50–100 % of the link: long pre-copy, post-copy likely' },
  { level: 4, below: Infinity, label: 'Exceeds link', words: 'dirties faster than 10 GbE sends: pre-copy cannot converge' },
];

export function difficultyOf(dirtyMiBps: number): DifficultyBand {
  const ratio = dirtyMiBps / LINK_10GBE_MIBPS;
  return DIFFICULTY.find((b) => ratio < b.below) ?? DIFFICULTY[4]!;
}
