/*===- brick-artifact-info.c - Show what a Brick artifact holds ------------===
 *
 * Prints an artifact's header, target, section table, tensor table and
 * manifest, so the format can be looked at without a debugger. It links only
 * the runtime and opens with the runtime's own validation, then makes the
 * checks a session makes of the code against the tensor table (the CPU
 * code's brick_tensor_signature read from its ELF symbols, never loaded; a
 * GPU program's signature and launch shapes), so what it refuses the
 * runtime refuses too, with the same one line and exit status 1. The
 * target check is reported but does not stop it: inspecting an AArch64
 * artifact on x86-64 is the point. Opening reads no weight; --verify hashes
 * every weight chunk against WEIGHT_HASHES (artifact_format.h).
 *
 * usage: brick-artifact-info ARTIFACT [--verify] [--ptx FILE]
 *
 * For an NVPTX artifact it also summarises the GPU program (gpu_program.h)
 * and, with --ptx, writes its PTX to FILE ("-" for stdout), which is how CI
 * hands every emitted kernel module to ptxas.
 *
 *===----------------------------------------------------------------------===*/

#include "brick/artifact.h"
#include "code_checks.h"
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
  case BRICK_ARTIFACT_SECTION_WEIGHT_HASHES:
    return "WEIGHT_HASHES";
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
  if (program->block)
    printf("gpu block program: blocks of %" PRId64 " tokens, %" PRIu32
           " launches per block, %" PRIu32 " buffers, %" PRIu32
           " registers\n",
           program->block->block_size, program->block->launch_count,
           program->block->buffer_count, program->block->register_count);
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

static int usage(void) {
  fprintf(stderr,
          "usage: brick-artifact-info ARTIFACT [--verify] [--ptx FILE]\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *path = NULL, *ptx_path = NULL;
  int verify = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--verify") == 0)
      verify = 1;
    else if (strcmp(argv[i], "--ptx") == 0 && i + 1 < argc && !ptx_path)
      ptx_path = argv[++i];
    else if (argv[i][0] != '-' && !path)
      path = argv[i];
    else
      return usage();
  }
  if (!path)
    return usage();
  brick_artifact_open_options_t options = {
      BRICK_ARTIFACT_OPEN_SKIP_TARGET_CHECK |
      (verify ? BRICK_ARTIFACT_OPEN_VERIFY_WEIGHTS : 0)};
  brick_artifact_t *artifact = NULL;
  brick_status_t status = brick_artifact_open(path, &options, &artifact);
  if (status != BRICK_OK) {
    fprintf(stderr, "error: %s\n", brick_artifact_last_error());
    return 1;
  }
  /* The session's checks of the code against the table, before anything
   * is shown as if it were runnable. */
  char error[1024];
  if (brick_check_code_matches_tensors(artifact, error, sizeof(error)) !=
      BRICK_OK) {
    fprintf(stderr, "error: %s: %s\n", path, error);
    brick_artifact_close(artifact);
    return 1;
  }

  const char *triple, *cpu, *features;
  brick_artifact_target(artifact, &triple, &cpu, &features);
  printf("artifact: %s\n", path);
  printf("format version: %d (checksum of all but the weights verified; "
         "the code matches the tensor table)\n",
         BRICK_ARTIFACT_FORMAT_VERSION);
  uint64_t chunks = brick_artifact_weight_chunk_count(artifact);
  if (verify)
    printf("weights: %" PRIu64 " chunks verified\n", chunks);
  else
    printf("weights: %" PRIu64 " chunks, not read (--verify hashes them)\n",
           chunks);
  printf("target: triple %s, cpu %s, features \"%s\"\n", triple,
         cpu[0] ? cpu : "(none)", features);
  int gpu = strncmp(triple, "nvptx64", 7) == 0;
  if (ptx_path && !gpu) {
    fprintf(stderr, "error: %s: not an NVPTX artifact, it has no PTX\n", path);
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
