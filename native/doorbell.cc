// Doorbells: a datagram socket per JavaScript thread that another process rings with one
// sendto, and that the thread's own event loop polls, so a ring wakes the loop directly
// (no waiter thread, no uv_async hop in between).
//
// A bell is a socket(AF_UNIX, SOCK_DGRAM) bound to the abstract address
// "\0interproc.bell.<tid>", tid being the kernel id of the thread that opened it. A ring is
// one 4-byte datagram carrying a token; the bell's owner hands every token it drains to
// JavaScript, which decides what a token means. Invariants:
// - At most one bell per environment (JavaScript thread): a second doorbellOpen fails with
//   EEXIST rather than replacing the callback, so a second copy of the JavaScript module
//   sharing this addon instance falls back to futex waits instead of silently taking the
//   first copy's deliveries.
// - Abstract addresses are not files: nothing is left behind anywhere, and the address
//   disappears when the socket is closed, by the cleanup below or by the death of the
//   process. A ring to a thread whose bell is closed fails with ECONNREFUSED.
// - Tokens are delivered on the event loop, never during a JavaScript call: a token is
//   only read by the poll callback. JavaScript can therefore register what a token means
//   after making it known (e.g. writing it into shared memory) without losing a ring.
// - Anyone in the same network namespace may send to the address. The addon delivers
//   every 4-byte datagram as a token, and a datagram of any other size as token 0, which
//   no wait ever has: JavaScript ignores tokens it does not expect, so a stranger can
//   cause spurious wake-ups, nothing more, and JavaScript sees every wake-up it pays for.
// - One poll callback is one drain and at most one call into JavaScript, so JavaScript
//   runs at most once per event-loop iteration for the bell, however many rings arrive.
//   A drain reads at most kMaxPerTurn datagrams, then returns to the loop: libuv's epoll
//   is level-triggered, so the rest is reported on the next iteration, and a flood of
//   rings cannot keep the loop in this callback.
// - Pauses: the callback returns how many milliseconds the bell should stay deaf (0 or
//   anything else that is no number >= 1: none; at most kMaxPauseMs). The addon stops
//   polling and resumes from a timer. What arrives meanwhile waits in the queue, and rings
//   beyond it are refused and caught by the overflow re-check below, so a pause delays
//   wake-ups and loses none. When to pause is JavaScript's decision (src/core/doorbell.ts):
//   that is how a flood of rings nobody waits for is held to a bounded number of
//   wake-ups per second.
// - The receive queue of a datagram socket is short: the kernel refuses a datagram once
//   it holds more than net.unix.max_dgram_qlen (10 by default, so 11 fit). A ring to a
//   full queue fails at once with EAGAIN (MSG_DONTWAIT): doorbellRing reports the errno
//   as its result and never throws or blocks, since it is on the message hot path.
//   A refused ring is not a lost wake-up: the bell was full, so its owner will drain it,
//   and a drain that may have found the queue full says so (`overflowed`), so that
//   JavaScript re-checks every wait instead of trusting the tokens alone.
// - Unread datagrams are charged to the sender's send buffer (about 768 bytes each, of
//   212992 by default: some 270 datagrams unread at all bells together). So that EAGAIN
//   means "that bell is full" and never "this sender is", a sender refused with EAGAIN
//   retries once from a fresh socket before it reports it.
// - Rings are sent from an unbound socket of the ringing environment, made on its first
//   ring and used only on that environment's thread, so no locking is needed and one
//   thread's unread rings do not use up the send buffer of the others.
// - The poll handle and the pause timer are unreferenced unless JavaScript asks otherwise
//   (doorbellRef): JavaScript references them exactly while it has referenced waits
//   pending, so a paused bell keeps the loop alive as a polled one does.
// - Cleanup (environment teardown, e.g. worker.terminate() while rings arrive): the poll
//   handle is closed first, which removes the descriptor from the loop's epoll set, and
//   the socket is closed right after, on the spot rather than in the close callback, so
//   that the address is free again even if the loop never runs another iteration (the
//   tid may be reused by a later thread of this process). Datagrams still queued are
//   dropped by the kernel with the socket. The state is freed by the last handle's close
//   callback, which is addon code running after the environment is gone: the addon is
//   linked with -z nodelete (see async-wait.cc).
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common.h"

