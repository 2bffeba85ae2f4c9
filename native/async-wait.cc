// Asynchronous futex waits for the event loop.
//
// JavaScript registers waits (word, expected value, id); the wait completes when the word
// is woken or no longer holds the expected value, and the ids are reported back to
// JavaScript on the thread that registered them. Invariants:
// - No libuv thread-pool thread is held: each JavaScript thread (environment) owns a few
//   waiter threads of its own. With futex_waitv (Linux >= 5.16) one waiter thread sleeps
//   on up to kWordsPerThread distinct words at once plus a private control word; without
//   it, one waiter thread sleeps on one word. Waiter threads (named "interproc-wait") are
//   started on demand with a small stack and every signal blocked, are reused, and stop
//   when the environment does.
//   Failing to start one (EAGAIN at a thread limit) fails that asyncWait with an error,
//   never the process.
// - Waits on the same word are coalesced: thousands of pending receives on one mailbox
//   are one kernel waiter.
// - A completion may be spurious; JavaScript always re-checks its condition. Still, a
//   wake is credited (kWoken) only to the registration the thread slept on: words carry a
//   serial, so a wake meant for a cancelled word does not complete a newer registration
//   at the same address, and without futex_waitv a return from the kernel after an
//   interrupt is not a wake at all (the interrupt wakes the word too). Otherwise one
//   cancel could complete every wait that was registered just after it on that word.
// - One id, one wait: asyncWait refuses an id that is still pending (EEXIST), since a
//   wait whose id was overwritten could never be cancelled and would hold a ref forever.
// - Lost wakes. A wait counts as registered when Add() has seen the word hold `expected`
//   under the mutex. From then on a FUTEX_WAKE is only seen if a waiter thread is asleep
//   in the kernel on the word; while the thread is awake (rebuilding its set after any
//   interrupt) a wake goes nowhere. That is why every waker changes the word before it
//   wakes (a sequence bump or a state change): the thread re-reads every word under the
//   mutex after each return from the kernel, and futex_waitv/FUTEX_WAIT compare the value
//   again atomically on entry, so a change made before the thread re-enters the kernel is
//   seen as "changed". A word that changed and changed back to `expected` before the
//   thread re-entered is indistinguishable from a synchronous waiter that read the word
//   late, which every wait/wake protocol must tolerate anyway.
// - Without futex_waitv, the thread sleeps on the word itself, so it cannot also sleep on
//   its control word: to interrupt it, the control word is bumped and the word it sleeps
//   on (`sleep_addr`, set while it is armed or asleep, cleared as soon as it is awake) is
//   woken. The thread sleeps with FUTEX_WAIT_BITSET and a bit of its own (threads of one
//   process get distinct bits, 32 of them round robin) and is interrupted with
//   FUTEX_WAKE_BITSET of that bit, so wakers' plain FUTEX_WAKE still reach it while an
//   interrupt does not spuriously wake the fallback waiters of other threads, workers and
//   (but for 1 in 32) processes on the same word: otherwise cancelling one wait, or ending
//   one worker, would complete every such wait on the word, and their re-registrations
//   could interrupt each other back and forth. Plain FUTEX_WAIT sleepers (synchronous
//   waits) do match any bit and see a spurious wake, which every waiter tolerates.
//   An interrupt that lands between the thread's unlock and its entry into the kernel is
//   lost, so a word sleep is bounded: 10 ms right after a rebuild, doubling while nothing
//   happens, up to 1 s. A wait assigned to a thread that missed its interrupt is therefore
//   delayed by at most that bound (usually 10 ms); idle CPU stays ~1 wakeup/s per thread
//   with a pending word. An idle thread sleeps on its control word, unbounded.
// - While a wait is pending, the waiter holds the word's backing store, so the memory
//   stays mapped even when JavaScript drops every reference to the SharedArrayBuffer.
//   Backing stores are only released on the JavaScript thread (Cancel, Deliver, cleanup).
//   A waiter thread may still pass the address of a word that was cancelled (and
//   unmapped) to the kernel; the kernel only reads it (EFAULT at worst) and the thread
//   never dereferences a word it no longer owns.
// - The uv_async handle is referenced exactly while at least one referenced wait is
//   pending or completed but not yet delivered: pending waits keep the process alive, an
//   idle waiter does not.
// - Cleanup (environment teardown, e.g. worker termination with waits pending): under the
//   mutex `stopping_` is set and every thread interrupted; the threads are joined before
//   the uv_async handle is closed, so no uv_async_send can follow uv_close; then the words
//   (and backing stores) are freed on the JavaScript thread. Delivery never aborts on a
//   terminating isolate: no Maybe is Check()ed.
// - The addon is linked with -z nodelete (binding.gyp): Node dlcloses an addon when the
//   environment that loaded it ends, but backing-store deleters (shm.cc) and the
//   uv_close callback below are addon code that can run after that, e.g. in a worker of
//   a process whose main thread never loaded the addon.
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common.h"

