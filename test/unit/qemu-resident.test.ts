import { describe, expect, it } from 'vitest';
import { guestRamRssMiB } from '../../main/qemu/runner';

// A trimmed /proc/<pid>/smaps of a QEMU with 512 MiB of guest RAM (mapped 2 MiB larger, aligned).
const SMAPS = `55d0c0a00000-55d0c0c00000 r-xp 00000000 fe:00 1234                       /usr/bin/qemu-system-x86_64
Size:               2048 kB
Rss:                1800 kB
7f1000000000-7f1020200000 rw-p 00000000 00:00 0
Size:             526336 kB
KernelPageSize:        4 kB
Rss:              297000 kB
Anonymous:        297000 kB
7f2000000000-7f2040000000 rwxp 00000000 00:00 0
Size:            1048572 kB
Rss:               45000 kB
7f2100000000-7f2100800000 rw-p 00000000 00:00 0
Size:               8192 kB
Rss:                8192 kB
7f3000000000-7f3000100000 rw-p 00000000 00:00 0                          [heap]
Size:             600000 kB
Rss:              590000 kB
`;

describe("the resident size of a QEMU guest's RAM", () => {
  it("is the Rss of the smallest read-write anonymous mapping that holds the guest (not TCG's larger, executable code buffer)", () => {
    expect(guestRamRssMiB(SMAPS, 512)).toBeCloseTo(297000 / 1024, 5);
  });

  it('is unknown when no anonymous mapping is that large, and never above the guest size', () => {
    expect(guestRamRssMiB(SMAPS, 1024)).toBeNull();
    expect(guestRamRssMiB(SMAPS.replace('297000 kB\nAnonymous', '999999 kB\nAnonymous'), 512)).toBe(512);
  });
});