namespace interproc {

namespace {

constexpr size_t kBatch = 64;        // datagrams per recvmmsg
constexpr size_t kMaxPerTurn = 256;  // datagrams per poll callback
// A drain reads whole batches until one comes back short, so it never holds more than
// kMaxPerTurn tokens (the size of Bell::tokens_) only if this holds.
static_assert(kMaxPerTurn % kBatch == 0, "a drain's batches must fill tokens_ exactly");
constexpr double kMaxPauseMs = 1000;  // longest pause the callback may ask for
constexpr char kAddressPrefix[] = "interproc.bell.";

// The abstract address of thread `tid`'s bell. Abstract names are length-delimited (no
// terminating NUL): the returned length is part of the address and must be the same for
// bind and sendto.
socklen_t BellAddress(uint32_t tid, sockaddr_un* addr) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  // sun_path[0] stays '\0': that is what makes the address abstract.
  int length = std::snprintf(addr->sun_path + 1, sizeof(addr->sun_path) - 1, "%s%u",
                             kAddressPrefix, tid);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + length);
}

class Bell {
 public:
  Bell(v8::Isolate* isolate, v8::Local<v8::Context> context) : isolate_(isolate) {
    context_.Reset(isolate, context);
    node::AddEnvironmentCleanupHook(isolate, OnCleanup, this);
  }