#ifndef __NR_futex_waitv
#define __NR_futex_waitv 449
#endif

namespace interproc {

long FutexWake(uint32_t* word, int count);

namespace {

constexpr size_t kWordsPerThread = 127;  // futex_waitv takes at most 128 words
constexpr uint32_t kFutex32 = 2;          // FUTEX2_SIZE_U32, shared (no FUTEX2_PRIVATE)
constexpr size_t kStackBytes = 256 * 1024;
constexpr char kThreadName[] = "interproc-wait";  // /proc/<pid>/task/<tid>/comm
constexpr long kFirstBoundNs = 10 * 1000 * 1000;    // fallback word sleep, after a rebuild
constexpr long kLastBoundNs = 1000 * 1000 * 1000;   // ... doubling up to this

struct WaitvEntry {  // struct futex_waitv
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

enum Result : int32_t { kWoken = 0, kChanged = 1 };

struct Waiter {
  uint32_t id;
  bool ref;
};

class Environment;
struct WaiterThread;

struct WaitWord {
  uint32_t* addr;
  uint32_t expected;
  uint64_t serial;  // tells this word from a later one at the same address
  std::shared_ptr<v8::BackingStore> keep;
  WaiterThread* thread;
  std::vector<Waiter> waiters;
};

struct WaiterThread {
  Environment* env;
  pthread_t thread;
  std::atomic<uint32_t> control{0};  // bumped and woken to make the thread rebuild its set
  std::vector<WaitWord*> words;      // guarded by Environment::mutex_
  uint32_t* sleep_addr = nullptr;    // fallback: the word it is (about to be) asleep on (mutex_)
  uint32_t bit = 0;                  // fallback: its FUTEX_WAIT_BITSET bit
};

struct Completion {
  uint32_t id;
  int32_t result;
  bool ref;
};

std::atomic<uint32_t> next_bit{0};  // fallback bits, round robin over the process

bool DetectWaitv() {
  if (std::getenv("INTERPROC_NO_FUTEX_WAITV") != nullptr) return false;
  // Zero words is EINVAL where the call exists. Anything else (ENOSYS on old kernels,
  // EPERM from a seccomp filter that predates the call) means it cannot be used.
  long rc = syscall(__NR_futex_waitv, nullptr, 0, 0, nullptr, 0);
  return rc < 0 && errno == EINVAL;
}

class Environment {
 public:
  Environment(v8::Isolate* isolate, v8::Local<v8::Context> context)
      : isolate_(isolate), use_waitv_(DetectWaitv()) {
    context_.Reset(isolate, context);
    uv_async_init(node::GetCurrentEventLoop(isolate), &async_, OnAsync);
    async_.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
    node::AddEnvironmentCleanupHook(isolate, OnCleanup, this);
  }

  void SetCallback(v8::Local<v8::Function> callback) { callback_.Reset(isolate_, callback); }

  // Returns kChanged at once when the word no longer holds `expected`; -1 when the wait is
  // registered; -2 with *error set (an errno) when it could not be.
  int32_t Add(v8::Local<v8::SharedArrayBuffer> buffer, uint32_t* addr, uint32_t expected,
              uint32_t id, bool ref, int* error) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (by_id_.count(id) != 0) {
      *error = EEXIST;
      return -2;
    }
    if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != expected) return kChanged;
    auto slot = words_.find(addr);
    if (slot != words_.end() && slot->second->expected != expected) {
      // The word holds `expected` now, so the older waits are for a value already gone:
      // complete them and let them re-check.
      CompleteLocked(slot->second, kChanged);
      words_.erase(slot);
      slot = words_.end();
      uv_async_send(&async_);
    }
    WaitWord* word;
    if (slot == words_.end()) {
      word = new WaitWord{addr, expected, ++serial_, buffer->GetBackingStore(), nullptr, {}};
      int rc = Assign(word);
      if (rc != 0) {
        delete word;  // on the JavaScript thread, like every release of a backing store
        *error = rc;
        return -2;
      }
      words_.emplace(addr, word);
    } else {
      word = slot->second;
    }
    word->waiters.push_back({id, ref});
    by_id_[id] = addr;
    if (ref && ref_count_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(&async_));
    return -1;
  }

