// Shared helpers of the addon. The addon is mechanism only: it checks that each argument
// has the type and range a syscall needs (so no input from JavaScript can crash the
// process) and turns failures into exceptions named after errno. Policy, defaults and
// error wording for users live in TypeScript (src/native/addon.ts and above).
#pragma once

#include <node.h>
#include <v8.h>

#include <cstdint>
#include <string>

namespace interproc {

using Args = v8::FunctionCallbackInfo<v8::Value>;

// Throws an Error whose `code` is errno's name (ENOENT, EACCES, ...), `errno` the number
// and `syscall` the call that failed.
void ThrowErrno(v8::Isolate* isolate, const char* syscall, int err);
// Throws TypeError{code: 'ERR_INVALID_ARG_TYPE'} / RangeError{code: 'ERR_OUT_OF_RANGE'}.
void ThrowTypeError(v8::Isolate* isolate, const char* message);
void ThrowRangeError(v8::Isolate* isolate, const char* message);

// Argument readers: each returns false after throwing when the argument is unusable.
bool ArgInteger(const Args& args, int index, int64_t min, int64_t max, int64_t* out);
bool ArgNumber(const Args& args, int index, double* out);
bool ArgString(const Args& args, int index, std::string* out);
// A 32-bit word inside a SharedArrayBuffer: args[index] is the buffer, args[index + 1]
// the byte offset, which must be 4-aligned and leave 4 bytes inside the buffer.
bool ArgSharedWord(const Args& args, int index, uint32_t** word);

// Each JavaScript thread's asynchronous waiter and doorbell reach the functions that use
// them as the functions' data: a v8::External holding the pointer, tagged by the type it
// points to. V8 14 (Node 26) takes the tag and deprecates the untagged calls; V8 before
// 14 (Node 20 to 24) has only the untagged ones. Which one the headers declare is tested
// directly rather than by version number, so one source builds against every Node. They
// are templates so that the branch not taken is never instantiated: its call is
// deprecated (V8 14) or does not exist (V8 before 14).
constexpr uint16_t kAsyncWaitStateTag = 1;
constexpr uint16_t kDoorbellStateTag = 2;

template <typename External = v8::External>
v8::Local<v8::Value> WrapState(v8::Isolate* isolate, void* state, uint16_t tag) {
  if constexpr (requires { External::New(isolate, state, tag); }) {
    return External::New(isolate, state, tag);
  } else {
    return External::New(isolate, state);
  }
}

// `data` must be a WrapState value made with the same tag.
template <typename External = v8::External>
void* UnwrapState(v8::Local<v8::Value> data, uint16_t tag) {
  v8::Local<External> external = data.As<External>();
  if constexpr (requires { external->Value(tag); }) {
    return external->Value(tag);
  } else {
    return external->Value();
  }
}

}  // namespace interproc