  // Opens this environment's bell. Returns 0 with *tid set, or an errno with *syscall
  // naming the call that failed.
  int Open(v8::Local<v8::Function> callback, uint32_t* tid, const char** syscall_name) {
    if (fd_ >= 0 || closing_) {
      *syscall_name = "doorbellOpen";
      return EEXIST;
    }
    *tid = static_cast<uint32_t>(syscall(SYS_gettid));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *syscall_name = "socket";
      return errno;
    }
    sockaddr_un addr;
    socklen_t length = BellAddress(*tid, &addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), length) != 0) {
      int err = errno;
      close(fd);
      *syscall_name = "bind";
      return err;
    }
    overflow_at_ = OverflowThreshold();
    uv_loop_t* loop = node::GetCurrentEventLoop(isolate_);
    int rc = uv_poll_init(loop, &poll_, fd);
    *syscall_name = "uv_poll_init";
    if (rc == 0) {
      poll_.data = this;
      uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
      handles_ = 1;
      *syscall_name = "uv_timer_init";
      rc = uv_timer_init(loop, &pause_);
      if (rc == 0) {
        pause_.data = this;
        uv_unref(reinterpret_cast<uv_handle_t*>(&pause_));
        handles_ = 2;
        *syscall_name = "uv_poll_start";
        rc = uv_poll_start(&poll_, UV_READABLE, OnPoll);
      }
      if (rc != 0) {
        // The handles exist now: they must be closed, and this state must outlive them
        // (see OnCleanup). The bell stays unavailable in this environment.
        CloseHandles();
        closing_ = true;
      }
    }
    if (rc != 0) {
      close(fd);
      return -rc;
    }
    fd_ = fd;
    callback_.Reset(isolate_, callback);
    SetUpReceiveBuffers();
    // V8's own memory (no external pointer, which a sandboxed V8 would refuse); this state
    // keeps its backing store to write into, and lets both go at cleanup, while the
    // isolate that allocated them is still there.
    v8::HandleScope scope(isolate_);
    v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate_, sizeof(tokens_));
    token_store_ = buffer->GetBackingStore();
    token_array_.Reset(isolate_, v8::Uint32Array::New(buffer, 0, kMaxPerTurn));
    return 0;
  }

  void Ref(bool on) {
    if (fd_ < 0) return;
    auto* poll = reinterpret_cast<uv_handle_t*>(&poll_);
    auto* pause = reinterpret_cast<uv_handle_t*>(&pause_);
    if (on) {
      uv_ref(poll);
      uv_ref(pause);
    } else {
      uv_unref(poll);
      uv_unref(pause);
    }
  }

  // Sends `token` to thread `tid`'s bell. Returns 0 or the errno of the failure; EAGAIN
  // only when the bell's queue is full (see the header).
  int Ring(uint32_t tid, uint32_t token) {
    // The address of the last bell rung, kept: a waker rings the same few threads again
    // and again, and formatting the name costs more than the rest of the call's user time.
    if (ring_tid_ != tid) {
      ring_address_length_ = BellAddress(tid, &ring_address_);
      ring_tid_ = tid;
    }
    const sockaddr_un& addr = ring_address_;
    socklen_t length = ring_address_length_;
    bool fresh = false;
    for (;;) {
      if (send_fd_ < 0) {
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return errno;
        send_fd_ = fd;
        fresh = true;
      }
      ssize_t sent = sendto(send_fd_, &token, sizeof(token), MSG_DONTWAIT | MSG_NOSIGNAL,
                            reinterpret_cast<const sockaddr*>(&addr), length);
      if (sent == static_cast<ssize_t>(sizeof(token))) return 0;
      if (sent >= 0) return EMSGSIZE;  // a datagram is sent whole or not at all
      if (errno == EINTR) continue;
      if (errno != EAGAIN || fresh) return errno;
      // EAGAIN also comes from this socket's own send buffer, full of datagrams unread at
      // other bells. A fresh socket has nothing outstanding, so if it is refused too, the
      // bell's queue is full. The old socket's datagrams stay queued where they are.
      close(send_fd_);
      send_fd_ = -1;
    }
  }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events) {
    // On an error libuv has already stopped the handle, and the bell is deaf from then on
    // (waits end only by their timeouts). A bound AF_UNIX datagram socket that only
    // receives has no error to report in practice.
    if (status < 0) return;
    static_cast<Bell*>(handle->data)->Drain();
  }

  // Drains what queued up during the pause, here rather than through the poll handle, so
  // that a bell kept paused by a flood never goes back into the epoll set in between;
  // polling resumes once a drain asks for no further pause.
  static void OnPauseEnd(uv_timer_t* timer) {
    Bell* self = static_cast<Bell*>(timer->data);
    if (self->fd_ < 0) return;
    self->paused_ = false;
    self->Drain();
    if (self->paused_ || self->fd_ < 0) return;
    // A failure (none is expected for a descriptor already in use) leaves the bell deaf,
    // as a poll error does.
    (void)uv_poll_start(&self->poll_, UV_READABLE, OnPoll);
  }

  // Stops reading the bell for `ms` milliseconds (see the header).
  void Pause(uint64_t ms) {
    paused_ = true;
    uv_poll_stop(&poll_);  // nothing to do when the drain ran from OnPauseEnd
    uv_timer_start(&pause_, OnPauseEnd, ms, 0);
  }

  // The number of datagrams one recvmmsg returns at least when the queue it reads was
  // full at some moment since the previous read: a full queue holds max_dgram_qlen + 1
  // (the kernel refuses a datagram once the queue is longer than the limit), all read in
  // order by one call unless the batch is cut at kBatch. Read after the socket was made,
  // which is when the kernel copied the limit into it; 1 (every drain counts as an
  // overflow) when it cannot be read.
  static size_t OverflowThreshold() {
    size_t threshold = 1;
    FILE* file = std::fopen("/proc/sys/net/unix/max_dgram_qlen", "re");
    if (file != nullptr) {
      long qlen = 0;
      if (std::fscanf(file, "%ld", &qlen) == 1 && qlen >= 0) {
        threshold = static_cast<size_t>(qlen) + 1;
      }
      std::fclose(file);
    }
    return threshold < kBatch ? threshold : kBatch;
  }

  // The receive buffers: each message header points at its own cell, once and for all
  // (recvmmsg writes only the lengths and flags, which are read after each call).
  void SetUpReceiveBuffers() {
    for (size_t i = 0; i < kBatch; ++i) {
      iov_[i] = {cells_[i], sizeof(cells_[i])};
      messages_[i] = {};
      messages_[i].msg_hdr.msg_iov = &iov_[i];
      messages_[i].msg_hdr.msg_iovlen = 1;
    }
  }

  void Drain() {
    size_t count = 0;
    bool overflowed = false;
    while (count < kMaxPerTurn) {
      int received = recvmmsg(fd_, messages_, kBatch, MSG_DONTWAIT, nullptr);
      if (received < 0) {
        if (errno == EINTR) continue;
        break;  // EAGAIN: drained
      }
      if (static_cast<size_t>(received) >= overflow_at_) overflowed = true;
      for (int i = 0; i < received; ++i) {
        tokens_[count++] = messages_[i].msg_len == sizeof(uint32_t) ? cells_[i][0] : 0;
      }
      // Fewer than asked for: the queue was empty. A datagram arriving after that keeps
      // the socket readable, and the level-triggered poll reports it again.
      if (static_cast<size_t>(received) < kBatch) break;
    }
    if ((count == 0 && !overflowed) || callback_.IsEmpty() || token_array_.IsEmpty()) return;
    v8::HandleScope scope(isolate_);
    v8::Local<v8::Context> context = context_.Get(isolate_);
    v8::Context::Scope context_scope(context);
    // The tokens go out in one Uint32Array made at Open (JavaScript reads the first `count`
    // during the call and keeps nothing), so a drain allocates nothing; filled without
    // running JavaScript, so nothing here can fail (or abort on a Check()) once a worker is
    // terminating.
    std::memcpy(token_store_->Data(), tokens_, count * sizeof(uint32_t));
    v8::Local<v8::Value> argv[] = {token_array_.Get(isolate_),
                                   v8::Integer::NewFromUnsigned(isolate_, static_cast<uint32_t>(count)),
                                   v8::Boolean::New(isolate_, overflowed)};
    // MakeCallback runs microtasks afterwards, so awaiting code resumes in this turn. It
    // returns an empty handle when the callback threw or the thread is stopping: no pause.
    v8::Local<v8::Value> result;
    if (!node::MakeCallback(isolate_, context->Global(), callback_.Get(isolate_), 3, argv,
                            node::async_context{0, 0})
             .ToLocal(&result) ||
        !result->IsNumber() || fd_ < 0) {
      return;
    }
    double pause_ms = result.As<v8::Number>()->Value();
    if (pause_ms >= 1) Pause(static_cast<uint64_t>(pause_ms < kMaxPauseMs ? pause_ms : kMaxPauseMs));
  }

  // Closes both handles; this state is freed by the last close callback once the
  // environment is gone (OnCleanup), or by OnCleanup itself when none is left open.
  void CloseHandles() {
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnHandleClosed);
    if (handles_ == 2) uv_close(reinterpret_cast<uv_handle_t*>(&pause_), OnHandleClosed);
  }

  static void OnHandleClosed(uv_handle_t* handle) {
    Bell* self = static_cast<Bell*>(handle->data);
    if (--self->handles_ == 0 && self->torn_down_) delete self;
  }

  static void OnCleanup(void* data) {
    Bell* self = static_cast<Bell*>(data);
    self->torn_down_ = true;
    self->callback_.Reset();
    self->token_array_.Reset();
    self->token_store_.reset();
    self->context_.Reset();
    if (self->send_fd_ >= 0) close(self->send_fd_);
    self->send_fd_ = -1;
    if (self->fd_ >= 0) {
      // Stops polling and takes the descriptor out of the loop's epoll set, so closing it
      // next cannot leave a stale entry behind.
      self->CloseHandles();
      close(self->fd_);
      self->fd_ = -1;
    }
    // Handles closed here or by a failed Open are in the loop's closing queue, and the
    // last one's close callback frees this state; if the loop never runs again, it is
    // leaked (once per environment).
    if (self->handles_ == 0) delete self;
  }

  v8::Isolate* isolate_;
  v8::Global<v8::Context> context_;
  v8::Global<v8::Function> callback_;
  uv_poll_t poll_;
  uv_timer_t pause_;      // ends a pause (see Pause)
  int handles_ = 0;       // of poll_ and pause_, those initialized and not yet closed
  int fd_ = -1;           // the bell; >= 0 once opened
  bool closing_ = false;  // the handles were closed by a failed Open: no bell here
  bool torn_down_ = false;  // the environment is gone (OnCleanup ran)
  bool paused_ = false;     // polling is stopped until pause_ fires
  int send_fd_ = -1;      // unbound socket for rings, made on the first one
  size_t overflow_at_ = 1;         // see OverflowThreshold
  uint32_t tokens_[kMaxPerTurn] = {};  // one drain's tokens, copied into token_store_
  v8::Global<v8::Uint32Array> token_array_;  // what the callback is given (made at Open)
  std::shared_ptr<v8::BackingStore> token_store_;  // token_array_'s memory
  // recvmmsg's buffers (SetUpReceiveBuffers): a cell of 8 bytes per datagram, so that a
  // longer one shows as msg_len != 4.
  uint32_t cells_[kBatch][2] = {};
  iovec iov_[kBatch] = {};
  mmsghdr messages_[kBatch] = {};
  uint32_t ring_tid_ = 0;  // whose address ring_address_ is (0: none yet; no thread has id 0)
  sockaddr_un ring_address_ = {};
  socklen_t ring_address_length_ = 0;
};

