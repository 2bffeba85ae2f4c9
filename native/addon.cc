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

void Export(v8::Local<v8::Object> exports, v8::Local<v8::Context> context, const char* name,
            v8::FunctionCallback callback, v8::Local<v8::Value> data) {
  v8::Isolate* isolate = context->GetIsolate();
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
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::Value> none = v8::Local<v8::Value>();
  v8::Local<v8::Value> waiter =
      v8::External::New(isolate, CreateAsyncWaitEnvironment(isolate, context));
  v8::Local<v8::Value> bell =
      v8::External::New(isolate, CreateDoorbellEnvironment(isolate, context));
  Export(exports, context, "shmOpen", ShmOpen, none);
  Export(exports, context, "shmUnlink", ShmUnlink, none);
  Export(exports, context, "memfdCreate", MemfdCreate, none);
  Export(exports, context, "ftruncate", Ftruncate, none);
  Export(exports, context, "fchmod", Fchmod, none);
  Export(exports, context, "fstat", Fstat, none);
  Export(exports, context, "allocate", Allocate, none);
  Export(exports, context, "punchHole", PunchHole, none);
  Export(exports, context, "sealShrink", SealShrink, none);
  Export(exports, context, "close", Close, none);
  Export(exports, context, "mapShared", MapShared, none);
  Export(exports, context, "mkfifo", Mkfifo, none);
  Export(exports, context, "gettid", Gettid, none);
  Export(exports, context, "futexWait", FutexWait, none);
  Export(exports, context, "futexWake", FutexWakeJs, none);
  Export(exports, context, "asyncWaitInit", AsyncWaitInit, waiter);
  Export(exports, context, "asyncWait", AsyncWait, waiter);
  Export(exports, context, "asyncCancel", AsyncCancel, waiter);
  Export(exports, context, "doorbellOpen", DoorbellOpen, bell);
  Export(exports, context, "doorbellRef", DoorbellRef, bell);
  Export(exports, context, "doorbellRing", DoorbellRing, bell);
}
