// Synchronous futex wait and wake on a word of a SharedArrayBuffer. Never FUTEX_PRIVATE:
// the word may be mapped by other processes, and the shared key (file + offset) is what
// lets a wake in one process reach a waiter in another. For memory private to one
// process the kernel keys the futex by address space, so threads work the same way.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

#include "common.h"

namespace interproc {

long FutexWake(uint32_t* word, int count) {
  return syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
}

// futexWait(buffer, byteOffset, expected, timeoutMs): 0 woken, 1 value differed, 2 timed out.
// timeoutMs < 0 waits without limit. Spurious returns (signals) report 0: callers re-check.
void FutexWait(const Args& args) {
  uint32_t* word;
  int64_t expected;
  double timeout_ms;
  if (!ArgSharedWord(args, 0, &word) || !ArgInteger(args, 2, INT32_MIN, UINT32_MAX, &expected) ||
      !ArgNumber(args, 3, &timeout_ms)) {
    return;
  }
  struct timespec timeout;
  struct timespec* timeout_ptr = nullptr;
  // NaN and +Infinity both mean "no limit"; a day-long cap keeps tv_sec in range.
  if (timeout_ms >= 0 && timeout_ms < 1e15) {
    timeout.tv_sec = static_cast<time_t>(timeout_ms / 1000);
    timeout.tv_nsec = static_cast<long>((timeout_ms - timeout.tv_sec * 1000.0) * 1e6);
    if (timeout.tv_nsec >= 1000000000L) timeout.tv_nsec = 999999999L;
    if (timeout.tv_nsec < 0) timeout.tv_nsec = 0;
    timeout_ptr = &timeout;
  }
  long rc = syscall(SYS_futex, word, FUTEX_WAIT, static_cast<uint32_t>(expected), timeout_ptr,
                    nullptr, 0);
  int result = 0;
  if (rc != 0) {
    if (errno == EAGAIN) {
      result = 1;
    } else if (errno == ETIMEDOUT) {
      result = 2;
    } else if (errno != EINTR) {
      return ThrowErrno(args.GetIsolate(), "futex", errno);
    }
  }
  args.GetReturnValue().Set(result);
}

// futexWake(buffer, byteOffset, count): number of waiters woken.
void FutexWakeJs(const Args& args) {
  uint32_t* word;
  int64_t count;
  if (!ArgSharedWord(args, 0, &word) || !ArgInteger(args, 2, 1, INT_MAX, &count)) return;
  long woken = FutexWake(word, static_cast<int>(count));
  if (woken < 0) return ThrowErrno(args.GetIsolate(), "futex", errno);
  args.GetReturnValue().Set(static_cast<int32_t>(woken));
}

}  // namespace interproc
