// Shared memory, FIFOs and thread identity: thin wrappers over the syscalls.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common.h"

namespace interproc {

namespace {

constexpr int64_t kMaxFd = 0x7fffffff;
constexpr int64_t kMaxMode = 07777;
// Largest mapping handed to JavaScript: V8 caps a SharedArrayBuffer well below 2^53.
constexpr int64_t kMaxMapBytes = int64_t{1} << 46;

// The backing store starts `offset` bytes into the mapping; deleter_data carries the offset
// so that the whole mapping is released.
void UnmapBackingStore(void* data, size_t length, void* deleter_data) {
  uintptr_t offset = reinterpret_cast<uintptr_t>(deleter_data);
  munmap(static_cast<uint8_t*>(data) - offset, length + offset);
}

}  // namespace

// shmOpen(name: string, flags: number, mode: number): fd
void ShmOpen(const Args& args) {
  std::string name;
  int64_t flags, mode;
  if (!ArgString(args, 0, &name) || !ArgInteger(args, 1, 0, 0x7fffffff, &flags) ||
      !ArgInteger(args, 2, 0, kMaxMode, &mode)) {
    return;
  }
  int fd = shm_open(name.c_str(), static_cast<int>(flags) | O_CLOEXEC | O_NOFOLLOW,
                    static_cast<mode_t>(mode));
  if (fd < 0) return ThrowErrno(args.GetIsolate(), "shm_open", errno);
  args.GetReturnValue().Set(fd);
}

// shmUnlink(name: string): void
void ShmUnlink(const Args& args) {
  std::string name;
  if (!ArgString(args, 0, &name)) return;
  if (shm_unlink(name.c_str()) != 0) ThrowErrno(args.GetIsolate(), "shm_unlink", errno);
}

// memfdCreate(name: string): fd — an anonymous file: no name in any directory, gone with
// its last descriptor and mapping.
void MemfdCreate(const Args& args) {
  std::string name;
  if (!ArgString(args, 0, &name)) return;
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return ThrowErrno(args.GetIsolate(), "memfd_create", errno);
  args.GetReturnValue().Set(fd);
}

// ftruncate(fd: number, size: number): void
void Ftruncate(const Args& args) {
  int64_t fd, size;
  if (!ArgInteger(args, 0, 0, kMaxFd, &fd) || !ArgInteger(args, 1, 0, kMaxMapBytes, &size)) return;
  if (ftruncate(static_cast<int>(fd), static_cast<off_t>(size)) != 0) {
    ThrowErrno(args.GetIsolate(), "ftruncate", errno);
  }
}

// fchmod(fd: number, mode: number): void
void Fchmod(const Args& args) {
  int64_t fd, mode;
  if (!ArgInteger(args, 0, 0, kMaxFd, &fd) || !ArgInteger(args, 1, 0, kMaxMode, &mode)) return;
  if (fchmod(static_cast<int>(fd), static_cast<mode_t>(mode)) != 0) {
    ThrowErrno(args.GetIsolate(), "fchmod", errno);
  }
}

// fstat(fd: number): { size, mode, uid, gid }
void Fstat(const Args& args) {
  v8::Isolate* isolate = args.GetIsolate();
  int64_t fd;
  if (!ArgInteger(args, 0, 0, kMaxFd, &fd)) return;
  struct stat st;
  if (fstat(static_cast<int>(fd), &st) != 0) return ThrowErrno(isolate, "fstat", errno);
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Object> result = v8::Object::New(isolate);
  auto set = [&](const char* key, double value) {
    result->Set(context, v8::String::NewFromUtf8(isolate, key).ToLocalChecked(),
                v8::Number::New(isolate, value)).Check();
  };
  set("size", static_cast<double>(st.st_size));
  set("mode", static_cast<double>(st.st_mode));
  set("uid", static_cast<double>(st.st_uid));
  set("gid", static_cast<double>(st.st_gid));
  args.GetReturnValue().Set(result);
}

// allocate(fd: number, offset: number, length: number): void — gives bytes
// [offset, offset + length) of the file real memory now, growing the file if needed. A page
// of a tmpfs file that cannot be allocated when first touched raises SIGBUS and kills the
// process; allocating up front turns that into ENOSPC here.
void Allocate(const Args& args) {
  int64_t fd, offset, length;
  if (!ArgInteger(args, 0, 0, kMaxFd, &fd) || !ArgInteger(args, 1, 0, kMaxMapBytes, &offset) ||
      !ArgInteger(args, 2, 1, kMaxMapBytes, &length)) {
    return;
  }
  int err = posix_fallocate(static_cast<int>(fd), static_cast<off_t>(offset), static_cast<off_t>(length));
  if (err != 0) ThrowErrno(args.GetIsolate(), "fallocate", err);
}

// punchHole(fd: number, offset: number, length: number): void — gives the memory of bytes
// [offset, offset + length) back to the system; the file keeps its size (so no mapping of
// it anywhere can fault with SIGBUS) and the range reads as zeros.
void PunchHole(const Args& args) {
  int64_t fd, offset, length;
  if (!ArgInteger(args, 0, 0, kMaxFd, &fd) || !ArgInteger(args, 1, 0, kMaxMapBytes, &offset) ||
      !ArgInteger(args, 2, 1, kMaxMapBytes, &length)) {
    return;
  }
  if (fallocate(static_cast<int>(fd), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                static_cast<off_t>(offset), static_cast<off_t>(length)) != 0) {
    ThrowErrno(args.GetIsolate(), "fallocate", errno);
  }
}

// mapShared(fd: number, offset: number, length: number): SharedArrayBuffer
// Maps bytes [offset, offset + length) of the file MAP_SHARED. The mapping lives as long
// as the buffer: V8 unmaps it when the last SharedArrayBuffer over it (in any thread) is
// collected, so JavaScript can never touch unmapped memory.
void MapShared(const Args& args) {
  v8::Isolate* isolate = args.GetIsolate();
  int64_t fd, offset, length;
  if (!ArgInteger(args, 0, 0, kMaxFd, &fd) || !ArgInteger(args, 1, 0, kMaxMapBytes, &offset) ||
      !ArgInteger(args, 2, 1, kMaxMapBytes, &length)) {
    return;
  }
  // Touching a page past the end of the file raises SIGBUS, so never map beyond it.
  struct stat st;
  if (fstat(static_cast<int>(fd), &st) != 0) return ThrowErrno(isolate, "fstat", errno);
  if (st.st_size < offset + length) return ThrowErrno(isolate, "mmap", EINVAL);
  // Always writable: JavaScript cannot be stopped from writing to a SharedArrayBuffer, and
  // a write to a read-only mapping would kill the process.
  int protection = PROT_READ | PROT_WRITE;
  size_t total = static_cast<size_t>(offset + length);
  void* base = mmap(nullptr, total, protection, MAP_SHARED, static_cast<int>(fd), 0);
  if (base == MAP_FAILED) return ThrowErrno(isolate, "mmap", errno);
  std::unique_ptr<v8::BackingStore> store = v8::SharedArrayBuffer::NewBackingStore(
      static_cast<uint8_t*>(base) + offset, static_cast<size_t>(length), UnmapBackingStore,
      reinterpret_cast<void*>(static_cast<uintptr_t>(offset)));
  args.GetReturnValue().Set(v8::SharedArrayBuffer::New(isolate, std::move(store)));
}

// sealShrink(fd: number): void — forbids shrinking a memfd from now on, in every process
// that holds it. Shrinking a file under other processes' mappings kills them with SIGBUS
// on their next touch of the lost pages.
void SealShrink(const Args& args) {
  int64_t fd;
  if (!ArgInteger(args, 0, 0, kMaxFd, &fd)) return;
  if (fcntl(static_cast<int>(fd), F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
    ThrowErrno(args.GetIsolate(), "fcntl", errno);
  }
}

// close(fd: number): void — for descriptors the addon opened. (Node's fs.closeSync warns in
// a worker thread about descriptors fs did not open.)
void Close(const Args& args) {
  int64_t fd;
  if (!ArgInteger(args, 0, 0, kMaxFd, &fd)) return;
  if (close(static_cast<int>(fd)) != 0) ThrowErrno(args.GetIsolate(), "close", errno);
}

// mkfifo(path: string, mode: number): void
void Mkfifo(const Args& args) {
  std::string path;
  int64_t mode;
  if (!ArgString(args, 0, &path) || !ArgInteger(args, 1, 0, kMaxMode, &mode)) return;
  if (mkfifo(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    ThrowErrno(args.GetIsolate(), "mkfifo", errno);
  }
}

// gettid(): the kernel's id of the calling thread (equal to the pid on the main thread).
void Gettid(const Args& args) {
  args.GetReturnValue().Set(static_cast<int32_t>(syscall(SYS_gettid)));
}

}  // namespace interproc
