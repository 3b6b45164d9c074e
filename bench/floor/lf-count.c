/* What a native program can do over the same file, for the split goal:
 *   lf-count mmap-touch FILE   map 4 MiB windows and read one byte a page (the mapping's own cost)
 *   lf-count mmap-count FILE   map 4 MiB windows and count LFs with vectors
 *   lf-count pread-count FILE  pread 4 MiB pieces and count LFs with vectors
 * Prints the count (LFs, or the sum of the bytes touched). Built by
 * bench/scenarios/floor.js with `cc -O2 -march=native`: 32-byte vectors
 * where the CPU has them, as GNU wc -l uses. Not part of logwire. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define WINDOW (4u << 20)

typedef uint8_t bytes32 __attribute__((vector_size(32), aligned(1)));

static uint64_t count_lf(const uint8_t *p, size_t n) {
  bytes32 lf;
  memset(&lf, 10, sizeof lf);
  uint64_t total = 0;
  size_t i = 0;
  while (i + 32 <= n) {
    /* Byte counters: each compare adds 0 or 1 (-(-1)); flushed before they can wrap. */
    bytes32 acc = {0};
    size_t stop = i + 255 * 32 < n ? i + 255 * 32 : n;
    for (; i + 32 <= stop; i += 32) acc -= (bytes32)(*(const bytes32 *)(p + i) == lf);
    for (int k = 0; k < 32; k++) total += acc[k];
  }
  for (; i < n; i++) total += p[i] == 10;
  return total;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: lf-count mmap-touch|mmap-count|pread-count FILE\n");
    return 2;
  }
  const char *mode = argv[1];
  int fd = open(argv[2], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    perror(argv[2]);
    return 1;
  }
  long page = sysconf(_SC_PAGESIZE);
  uint8_t *buf = NULL;
  if (strcmp(mode, "pread-count") == 0 && !(buf = malloc(WINDOW))) return 1;
  uint64_t result = 0;
  for (off_t off = 0; off < st.st_size; off += WINDOW) {
    size_t len = st.st_size - off < WINDOW ? (size_t)(st.st_size - off) : WINDOW;
    if (buf) {
      for (size_t got = 0; got < len;) {
        ssize_t n = pread(fd, buf + got, len - got, off + got);
        if (n <= 0) { perror("pread"); return 1; }
        got += (size_t)n;
      }
      result += count_lf(buf, len);
      continue;
    }
    const uint8_t *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, off);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    if (strcmp(mode, "mmap-touch") == 0) {
      for (size_t i = 0; i < len; i += (size_t)page) result += p[i];
    } else if (strcmp(mode, "mmap-count") == 0) {
      result += count_lf(p, len);
    } else {
      fprintf(stderr, "unknown mode %s\n", mode);
      return 2;
    }
    munmap((void *)p, len);
  }
  printf("%llu\n", (unsigned long long)result);
  return 0;
}