  // Forgets a pending wait. Returns false when it had already completed.
  bool Cancel(uint32_t id) {
    std::unique_ptr<WaitWord> retired;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto found = by_id_.find(id);
      if (found == by_id_.end()) return false;
      auto slot = words_.find(found->second);
      by_id_.erase(found);
      if (slot == words_.end()) return false;  // unreachable: by_id_ only names live words
      WaitWord* word = slot->second;
      for (auto it = word->waiters.begin(); it != word->waiters.end(); ++it) {
        if (it->id != id) continue;
        if (it->ref) Unref();
        word->waiters.erase(it);
        break;
      }
      if (!word->waiters.empty()) return true;
      WaiterThread* thread = word->thread;
      Detach(word);
      words_.erase(slot);
      Interrupt(thread);
      retired.reset(word);
    }
    return true;  // `retired` releases the backing store here, on the JavaScript thread
  }

 private:
  // Puts a new word on a waiter thread with room, starting one if none has. Returns 0 or
  // the errno of a failed thread start.
  int Assign(WaitWord* word) {
    size_t room = use_waitv_ ? kWordsPerThread : 1;
    WaiterThread* chosen = nullptr;
    for (auto& thread : threads_) {
      if (thread->words.size() < room) {
        chosen = thread.get();
        break;
      }
    }
    if (chosen == nullptr) {
      auto thread = std::make_unique<WaiterThread>();
      thread->env = this;
      thread->bit = 1u << (next_bit.fetch_add(1) % 32);
      int rc = StartThread(thread.get());
      if (rc != 0) return rc;
      threads_.push_back(std::move(thread));
      chosen = threads_.back().get();
    }
    word->thread = chosen;
    chosen->words.push_back(word);
    Interrupt(chosen);
    return 0;
  }

