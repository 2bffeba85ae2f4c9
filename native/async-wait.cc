// Asynchronous futex waits for the event loop.
//
// JavaScript registers waits (word, expected value, id); the wait completes when the word
// is woken or no longer holds the expected value, and the ids are reported back to
// JavaScript on the thread that registered them. Invariants:
// - No libuv thread-pool thread is held: each JavaScript thread (environment) owns a few
//   waiter threads of its own. With futex_waitv (Linux >= 5.16) one waiter thread sleeps
//   on up to kWordsPerThread distinct words at once plus a private control word; without
//   it, one waiter thread sleeps on one word.
// - Waits on the same word are coalesced: thousands of pending receives on one mailbox
//   are one kernel waiter.
// - A completion may be spurious; JavaScript always re-checks its condition. Every waker
//   changes the word before it wakes (a sequence bump or a state change), so a wake that
//   futex_waitv does not report is still seen by the rescan of every word's value.
// - While a wait is pending, the waiter holds the word's backing store, so the memory
//   stays mapped. Backing stores are only released on the JavaScript thread.
// - The uv_async handle is referenced exactly while at least one referenced wait is
//   pending: pending waits keep the process alive, an idle waiter does not.
#include <linux/futex.h>
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
#include <thread>
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

struct WaiterThread;

struct WaitWord {
  uint32_t* addr;
  uint32_t expected;
  std::shared_ptr<v8::BackingStore> keep;
  WaiterThread* thread;
  std::vector<Waiter> waiters;
};

struct WaiterThread {
  std::thread thread;
  std::atomic<uint32_t> control{0};  // bumped and woken to make the thread rebuild its set
  std::vector<WaitWord*> words;      // guarded by Environment::mutex
};

struct Completion {
  uint32_t id;
  int32_t result;
  bool ref;
};

