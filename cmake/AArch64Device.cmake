# The device side (runtime, brick-run, brick-artifact-info) cross-compiled for
# AArch64 into build/aarch64 whenever Debian's g++-aarch64-linux-gnu is
# installed; tests/lit/aarch64 runs it under qemu-aarch64.
include(ExternalProject)
find_program(BRICK_AARCH64_CXX aarch64-linux-gnu-g++)
if(NOT BRICK_AARCH64_CXX)
  message(STATUS "aarch64-linux-gnu-g++ not found: no AArch64 device build")
  return()
endif()
set(BRICK_AARCH64_BINARY_DIR ${CMAKE_BINARY_DIR}/aarch64)
ExternalProject_Add(brick-aarch64-device
  SOURCE_DIR ${CMAKE_SOURCE_DIR}
  BINARY_DIR ${BRICK_AARCH64_BINARY_DIR}
  CMAKE_ARGS
    -DCMAKE_TOOLCHAIN_FILE=${CMAKE_SOURCE_DIR}/cmake/aarch64-linux-gnu.cmake
    -DBRICK_DEVICE_ONLY=ON
    -DCMAKE_BUILD_TYPE=Release
  INSTALL_COMMAND ""
  # Sources change under it; its own Ninja decides what is out of date.
  BUILD_ALWAYS ON)