Bell* GetBell(const Args& args) {
  return static_cast<Bell*>(UnwrapState(args.Data(), kDoorbellStateTag));
}

}  // namespace

void* CreateDoorbellEnvironment(v8::Isolate* isolate, v8::Local<v8::Context> context) {
  return new Bell(isolate, context);
}

// doorbellOpen(callback: (tokens: Uint32Array, count: number, overflowed: boolean) => number):
// tid, the callback returning the milliseconds to pause the bell for (see the header). A
// drain's tokens are the first `count` of `tokens`, which is the same array at every call
// and valid only during it. Throws
// EEXIST when this environment already has a bell, EADDRINUSE when another socket holds
// its address.
void DoorbellOpen(const Args& args) {
  if (args.Length() < 1 || !args[0]->IsFunction()) {
    return ThrowTypeError(args.GetIsolate(), "callback must be a function");
  }
  uint32_t tid = 0;
  const char* syscall_name = "";
  int err = GetBell(args)->Open(args[0].As<v8::Function>(), &tid, &syscall_name);
  if (err != 0) return ThrowErrno(args.GetIsolate(), syscall_name, err);
  args.GetReturnValue().Set(tid);
}

// doorbellRef(on: boolean): whether the bell keeps the event loop alive. Does nothing when
// this environment has no bell.
void DoorbellRef(const Args& args) {
  if (args.Length() < 1 || !args[0]->IsBoolean()) {
    return ThrowTypeError(args.GetIsolate(), "argument must be a boolean");
  }
  GetBell(args)->Ref(args[0]->IsTrue());
}

// doorbellRing(tid, token): 0 when the datagram was queued at a bell, otherwise the errno
// (ECONNREFUSED: no bell at that address; EAGAIN: its queue is full). Never throws for a
// failed send.
void DoorbellRing(const Args& args) {
  int64_t tid, token;
  if (!ArgInteger(args, 0, 1, INT32_MAX, &tid) || !ArgInteger(args, 1, 0, UINT32_MAX, &token)) {
    return;
  }
  int err = GetBell(args)->Ring(static_cast<uint32_t>(tid), static_cast<uint32_t>(token));
  args.GetReturnValue().Set(err);
}

}  // namespace interproc