  // A small stack (the thread only makes syscalls) and every signal blocked, so that
  // process-directed signals go to Node's own threads.
  static int StartThread(WaiterThread* thread) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kStackBytes);
    int rc = pthread_create(&thread->thread, &attr, ThreadMain, thread);
    if (rc == EINVAL) rc = pthread_create(&thread->thread, nullptr, ThreadMain, thread);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    // Named here rather than by the thread itself, so the name is there once asyncWait
    // returns (tests and diagnostics count the threads by it).
    if (rc == 0) pthread_setname_np(thread->thread, kThreadName);
    return rc;
  }

  static void* ThreadMain(void* data) {
    WaiterThread* thread = static_cast<WaiterThread*>(data);
    thread->env->Run(thread);
    return nullptr;
  }

  void Detach(WaitWord* word) {
    auto& list = word->thread->words;
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (*it == word) {
        list.erase(it);
        break;
      }
    }
  }

  // Makes a waiter thread rebuild the set it sleeps on. Caller holds the mutex. Without
  // futex_waitv the thread may be asleep on a word rather than on its control word, so
  // that word is woken too (a spurious wake for anyone else waiting on it, which every
  // waiter tolerates).
  void Interrupt(WaiterThread* thread) {
    thread->control.fetch_add(1);
    FutexWake(reinterpret_cast<uint32_t*>(&thread->control), INT_MAX);
    if (!use_waitv_ && thread->sleep_addr != nullptr) {
      syscall(SYS_futex, thread->sleep_addr, FUTEX_WAKE_BITSET, INT_MAX, nullptr, nullptr,
              thread->bit);
    }
  }

  void Unref() {
    if (--ref_count_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
  }

  // Moves every wait on `word` to the completion list. Caller holds the mutex and removes
  // the word from words_; the word itself is freed on the JavaScript thread.
  void CompleteLocked(WaitWord* word, int32_t result) {
    for (const Waiter& waiter : word->waiters) {
      done_.push_back({waiter.id, result, waiter.ref});
      by_id_.erase(waiter.id);
    }
    word->waiters.clear();
    Detach(word);
    retired_.push_back(word);
  }

  void Run(WaiterThread* self) {
    std::vector<WaitvEntry> set;
    std::vector<uint32_t*> addrs;    // set[i + 1] is word addrs[i], serials[i]
    std::vector<uint64_t> serials;
    long bound_ns = kFirstBoundNs;
    uint32_t last_control = 0;
    for (;;) {
      uint32_t control;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        control = self->control.load();
        set.clear();
        addrs.clear();
        serials.clear();
        set.push_back({control, reinterpret_cast<uint64_t>(&self->control), kFutex32, 0});
        for (WaitWord* word : self->words) {
          set.push_back({word->expected, reinterpret_cast<uint64_t>(word->addr), kFutex32, 0});
          addrs.push_back(word->addr);
          serials.push_back(word->serial);
        }
        self->sleep_addr = addrs.empty() ? nullptr : addrs.back();
      }
      long woken;  // index into `set` of the word that was woken, or -1
      if (use_waitv_) {
        woken = syscall(__NR_futex_waitv, set.data(), set.size(), 0, nullptr, 0);
      } else if (set.size() == 1) {
        // Idle: sleep on the control word, which every interrupt changes first.
        syscall(SYS_futex, &self->control, FUTEX_WAIT, control, nullptr, nullptr, 0);
        woken = -1;
      } else {
        // The one word; bounded, because an interrupt may come just before this thread
        // enters the kernel (see the header comment).
        if (control != last_control) bound_ns = kFirstBoundNs;
        last_control = control;
        // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline.
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_nsec += bound_ns;
        deadline.tv_sec += deadline.tv_nsec / 1000000000L;
        deadline.tv_nsec %= 1000000000L;
        const WaitvEntry& only = set.back();
        long rc = syscall(SYS_futex, reinterpret_cast<uint32_t*>(only.uaddr), FUTEX_WAIT_BITSET,
                          static_cast<uint32_t>(only.val), &deadline, nullptr, self->bit);
        if (rc != 0 && errno == ETIMEDOUT && bound_ns < kLastBoundNs) {
          bound_ns = bound_ns * 2 < kLastBoundNs ? bound_ns * 2 : kLastBoundNs;
        }
        // An interrupt wakes this word too: only a wake with no interrupt since the set
        // was built is the word's own (a waker's change is still seen by the rescan).
        woken = rc == 0 && self->control.load() == control ? 1 : -1;
      }
      bool completed = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        self->sleep_addr = nullptr;  // awake: an interrupt only needs the control word now
        if (woken >= 1 && static_cast<size_t>(woken) <= addrs.size()) {
          // The word woken may since have been cancelled and another registered at the
          // same address: a wake for the old one says nothing about the new one.
          auto found = words_.find(addrs[woken - 1]);
          if (found != words_.end() && found->second->serial == serials[woken - 1] &&
              found->second->thread == self) {
            CompleteLocked(found->second, kWoken);
            words_.erase(found);
            completed = true;
          }
        }
        // A changed word was woken, or is about to be: complete it now.
        for (size_t i = 0; i < self->words.size();) {
          WaitWord* word = self->words[i];
          if (__atomic_load_n(word->addr, __ATOMIC_SEQ_CST) != word->expected) {
            words_.erase(word->addr);
            CompleteLocked(word, kChanged);  // removes it from self->words
            completed = true;
          } else {
            ++i;
          }
        }
      }
      if (completed) uv_async_send(&async_);
    }
  }

  static void OnAsync(uv_async_t* handle) {
    static_cast<Environment*>(handle->data)->Deliver();
  }

  void Deliver() {
    std::vector<Completion> done;
    std::vector<WaitWord*> retired;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done.swap(done_);
      retired.swap(retired_);
    }
    for (WaitWord* word : retired) delete word;
    if (done.empty()) return;
    for (const Completion& completion : done) {
      if (completion.ref) Unref();
    }
    if (callback_.IsEmpty()) return;
    v8::HandleScope scope(isolate_);
    v8::Local<v8::Context> context = context_.Get(isolate_);
    v8::Context::Scope context_scope(context);
    // Two typed arrays over one ArrayBuffer: filled from C++ without running JavaScript,
    // so nothing here can fail (or abort on a Check()) once a worker is terminating.
    size_t count = done.size();
    v8::Local<v8::ArrayBuffer> storage = v8::ArrayBuffer::New(isolate_, count * 8);
    uint32_t* cells = static_cast<uint32_t*>(storage->Data());
    for (size_t i = 0; i < count; ++i) {
      cells[i] = done[i].id;
      cells[count + i] = static_cast<uint32_t>(done[i].result);
    }
    v8::Local<v8::Value> argv[] = {v8::Uint32Array::New(storage, 0, count),
                                   v8::Int32Array::New(storage, count * 4, count)};
    // MakeCallback runs microtasks afterwards, so awaiting code resumes in this turn. It
    // returns an empty handle (ignored) when the callback threw or the thread is stopping.
    (void)node::MakeCallback(isolate_, context->Global(), callback_.Get(isolate_), 2, argv,
                             node::async_context{0, 0});
  }

  static void OnCleanup(void* data) {
    Environment* self = static_cast<Environment*>(data);
    {
      std::lock_guard<std::mutex> lock(self->mutex_);
      self->stopping_ = true;
      for (auto& thread : self->threads_) self->Interrupt(thread.get());
    }
    // A fallback thread that missed the interrupt wakes within its bound (<= 1 s).
    for (auto& thread : self->threads_) pthread_join(thread->thread, nullptr);
    for (auto& entry : self->words_) delete entry.second;
    for (WaitWord* word : self->retired_) delete word;
    self->words_.clear();
    self->retired_.clear();
    self->callback_.Reset();
    self->context_.Reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&self->async_),
             [](uv_handle_t* handle) { delete static_cast<Environment*>(handle->data); });
  }

  v8::Isolate* isolate_;
  const bool use_waitv_;
  uv_async_t async_;
  v8::Global<v8::Context> context_;
  v8::Global<v8::Function> callback_;
  std::mutex mutex_;
  bool stopping_ = false;
  size_t ref_count_ = 0;  // JavaScript thread only
  uint64_t serial_ = 0;   // guarded by mutex_
  std::unordered_map<uint32_t*, WaitWord*> words_;
  std::unordered_map<uint32_t, uint32_t*> by_id_;
  std::vector<std::unique_ptr<WaiterThread>> threads_;
  std::vector<Completion> done_;
  std::vector<WaitWord*> retired_;
};

