{
  "targets": [
    {
      "target_name": "interproc",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/shm.cc",
        "native/futex.cc",
        "native/async-wait.cc",
        "native/doorbell.cc"
      ],
      "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-cast-function-type", "-fno-exceptions"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20", "-fno-rtti"],
      "libraries": ["-lrt", "-lpthread"],
      # Never unloaded: SharedArrayBuffer deleters are addon code and may run after the
      # environment that loaded the addon (and dlclosed it) is gone. See native/async-wait.cc.
      "ldflags": ["-Wl,-z,nodelete"]
    }
  ]
}