bool DetectWaitv() {
  if (std::getenv("INTERPROC_NO_FUTEX_WAITV") != nullptr) return false;
  // Zero words is invalid (EINVAL) where the call exists and ENOSYS where it does not.
  long rc = syscall(__NR_futex_waitv, nullptr, 0, 0, nullptr, 0);
  return !(rc < 0 && errno == ENOSYS);
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

  // Returns kChanged at once when the word no longer holds `expected`; otherwise the wait
  // is registered and -1 returned.
  int32_t Add(v8::Local<v8::SharedArrayBuffer> buffer, uint32_t* addr, uint32_t expected,
              uint32_t id, bool ref) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != expected) return kChanged;
    WaitWord*& slot = words_[addr];
    if (slot != nullptr && slot->expected != expected) {
      // The word holds `expected` now, so the older waits are for a value already gone:
      // complete them and let them re-check.
      CompleteLocked(slot, kChanged);
      slot = nullptr;
      uv_async_send(&async_);
    }
    if (slot == nullptr) {
      slot = new WaitWord{addr, expected, buffer->GetBackingStore(), nullptr, {}};
      Assign(slot);
    }
    slot->waiters.push_back({id, ref});
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
      WaitWord* word = words_[found->second];
      by_id_.erase(found);
      for (auto it = word->waiters.begin(); it != word->waiters.end(); ++it) {
        if (it->id != id) continue;
        if (it->ref) Unref();
        word->waiters.erase(it);
        break;
      }
      if (!word->waiters.empty()) return true;
      Detach(word);
      words_.erase(word->addr);
      Interrupt(word->thread, word->addr);
      retired.reset(word);
    }
    return true;  // `retired` releases the backing store here, on the JavaScript thread
  }

 private:
  // Puts a new word on a waiter thread with room, starting one if none has.
  void Assign(WaitWord* word) {
    size_t room = use_waitv_ ? kWordsPerThread : 1;
    WaiterThread* chosen = nullptr;
    for (auto& thread : threads_) {
      if (thread->words.size() < room) {
        chosen = thread.get();
        break;
      }
    }
    if (chosen == nullptr) {
      threads_.push_back(std::make_unique<WaiterThread>());
      chosen = threads_.back().get();
      chosen->thread = std::thread(&Environment::Run, this, chosen);
    }
    word->thread = chosen;
    chosen->words.push_back(word);
    Interrupt(chosen, nullptr);
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

  // Makes a waiter thread rebuild the set it sleeps on. Without futex_waitv the thread
  // sleeps on the word itself, so that word is woken too (a spurious wake for anyone else
  // waiting on it, which every waiter tolerates).
  void Interrupt(WaiterThread* thread, uint32_t* addr) {
    thread->control.fetch_add(1);
    FutexWake(reinterpret_cast<uint32_t*>(&thread->control), INT_MAX);
    if (!use_waitv_ && addr != nullptr) FutexWake(addr, INT_MAX);
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
    std::vector<uint32_t*> addrs;
    for (;;) {
      uint32_t control;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        control = self->control.load();
        set.clear();
        addrs.clear();
        set.push_back({control, reinterpret_cast<uint64_t>(&self->control), kFutex32, 0});
        for (WaitWord* word : self->words) {
          set.push_back({word->expected, reinterpret_cast<uint64_t>(word->addr), kFutex32, 0});
          addrs.push_back(word->addr);
        }
      }
      long woken;
      if (use_waitv_) {
        woken = syscall(__NR_futex_waitv, set.data(), set.size(), 0, nullptr, 0);
      } else {
        // The one word, or the control word when idle. A word wait is bounded because a
        // cancel may wake the word just before this thread sleeps on it; the bound is how
        // long such a stale thread can take to notice.
        const WaitvEntry& only = set.back();
        struct timespec bound = {1, 0};
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(only.uaddr), FUTEX_WAIT,
                static_cast<uint32_t>(only.val), set.size() > 1 ? &bound : nullptr, nullptr, 0);
        woken = set.size() > 1 ? 1 : 0;
      }
      bool completed = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        if (woken >= 1 && static_cast<size_t>(woken) <= addrs.size()) {
          auto found = words_.find(addrs[woken - 1]);
          if (found != words_.end() && found->second->thread == self) {
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
    v8::HandleScope scope(isolate_);
    v8::Local<v8::Context> context = context_.Get(isolate_);
    v8::Context::Scope context_scope(context);
    v8::Local<v8::Array> ids = v8::Array::New(isolate_, static_cast<int>(done.size()));
    v8::Local<v8::Array> results = v8::Array::New(isolate_, static_cast<int>(done.size()));
    for (size_t i = 0; i < done.size(); ++i) {
      if (done[i].ref) Unref();
      ids->Set(context, i, v8::Integer::NewFromUnsigned(isolate_, done[i].id)).Check();
      results->Set(context, i, v8::Integer::New(isolate_, done[i].result)).Check();
    }
    if (callback_.IsEmpty()) return;
    v8::Local<v8::Value> argv[] = {ids, results};
    // MakeCallback runs microtasks afterwards, so awaiting code resumes in this turn.
    node::MakeCallback(isolate_, context->Global(), callback_.Get(isolate_), 2, argv,
                       node::async_context{0, 0});
  }

  static void OnCleanup(void* data) {
    Environment* self = static_cast<Environment*>(data);
    {
      std::lock_guard<std::mutex> lock(self->mutex_);
      self->stopping_ = true;
      for (auto& thread : self->threads_) {
        thread->control.fetch_add(1);
        FutexWake(reinterpret_cast<uint32_t*>(&thread->control), INT_MAX);
        if (!self->use_waitv_) {
          for (WaitWord* word : thread->words) FutexWake(word->addr, INT_MAX);
        }
      }
    }
    for (auto& thread : self->threads_) thread->thread.join();
    for (auto& entry : self->words_) delete entry.second;
    for (WaitWord* word : self->retired_) delete word;
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
  std::unordered_map<uint32_t*, WaitWord*> words_;
  std::unordered_map<uint32_t, uint32_t*> by_id_;
  std::vector<std::unique_ptr<WaiterThread>> threads_;
  std::vector<Completion> done_;
  std::vector<WaitWord*> retired_;
};

Environment* GetEnvironment(const Args& args) {
  return static_cast<Environment*>(args.Data().As<v8::External>()->Value());
}

}  // namespace

void* CreateAsyncWaitEnvironment(v8::Isolate* isolate, v8::Local<v8::Context> context) {
  return new Environment(isolate, context);
}

// asyncWaitInit(callback: (ids: number[], results: number[]) => void): void
void AsyncWaitInit(const Args& args) {
  if (args.Length() < 1 || !args[0]->IsFunction()) {
    return ThrowTypeError(args.GetIsolate(), "callback must be a function");
  }
  GetEnvironment(args)->SetCallback(args[0].As<v8::Function>());
}

// asyncWait(buffer, byteOffset, expected, id, ref): 1 when the word already differs
// (nothing registered), -1 when the wait is registered.
void AsyncWait(const Args& args) {
  uint32_t* word;
  int64_t expected, id;
  if (!ArgSharedWord(args, 0, &word) || !ArgInteger(args, 2, INT32_MIN, UINT32_MAX, &expected) ||
      !ArgInteger(args, 3, 0, UINT32_MAX, &id)) {
    return;
  }
  bool ref = args.Length() < 5 || !args[4]->IsFalse();
  int32_t result = GetEnvironment(args)->Add(args[0].As<v8::SharedArrayBuffer>(), word,
                                             static_cast<uint32_t>(expected),
                                             static_cast<uint32_t>(id), ref);
  args.GetReturnValue().Set(result);
}

// asyncCancel(id): whether the wait was still pending.
void AsyncCancel(const Args& args) {
  int64_t id;
  if (!ArgInteger(args, 0, 0, UINT32_MAX, &id)) return;
  args.GetReturnValue().Set(GetEnvironment(args)->Cancel(static_cast<uint32_t>(id)));
}

}  // namespace interproc
