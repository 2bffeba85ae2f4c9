// Module registration. Context-aware, so every worker thread gets its own instance (and
// its own asynchronous waiter and doorbell, delivering on that thread's event loop).
#include "common.h"

namespace interproc {

void ShmOpen(const Args& args);
void ShmUnlink(const Args& args);
void MemfdCreate(const Args& args);
void Ftruncate(const Args& args);
void Fchmod(const Args& args);
void Fstat(const Args& args);
void MapShared(const Args& args);
void Allocate(const Args& args);
void PunchHole(const Args& args);
void SealShrink(const Args& args);
void Close(const Args& args);
void Mkfifo(const Args& args);
void Gettid(const Args& args);
void FutexWait(const Args& args);
void FutexWakeJs(const Args& args);
void AsyncWaitInit(const Args& args);
void AsyncWait(const Args& args);
void AsyncCancel(const Args& args);
void* CreateAsyncWaitEnvironment(v8::Isolate* isolate, v8::Local<v8::Context> context);
void DoorbellOpen(const Args& args);
void DoorbellRef(const Args& args);
void DoorbellRing(const Args& args);
void* CreateDoorbellEnvironment(v8::Isolate* isolate, v8::Local<v8::Context> context);

namespace {

void Export(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports,
            const char* name, v8::FunctionCallback callback, v8::Local<v8::Value> data) {
  v8::Local<v8::Function> function =
      v8::FunctionTemplate::New(isolate, callback, data)->GetFunction(context).ToLocalChecked();
  v8::Local<v8::String> key = v8::String::NewFromUtf8(isolate, name).ToLocalChecked();
  function->SetName(key);
  exports->Set(context, key, function).Check();
}

}  // namespace

}  // namespace interproc

NODE_MODULE_INIT(/* exports, module, context */) {
  using namespace interproc;
  // The loading thread's isolate (V8 14 dropped Context::GetIsolate).
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Value> none = v8::Local<v8::Value>();
  v8::Local<v8::Value> waiter =
      WrapState(isolate, CreateAsyncWaitEnvironment(isolate, context), kAsyncWaitStateTag);
  v8::Local<v8::Value> bell =
      WrapState(isolate, CreateDoorbellEnvironment(isolate, context), kDoorbellStateTag);
  Export(isolate, context, exports, "shmOpen", ShmOpen, none);
  Export(isolate, context, exports, "shmUnlink", ShmUnlink, none);
  Export(isolate, context, exports, "memfdCreate", MemfdCreate, none);
  Export(isolate, context, exports, "ftruncate", Ftruncate, none);
  Export(isolate, context, exports, "fchmod", Fchmod, none);
  Export(isolate, context, exports, "fstat", Fstat, none);
  Export(isolate, context, exports, "allocate", Allocate, none);
  Export(isolate, context, exports, "punchHole", PunchHole, none);
  Export(isolate, context, exports, "sealShrink", SealShrink, none);
  Export(isolate, context, exports, "close", Close, none);
  Export(isolate, context, exports, "mapShared", MapShared, none);
  Export(isolate, context, exports, "mkfifo", Mkfifo, none);
  Export(isolate, context, exports, "gettid", Gettid, none);
  Export(isolate, context, exports, "futexWait", FutexWait, none);
  Export(isolate, context, exports, "futexWake", FutexWakeJs, none);
  Export(isolate, context, exports, "asyncWaitInit", AsyncWaitInit, waiter);
  Export(isolate, context, exports, "asyncWait", AsyncWait, waiter);
  Export(isolate, context, exports, "asyncCancel", AsyncCancel, waiter);
  Export(isolate, context, exports, "doorbellOpen", DoorbellOpen, bell);
  Export(isolate, context, exports, "doorbellRef", DoorbellRef, bell);
  Export(isolate, context, exports, "doorbellRing", DoorbellRing, bell);
}
