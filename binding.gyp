{
  "targets": [
    {
      "target_name": "interproc",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/shm.cc",
        "native/futex.cc",
        "native/async-wait.cc"
      ],
      "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-cast-function-type", "-fno-exceptions"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20", "-fno-rtti"],
      "libraries": ["-lrt", "-lpthread"]
    }
  ]
}
