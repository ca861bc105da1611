import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { guestRamMapping, presentBytes } from '../../main/qemu/runner';

// A trimmed /proc/<pid>/maps of a QEMU with 512 MiB of guest RAM (mapped 2 MiB larger, aligned).
const MAPS = `55d0c0a00000-55d0c0c00000 r-xp 00000000 fe:00 1234                       /usr/bin/qemu-system-x86_64
7f1000000000-7f1020200000 rw-p 00000000 00:00 0
7f2000000000-7f2040000000 rwxp 00000000 00:00 0
7f2100000000-7f2100800000 rw-p 00000000 00:00 0
7f3000000000-7f3040000000 rw-p 00000000 00:00 0                          [heap]
7f4000000000-7f4080000000 rw-p 00000000 00:00 0
`;

describe("where a QEMU maps its guest's RAM", () => {
  it('is the smallest read-write anonymous mapping that holds the guest (not TCG\'s executable code buffer, not the heap, not a larger one)', () => {
    expect(guestRamMapping(MAPS, 512)).toEqual([0x7f1000000000, 0x7f1020200000]);
  });

  it('is unknown when no anonymous mapping is that large', () => {
    expect(guestRamMapping(MAPS, 4096)).toBeNull();
  });
});

describe('memory a process has mapped, from its pagemap', () => {
  it("counts this process's own stack as mapped and never more than the range asked", () => {
    // The main thread's stack is mapped where it has been used (its top), and only its top.
    const stack = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => l.endsWith('[stack]'))!;
    const [a, b] = stack.split(' ')[0]!.split('-').map((x) => Number.parseInt(x, 16)) as [number, number];
    const present = presentBytes(process.pid, [a, b]);
    expect(present).toBeGreaterThan(0);
    expect(present).toBeLessThanOrEqual(b - a);
    expect(present % 4096).toBe(0);
  });
});
