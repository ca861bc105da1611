/*
 * ferry-dirty: the guest workload of Ferry's QEMU lab.
 *
 * Allocates a working set of W MiB, touches every page of it (so that none of it is a
 * zero page a migration could skip), then dirties it at R MiB/s: one byte written per
 * 4 KiB page, paced in 10 ms slices with clock_nanosleep(TIMER_ABSTIME) so that the rate
 * holds on average even when a slice runs late (as it does under TCG and while a
 * migration throttles the vCPU). Two orders of writing:
 *  - sweep (the default): the working set in order, round and round, so a pass of the
 *    migration finds min(W, R t) distinct pages dirty;
 *  - random: each write to a page drawn uniformly from the working set (xorshift64*), so
 *    the distinct pages dirty after t seconds approach W (1 - e^{-R t / W}), as the
 *    prediction model assumes.
 *
 * Usage: ferry-dirty <wss MiB> <rate MiB/s> [sweep|random]
 * Prints "ferry-dirty: ready wss=W rate=R" once the working set is touched, then a
 * heartbeat line every second ("ferry-dirty: alive n=N pages=P"), so that the serial
 * console shows where the guest runs: after a migration the heartbeats continue in the
 * destination's serial file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096UL
#define SLICE_NS 10000000L /* 10 ms */

static void add_ns(struct timespec *t, long ns) {
  t->tv_nsec += ns;
  while (t->tv_nsec >= 1000000000L) {
    t->tv_nsec -= 1000000000L;
    t->tv_sec++;
  }
}

static double parse(const char *s, const char *what) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || v < 0) {
    fprintf(stderr, "ferry-dirty: bad %s '%s' (want a number >= 0)\n", what, s);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: ferry-dirty <wss MiB> <rate MiB/s> [sweep|random]\n");
    return 2;
  }
  int random_order = 0;
  if (argc == 4) {
    if (strcmp(argv[3], "random") == 0) random_order = 1;
    else if (strcmp(argv[3], "sweep") != 0) {
      fprintf(stderr, "ferry-dirty: bad order '%s' (want sweep or random)\n", argv[3]);
      return 2;
    }
  }
  double wss = parse(argv[1], "working set");
  double rate = parse(argv[2], "dirty rate");
  size_t pages = (size_t)(wss * 1024 * 1024 / PAGE);
  unsigned char *mem = NULL;
  if (pages > 0) {
    mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      fprintf(stderr, "ferry-dirty: cannot allocate %.0f MiB: %s\n", wss, strerror(errno));
      return 1;
    }
    for (size_t i = 0; i < pages; i++) memset(mem + i * PAGE, (int)(i % 251) + 1, 64);
  }
  printf("ferry-dirty: ready wss=%g rate=%g pages=%zu order=%s\n", wss, rate, pages, random_order ? "random" : "sweep");
  fflush(stdout);

  /* Pages to write per slice, kept as a fraction so low rates stay exact on average. */
  double per_slice = rate * 1024 * 1024 / PAGE * (SLICE_NS / 1e9);
  double owed = 0;
  size_t cursor = 0;
  unsigned long long written = 0, n = 0;
  unsigned char stamp = 1;
  uint64_t rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)pages;
  struct timespec next, beat;
  clock_gettime(CLOCK_MONOTONIC, &next);
  beat = next;
  beat.tv_sec += 1;
  for (;;) {
    if (pages > 0 && per_slice > 0) {
      owed += per_slice;
      size_t k = (size_t)owed;
      owed -= (double)k;
      for (size_t i = 0; i < k; i++) {
        size_t page = cursor;
        if (random_order) {
          rng ^= rng >> 12;
          rng ^= rng << 25;
          rng ^= rng >> 27;
          page = (size_t)((rng * 0x2545F4914F6CDD1DULL) % pages);
        }
        mem[page * PAGE + (page * 64) % PAGE] = stamp;
        if (++cursor == pages) {
          cursor = 0;
          stamp = (unsigned char)(stamp % 254 + 1);
        }
      }
      written += k;
    }
    add_ns(&next, SLICE_NS);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Far behind (the guest was paused or throttled): do not try to catch up in a burst. */
    if (now.tv_sec > next.tv_sec + 1) next = now;
    if (now.tv_sec > beat.tv_sec || (now.tv_sec == beat.tv_sec && now.tv_nsec >= beat.tv_nsec)) {
      printf("ferry-dirty: alive n=%llu pages=%llu\n", ++n, written);
      fflush(stdout);
      beat = now;
      beat.tv_sec += 1;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
    }
  }
}
