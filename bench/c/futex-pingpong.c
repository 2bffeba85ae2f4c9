/* Round trips between two processes that sleep in the kernel on a futex and wake each
 * other: the floor for a parking ping-pong. Each side waits with FUTEX_WAIT on its word
 * (shared futexes: the processes do not share an mm) and wakes the other with FUTEX_WAKE.
 * Prints one round-trip time (ns) per line after `warmup` unrecorded ones.
 *   futex-pingpong <round trips> [warmup] [timeout s]                                 */
#include "common.h"
#include <linux/futex.h>
#include <sys/syscall.h>

struct line {
  _Alignas(64) atomic_int value;
};

static void futex_wait(atomic_int *word, int expected) {
  syscall(SYS_futex, (int *)word, FUTEX_WAIT, expected, NULL, NULL, 0);
}

static void futex_wake(atomic_int *word) {
  syscall(SYS_futex, (int *)word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int main(int argc, char **argv) {
  long count = arg_long(argc, argv, 1, 20000);
  long warmup = arg_long(argc, argv, 2, 2000);
  hard_timeout((unsigned)arg_long(argc, argv, 3, 30));
  struct line *words = shared_page(4096);
  atomic_int *ping = &words[0].value, *pong = &words[1].value;
  uint64_t *samples = calloc((size_t)count, sizeof *samples);
  if (samples == NULL) return 2;

  pid_t child = fork();
  if (child < 0) return 2;
  if (child == 0) {
    child_dies_with_parent();
    for (int i = 1; i <= warmup + count; i++) {
      while (atomic_load_explicit(ping, memory_order_acquire) != i) futex_wait(ping, i - 1);
      atomic_store_explicit(pong, i, memory_order_release);
      futex_wake(pong);
    }
    _exit(0);
  }
  for (int i = 1; i <= warmup + count; i++) {
    uint64_t start = now_ns();
    atomic_store_explicit(ping, i, memory_order_release);
    futex_wake(ping);
    while (atomic_load_explicit(pong, memory_order_acquire) != i) futex_wait(pong, i - 1);
    if (i > warmup) samples[i - warmup - 1] = now_ns() - start;
  }
  if (reap(child) != 0) return 1;
  print_samples(samples, count);
  return 0;
}
