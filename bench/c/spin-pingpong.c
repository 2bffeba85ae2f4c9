/* Round trips between two processes that spin on shared memory: the floor for a
 * spinning ping-pong. fork + MAP_SHARED|MAP_ANONYMOUS, C11 atomics, each word on its
 * own cache line. Prints one round-trip time (ns) per line after `warmup` unrecorded ones.
 * A side that has spun for long (the other is not running: a busy machine) yields its
 * CPU, so that two spinners sharing one CPU still make progress.
 *   spin-pingpong <round trips> [warmup] [timeout s]                                  */
#include "common.h"
#include <sched.h>

static inline void spin_wait(atomic_long *word, long value) {
  for (unsigned spins = 1; atomic_load_explicit(word, memory_order_acquire) != value; spins++) {
    if ((spins & 0xffff) == 0) sched_yield();
    else cpu_relax();
  }
}

struct line {
  _Alignas(64) atomic_long value;
};

int main(int argc, char **argv) {
  long count = arg_long(argc, argv, 1, 100000);
  long warmup = arg_long(argc, argv, 2, 10000);
  hard_timeout((unsigned)arg_long(argc, argv, 3, 30));
  struct line *words = shared_page(4096);
  atomic_long *ping = &words[0].value, *pong = &words[1].value;
  uint64_t *samples = calloc((size_t)count, sizeof *samples);
  if (samples == NULL) return 2;

  pid_t child = fork();
  if (child < 0) return 2;
  if (child == 0) {
    child_dies_with_parent();
    for (long i = 1; i <= warmup + count; i++) {
      spin_wait(ping, i);
      atomic_store_explicit(pong, i, memory_order_release);
    }
    _exit(0);
  }
  for (long i = 1; i <= warmup + count; i++) {
    uint64_t start = now_ns();
    atomic_store_explicit(ping, i, memory_order_release);
    spin_wait(pong, i);
    if (i > warmup) samples[i - warmup - 1] = now_ns() - start;
  }
  if (reap(child) != 0) return 1;
  print_samples(samples, count);
  return 0;
}