Environment* GetEnvironment(const Args& args) {
  return static_cast<Environment*>(UnwrapState(args.Data(), kAsyncWaitStateTag));
}

}  // namespace

void* CreateAsyncWaitEnvironment(v8::Isolate* isolate, v8::Local<v8::Context> context) {
  return new Environment(isolate, context);
}

// asyncWaitInit(callback: (ids: Uint32Array, results: Int32Array) => void): void
void AsyncWaitInit(const Args& args) {
  if (args.Length() < 1 || !args[0]->IsFunction()) {
    return ThrowTypeError(args.GetIsolate(), "callback must be a function");
  }
  GetEnvironment(args)->SetCallback(args[0].As<v8::Function>());
}

// asyncWait(buffer, byteOffset, expected, id, ref): 1 when the word already differs
// (nothing registered), -1 when the wait is registered. Throws EAGAIN (pthread_create)
// when no waiter thread could be started, EEXIST when `id` is already pending.
void AsyncWait(const Args& args) {
  uint32_t* word;
  int64_t expected, id;
  if (!ArgSharedWord(args, 0, &word) || !ArgInteger(args, 2, INT32_MIN, UINT32_MAX, &expected) ||
      !ArgInteger(args, 3, 0, UINT32_MAX, &id)) {
    return;
  }
  bool ref = args.Length() < 5 || !args[4]->IsFalse();
  int error = 0;
  int32_t result = GetEnvironment(args)->Add(args[0].As<v8::SharedArrayBuffer>(), word,
                                             static_cast<uint32_t>(expected),
                                             static_cast<uint32_t>(id), ref, &error);
  if (result == -2) {
    return ThrowErrno(args.GetIsolate(), error == EEXIST ? "asyncWait" : "pthread_create", error);
  }
  args.GetReturnValue().Set(result);
}

// asyncCancel(id): whether the wait was still pending.
void AsyncCancel(const Args& args) {
  int64_t id;
  if (!ArgInteger(args, 0, 0, UINT32_MAX, &id)) return;
  args.GetReturnValue().Set(GetEnvironment(args)->Cancel(static_cast<uint32_t>(id)));
}

}  // namespace interproc
