// RUN: brick-opt %s --split-input-file --brick-gpu-merge-kernels --verify-diagnostics | FileCheck %s

// Test: the kernels of the outlined modules move into @brick_kernels, each
// named after its module, and the launches follow.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @brick_kernels
// CHECK: gpu.func @step_kernel() kernel
// CHECK: gpu.func @step_kernel_0() kernel
// CHECK-NOT: gpu.module
// CHECK: gpu.launch_func @brick_kernels::@step_kernel
// CHECK: gpu.launch_func @brick_kernels::@step_kernel_0
module attributes {gpu.container_module} {
  gpu.module @step_kernel {
    gpu.func @step_kernel() kernel {
      gpu.return
    }
  }
  gpu.module @step_kernel_0 {
    gpu.func @step_kernel() kernel {
      gpu.return
    }
  }
  func.func @step() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @step_kernel::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    gpu.launch_func @step_kernel_0::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
}

// -----

// Test: a step without kernels has nothing to run on the GPU.
// expected-error @+1 {{brick-gpu-merge-kernels: the step has no kernels}}
module {
  func.func @step() {
    return
  }
}
