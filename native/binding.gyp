# The tsgrad native addon: Node-API (node-addon-api) over the system oneDNN, built from source by
# native/build.js, which passes the oneDNN include and library directories it found.
{
  "variables": {
    "dnnl_include%": "",
    "dnnl_lib%": "/usr/lib",
  },
  "targets": [
    {
      "target_name": "tsgrad_native",
      "sources": [
        "src/addon.cc",
        "src/loops.cc",
        "src/dnnl_ops.cc",
        "src/fused.cc",
        "src/optim.cc",
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
      ],
      "conditions": [["dnnl_include!=''", { "include_dirs": ["<(dnnl_include)"] }]],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-O2", "-O0"],
      # -O3 and OpenMP, but no -march: the build must run on any x86-64 (or arm64) CPU. oneDNN
      # JIT-compiles its own kernels for the CPU it finds; our loops use `omp simd` and
      # function multiversioning (target_clones) for the few that matter. -fno-trapping-math: the
      # addon never unmasks floating-point exceptions, and without it GCC will not vectorise a
      # select whose untaken side could trap (mathf.h's log and exp).
      "cflags": ["-O3", "-fopenmp", "-fno-math-errno", "-fno-trapping-math"],
      "cflags_cc": [
        "-O3",
        "-std=c++17",
        "-fexceptions",
        "-frtti",
        "-fopenmp",
        "-fno-math-errno",
        "-fno-trapping-math",
      ],
      "libraries": ["-L<(dnnl_lib)", "-Wl,-rpath,<(dnnl_lib)", "-ldnnl", "-fopenmp"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-Xpreprocessor", "-fopenmp"],
      },
    }
  ],
}
