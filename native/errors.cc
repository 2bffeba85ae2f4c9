#include <uv.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "common.h"

namespace interproc {

namespace {

v8::Local<v8::String> Str(v8::Isolate* isolate, const char* text) {
  return v8::String::NewFromUtf8(isolate, text).ToLocalChecked();
}

void ThrowWithCode(v8::Isolate* isolate, v8::Local<v8::Value> error, const char* code) {
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  error.As<v8::Object>()->Set(context, Str(isolate, "code"), Str(isolate, code)).Check();
  isolate->ThrowException(error);
}

}  // namespace

void ThrowErrno(v8::Isolate* isolate, const char* syscall, int err) {
  // uv_err_name takes libuv's negated errno and knows every name Linux uses.
  const char* name = uv_err_name(-err);
  std::string message = std::string(name) + ": " + std::strerror(err) + ", " + syscall;
  v8::Local<v8::Value> error = v8::Exception::Error(Str(isolate, message.c_str()));
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Object> object = error.As<v8::Object>();
  object->Set(context, Str(isolate, "errno"), v8::Integer::New(isolate, -err)).Check();
  object->Set(context, Str(isolate, "syscall"), Str(isolate, syscall)).Check();
  ThrowWithCode(isolate, error, name);
}

void ThrowTypeError(v8::Isolate* isolate, const char* message) {
  ThrowWithCode(isolate, v8::Exception::TypeError(Str(isolate, message)), "ERR_INVALID_ARG_TYPE");
}

void ThrowRangeError(v8::Isolate* isolate, const char* message) {
  ThrowWithCode(isolate, v8::Exception::RangeError(Str(isolate, message)), "ERR_OUT_OF_RANGE");
}

bool ArgNumber(const Args& args, int index, double* out) {
  if (index >= args.Length() || !args[index]->IsNumber()) {
    ThrowTypeError(args.GetIsolate(), "argument must be a number");
    return false;
  }
  *out = args[index].As<v8::Number>()->Value();
  return true;
}

bool ArgInteger(const Args& args, int index, int64_t min, int64_t max, int64_t* out) {
  double value;
  if (!ArgNumber(args, index, &value)) return false;
  // Compare as doubles first so that NaN, infinities and huge values never reach the cast.
  if (!(value >= static_cast<double>(min) && value <= static_cast<double>(max)) ||
      std::trunc(value) != value) {
    ThrowRangeError(args.GetIsolate(), "argument is not an integer in range");
    return false;
  }
  *out = static_cast<int64_t>(value);
  return true;
}

bool ArgString(const Args& args, int index, std::string* out) {
  if (index >= args.Length() || !args[index]->IsString()) {
    ThrowTypeError(args.GetIsolate(), "argument must be a string");
    return false;
  }
  v8::String::Utf8Value text(args.GetIsolate(), args[index]);
  // A NUL inside would silently shorten the path handed to the kernel.
  if (*text == nullptr || std::strlen(*text) != static_cast<size_t>(text.length())) {
    ThrowTypeError(args.GetIsolate(), "string must not contain NUL");
    return false;
  }
  *out = std::string(*text, text.length());
  return true;
}

bool ArgSharedWord(const Args& args, int index, uint32_t** word) {
  if (index >= args.Length() || !args[index]->IsSharedArrayBuffer()) {
    ThrowTypeError(args.GetIsolate(), "argument must be a SharedArrayBuffer");
    return false;
  }
  v8::Local<v8::SharedArrayBuffer> buffer = args[index].As<v8::SharedArrayBuffer>();
  size_t length = buffer->ByteLength();
  int64_t offset;
  if (length < 4 || !ArgInteger(args, index + 1, 0, static_cast<int64_t>(length - 4), &offset)) {
    if (length < 4) ThrowRangeError(args.GetIsolate(), "buffer is shorter than one word");
    return false;
  }
  if (offset % 4 != 0) {
    ThrowRangeError(args.GetIsolate(), "byte offset must be a multiple of 4");
    return false;
  }
  *word = reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(buffer->Data()) + offset);
  // The kernel rejects a futex word that is not 4-aligned in memory (EINVAL), and an
  // asynchronous waiter would retry it forever; a buffer mapped at an odd file offset can
  // have such words even at offsets that are multiples of 4.
  if (reinterpret_cast<uintptr_t>(*word) % 4 != 0) {
    ThrowRangeError(args.GetIsolate(), "word is not 4-byte aligned in memory");
    return false;
  }
  return true;
}

}  // namespace interproc
