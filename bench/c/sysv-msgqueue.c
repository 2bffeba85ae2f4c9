/* One-way throughput of the kernel's own System V message queue between two processes:
 * the peer of MessageQueue. The parent sends `messages` messages of 64 B (type 1) back to
 * back with msgsnd; a forked child takes them with msgrcv and, after the last one, answers
 * with one message of type 2 carrying the time it took it. The queue has the kernel's
 * default limit (msg_qbytes = MSGMNB, 16384 bytes: 256 messages of 64 B), as a MessageQueue
 * has by default, so the sender blocks whenever it gets that far ahead.
 * A run is timed from the parent's first msgsnd to the child's last msgrcv (CLOCK_MONOTONIC
 * is one clock for both processes). One unrecorded run first, then `runs` runs; prints one
 * figure per run, in messages per second.
 * The queue is IPC_PRIVATE (no key another program could collide with) and removed at the
 * end, or by the SIGALRM of the hard timeout before that ends the process.
 *   sysv-msgqueue <messages> <runs> [timeout s]                                       */
#include "common.h"
#include <errno.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#define PAYLOAD 64
#define DATA_TYPE 1
#define DONE_TYPE 2

struct data_message {
  long type;
  unsigned char text[PAYLOAD];
};

struct done_message {
  long type;
  uint64_t end_ns;
};

static volatile sig_atomic_t queue_id = -1;

/* The hard timeout: a System V queue outlives its processes, so remove it before dying. */
static void on_alarm(int signal_number) {
  if (queue_id >= 0) msgctl(queue_id, IPC_RMID, NULL);
  signal(signal_number, SIG_DFL);
  raise(signal_number);
}

static void fail(const char *what) {
  perror(what);
  if (queue_id >= 0) msgctl(queue_id, IPC_RMID, NULL);
  exit(2);
}

/* msgsnd / msgrcv, again after a signal that interrupted them. */
static int send_message(const void *message, size_t size) {
  for (;;) {
    if (msgsnd(queue_id, message, size, 0) == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

static ssize_t receive_message(void *message, size_t size, long type) {
  for (;;) {
    ssize_t got = msgrcv(queue_id, message, size, type, 0);
    if (got >= 0 || errno != EINTR) return got;
  }
}

/* The child's side. On a wrong message it removes the queue, so that the parent's next
 * msgsnd or msgrcv fails (EIDRM) at once instead of waiting for the hard timeout. */
static int receiver(long messages, long rounds) {
  struct data_message message;
  for (long round = 0; round < rounds; round++) {
    for (long i = 0; i < messages; i++) {
      ssize_t got = receive_message(&message, PAYLOAD, DATA_TYPE);
      /* Every message counted is a whole, correct one, in order. */
      if (got < 0 && errno == EIDRM) return 1; /* the parent gave up (hard timeout) */
      if (got != PAYLOAD || message.text[0] != (unsigned char)i) {
        fprintf(stderr, "sysv-msgqueue: message %ld of round %ld is wrong (%zd bytes)\n", i, round, got);
        msgctl(queue_id, IPC_RMID, NULL);
        return 1;
      }
    }
    struct done_message done = {DONE_TYPE, now_ns()};
    if (send_message(&done, sizeof done.end_ns) != 0) return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  long messages = arg_long(argc, argv, 1, 100000);
  long runs = arg_long(argc, argv, 2, 5);
  if (messages <= 0 || runs <= 0) return 2;
  queue_id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (queue_id < 0) fail("msgget");
  signal(SIGALRM, on_alarm);
  hard_timeout((unsigned)arg_long(argc, argv, 3, 30));

  pid_t child = fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    child_dies_with_parent();
    _exit(receiver(messages, runs + 1));
  }
  double *rates = calloc((size_t)runs, sizeof *rates);
  if (rates == NULL) fail("calloc");
  struct data_message message = {DATA_TYPE, {0}};
  for (int i = 0; i < PAYLOAD; i++) message.text[i] = (unsigned char)(i * 31 + 7);
  for (long round = 0; round <= runs; round++) {
    uint64_t start = now_ns();
    for (long i = 0; i < messages; i++) {
      message.text[0] = (unsigned char)i;
      if (send_message(&message, PAYLOAD) != 0) fail("msgsnd");
    }
    struct done_message done;
    if (receive_message(&done, sizeof done.end_ns, DONE_TYPE) != (ssize_t)sizeof done.end_ns) fail("msgrcv");
    if (round > 0) rates[round - 1] = (double)messages / ((double)(done.end_ns - start) / 1e9);
  }
  int failed = reap(child);
  msgctl(queue_id, IPC_RMID, NULL);
  if (failed != 0) return 1;
  for (long round = 0; round < runs; round++) printf("%.0f\n", rates[round]);
  return 0;
}
