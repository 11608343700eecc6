# lit configuration of Brick's FileCheck tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Brick"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = config.brick_test_src_root
config.test_exec_root = config.brick_test_obj_root

config.substitutions.append(("%brick_src_root", config.brick_src_root))
config.substitutions.append(("%models", config.brick_models_dir))

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Brick's tools first, then FileCheck, not and count from LLVM.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.brick_tools_dir, config.llvm_tools_dir]
tools = [
    ToolSubst("brick-opt", unresolved="fatal"),
    ToolSubst("brickc", unresolved="fatal"),
    ToolSubst("brick-demo-model", unresolved="fatal"),
    ToolSubst("brick-compare-logits", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# The device tools. scripts/test-sanitized.sh runs brick-run's tests on a
# sanitizer build's (--param brick_device_tools=DIR) and the rest of the
# tools from this build; a test that cannot run under ASan (ulimit -v) says
# UNSUPPORTED: sanitized.
device_tools = lit_config.params.get("brick_device_tools")
if device_tools:
    config.available_features.add("sanitized")
    llvm_config.with_system_environment(["ASAN_OPTIONS", "UBSAN_OPTIONS"])
llvm_config.add_tool_substitutions(
    [
        ToolSubst("brick-run", unresolved="fatal"),
        ToolSubst("brick-artifact-info", unresolved="fatal"),
    ],
    [device_tools] if device_tools else tool_dirs,
)

# Artifacts compiled for AVX512-VNNI (vpdpbusd, the interleaved Q4_0
# kernels) run only on a host that has it; the compile-only checks run
# everywhere.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        host_flags = set(
            next(line for line in cpuinfo if line.startswith("flags"))
            .split(":", 1)[1]
            .split()
        )
except (OSError, StopIteration):
    host_flags = set()
if {"avx512_vnni", "avx512vl", "avx512bw", "f16c"} <= host_flags:
    config.available_features.add("host-avx512vnni")
elif os.environ.get("BRICK_REQUIRE_AVX512VNNI"):
    lit_config.fatal(
        "BRICK_REQUIRE_AVX512VNNI is set but this host lacks AVX512-VNNI: "
        "the Q4_0x16/Q8_0x16 kernels cannot run against the oracle here"
    )
else:
    # Said, not silent: the suite passes, but the interleaved kernels'
    # numbers went unchecked on this host.
    lit_config.note(
        "no AVX512-VNNI on this host: quantized-interleaved-run.test "
        "(Q4_0x16/Q8_0x16 kernels against the oracle) is UNSUPPORTED here"
    )

# The AArch64 device build (cmake/AArch64Device.cmake) under qemu-aarch64:
# %run-aarch64 runs a cross-compiled tool. CI sets BRICK_REQUIRE_AARCH64 so
# the tests cannot be skipped silently there.
import shutil

aarch64_run = os.path.join(config.brick_aarch64_bin, "brick-run")
qemu = shutil.which("qemu-aarch64")
if os.path.exists(aarch64_run) and qemu:
    config.available_features.add("aarch64-device")
    config.substitutions.append(
        ("%run-aarch64", f"{qemu} -L /usr/aarch64-linux-gnu"))
    config.substitutions.append(("%aarch64-bin", config.brick_aarch64_bin))
elif os.environ.get("BRICK_REQUIRE_AARCH64"):
    lit_config.fatal(
        "BRICK_REQUIRE_AARCH64 is set but there is no AArch64 device build "
        f"({aarch64_run}) or no qemu-aarch64: install g++-aarch64-linux-gnu "
        "and qemu-user and rebuild")

# NVPTX: brickc links the kernels against CUDA's libdevice, and the tests
# hand every emitted PTX module to ptxas; both come with the CUDA toolkit
# (CUDA_PATH, default /usr/local/cuda). CI sets BRICK_REQUIRE_CUDA_TOOLKIT
# so those checks cannot be skipped there.
cuda_path = os.environ.get("CUDA_PATH", "/usr/local/cuda")
ptxas = os.path.join(cuda_path, "bin", "ptxas")
libdevice = os.path.join(cuda_path, "nvvm", "libdevice", "libdevice.10.bc")
if os.path.exists(ptxas) and os.path.exists(libdevice):
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%ptxas", ptxas))
    config.substitutions.append(("%cuda_path", cuda_path))
elif os.environ.get("BRICK_REQUIRE_CUDA_TOOLKIT"):
    lit_config.fatal(
        "BRICK_REQUIRE_CUDA_TOOLKIT is set but there is no ptxas or libdevice "
        f"under {cuda_path}: install the CUDA toolkit or set CUDA_PATH")
# The driver stub of the toolkit, a driver that cannot start; part of the
# toolkit CI requires.
stub = os.path.join(cuda_path, "lib64", "stubs", "libcuda.so")
if os.path.exists(stub):
    config.available_features.add("cuda-stub")
    config.substitutions.append(("%cuda_stub", stub))
elif os.environ.get("BRICK_REQUIRE_CUDA_TOOLKIT"):
    lit_config.fatal(
        f"BRICK_REQUIRE_CUDA_TOOLKIT is set but {stub} is missing: the "
        "no-driver test needs the toolkit's stub driver")
# A machine with an NVIDIA driver runs --device cuda for real, so the
# no-driver checks do not apply there.
import ctypes

try:
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
config.substitutions.append(
    ("%cuda_emulator",
     os.path.join(config.brick_obj_root, "lib", "libbrick_cuda_emulator.so")))
