/* Single-core memcpy bandwidth: copies a `bytes` buffer into another, `repeats` times
 * after one unrecorded copy (both buffers touched first, so no page faults are timed).
 * Prints one figure per copy, in bytes per second (bytes copied, counted once).
 *   memcpy-bandwidth <bytes> <repeats> [timeout s]                                    */
#include "common.h"

int main(int argc, char **argv) {
  size_t bytes = (size_t)arg_long(argc, argv, 1, 128L << 20);
  long repeats = arg_long(argc, argv, 2, 10);
  hard_timeout((unsigned)arg_long(argc, argv, 3, 30));
  unsigned char *source = aligned_alloc(4096, bytes), *target = aligned_alloc(4096, bytes);
  if (source == NULL || target == NULL) return 2;
  memset(source, 0x5a, bytes);
  memset(target, 0, bytes);
  /* Small buffers are copied many times per figure, so that a figure lasts ~10 ms. */
  long inner = bytes >= (8u << 20) ? 1 : (long)((64u << 20) / bytes);
  memcpy(target, source, bytes);
  unsigned checksum = 0;
  for (long r = 0; r < repeats; r++) {
    uint64_t start = now_ns();
    for (long i = 0; i < inner; i++) {
      source[(size_t)i % bytes] = (unsigned char)i;
      memcpy(target, source, bytes);
      __asm__ __volatile__("" ::: "memory");
    }
    uint64_t elapsed = now_ns() - start;
    checksum += target[(size_t)r % bytes];
    printf("%.0f\n", (double)bytes * (double)inner / ((double)elapsed / 1e9));
  }
  fprintf(stderr, "checksum %u\n", checksum);
  return 0;
}
