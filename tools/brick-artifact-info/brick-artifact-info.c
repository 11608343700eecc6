/*===- brick-artifact-info.c - Show what a Brick artifact holds ------------===
 *
 * Prints an artifact's header, target, section table, tensor table and
 * manifest, so the format can be looked at without a debugger. It links only
 * the runtime and opens with the runtime's own validation, so what it
 * refuses the runtime refuses too. The target check is reported but does not
 * stop it: inspecting an AArch64 artifact on x86-64 is the point.
 *
 * usage: brick-artifact-info ARTIFACT [--ptx FILE]
 *
 * For an NVPTX artifact it also summarises the GPU program (gpu_program.h)
 * and, with --ptx, writes its PTX to FILE ("-" for stdout), which is how CI
 * hands every emitted kernel module to ptxas.
 *
 *===----------------------------------------------------------------------===*/

#include "brick/artifact.h"
#include "gpu_program_reader.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *section_name(uint32_t kind) {
  switch (kind) {
  case BRICK_ARTIFACT_SECTION_MANIFEST:
    return "MANIFEST";
  case BRICK_ARTIFACT_SECTION_TARGET:
    return "TARGET";
  case BRICK_ARTIFACT_SECTION_TENSORS:
    return "TENSORS";
  case BRICK_ARTIFACT_SECTION_WEIGHTS:
    return "WEIGHTS";
  case BRICK_ARTIFACT_SECTION_TOKENIZER:
    return "TOKENIZER";
  case BRICK_ARTIFACT_SECTION_CODE:
    return "CODE";
  }
  return "(unknown)";
}

/* Summarises the GPU program of an NVPTX artifact and writes its PTX to
 * `ptx_path` when given. Returns the exit status. */
static int show_gpu_program(const brick_artifact_t *artifact,
                            const char *ptx_path) {
  const void *code = NULL;
  uint64_t size = 0;
  if (brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_CODE, &code,
                             &size) != BRICK_OK) {
    fprintf(stderr, "error: the artifact has no code (CODE)\n");
    return 1;
  }
  brick_gpu_program_t *program = NULL;
  char error[512];
  if (brick_gpu_program_parse(code, size, brick_artifact_tensor_count(artifact),
                              &program, error, sizeof(error)) != BRICK_OK) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  printf("gpu program: %" PRIu32 " kernels, %" PRIu32
         " launches per step, %" PRIu32 " buffers, %" PRIu32
         " registers, %" PRIu64 " bytes of PTX\n",
         program->kernel_count, program->launch_count, program->buffer_count,
         program->register_count, program->ptx_size - 1);
  int status = 0;
  if (ptx_path) {
    FILE *out = strcmp(ptx_path, "-") == 0 ? stdout : fopen(ptx_path, "wb");
    if (!out || fwrite(program->ptx, 1, program->ptx_size - 1, out) !=
                    program->ptx_size - 1) {
      fprintf(stderr, "error: %s: cannot write the PTX\n", ptx_path);
      status = 1;
    }
    if (out && out != stdout && fclose(out) != 0 && status == 0) {
      fprintf(stderr, "error: %s: cannot write the PTX\n", ptx_path);
      status = 1;
    }
  }
  brick_gpu_program_free(program);
  return status;
}

int main(int argc, char **argv) {
  const char *ptx_path = NULL;
  if (argc == 4 && strcmp(argv[2], "--ptx") == 0)
    ptx_path = argv[3];
  if ((argc != 2 && !ptx_path) || argv[1][0] == '-') {
    fprintf(stderr, "usage: brick-artifact-info ARTIFACT [--ptx FILE]\n");
    return 2;
  }
  brick_artifact_open_options_t options = {
      BRICK_ARTIFACT_OPEN_SKIP_TARGET_CHECK};
  brick_artifact_t *artifact = NULL;
  brick_status_t status = brick_artifact_open(argv[1], &options, &artifact);
  if (status != BRICK_OK) {
    fprintf(stderr, "error: %s\n", brick_artifact_last_error());
    return 1;
  }

  const char *triple, *cpu, *features;
  brick_artifact_target(artifact, &triple, &cpu, &features);
  printf("artifact: %s\n", argv[1]);
  printf("format version: %d (checksum verified)\n",
         BRICK_ARTIFACT_FORMAT_VERSION);
  printf("target: triple %s, cpu %s, features \"%s\"\n", triple,
         cpu[0] ? cpu : "(none)", features);
  int gpu = strncmp(triple, "nvptx64", 7) == 0;
  if (ptx_path && !gpu) {
    fprintf(stderr, "error: %s: not an NVPTX artifact, it has no PTX\n",
            argv[1]);
    brick_artifact_close(artifact);
    return 1;
  }
  if (gpu)
    printf("host: %s, runs it on a CUDA GPU (brick-run --device cuda)\n",
           brick_host_cpu_arch());
  else if (brick_artifact_check_target(artifact) == BRICK_OK)
    printf("host: %s, can run it\n", brick_host_cpu_arch());
  else
    printf("host: %s, cannot run it: %s\n", brick_host_cpu_arch(),
           brick_artifact_last_error());

  uint32_t sections = brick_artifact_section_count(artifact);
  printf("sections: %" PRIu32 "\n", sections);
  for (uint32_t i = 0; i < sections; ++i) {
    brick_artifact_section_info_t info;
    if (brick_artifact_section_at(artifact, i, &info) == BRICK_OK)
      printf("  %-10s kind %" PRIu32 "  offset %12" PRIu64 "  size %12" PRIu64
             "\n",
             section_name(info.kind), info.kind, info.offset, info.size);
  }

  uint32_t tensors = brick_artifact_tensor_count(artifact);
  printf("tensors: %" PRIu32 "\n", tensors);
  for (uint32_t i = 0; i < tensors; ++i) {
    brick_artifact_tensor_t tensor;
    if (brick_artifact_tensor_at(artifact, i, &tensor) != BRICK_OK)
      continue;
    char shape[160] = "[";
    size_t used = 1;
    for (uint32_t d = 0; d < tensor.rank && used < sizeof(shape); ++d)
      used += (size_t)snprintf(shape + used, sizeof(shape) - used, "%s%" PRId64,
                               d ? ", " : "", tensor.shape[d]);
    if (used < sizeof(shape) - 1)
      strcat(shape, "]");
    printf("  %-40s %-5s %-20s offset %12" PRIu64 "  size %12" PRIu64 "\n",
           tensor.name, brick_artifact_dtype_name(tensor.dtype), shape,
           tensor.offset, tensor.size);
  }

  int exit_status = gpu ? show_gpu_program(artifact, ptx_path) : 0;
  printf("manifest:\n%s\n", brick_artifact_manifest(artifact, NULL));
  brick_artifact_close(artifact);
  return exit_status;
}
