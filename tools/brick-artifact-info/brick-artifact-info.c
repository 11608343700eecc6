/*===- brick-artifact-info.c - Show what a Brick artifact holds ------------===
 *
 * Prints an artifact's header, target, section table, tensor table and
 * manifest, so the format can be looked at without a debugger. It links only
 * the runtime and opens with the runtime's own validation, so what it
 * refuses the runtime refuses too. The target check is reported but does not
 * stop it: inspecting an AArch64 artifact on x86-64 is the point.
 *
 * usage: brick-artifact-info ARTIFACT
 *
 *===----------------------------------------------------------------------===*/

#include "brick/artifact.h"

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

int main(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: brick-artifact-info ARTIFACT\n");
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
  if (strncmp(triple, "nvptx64", 7) == 0)
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

  printf("manifest:\n%s\n", brick_artifact_manifest(artifact, NULL));
  brick_artifact_close(artifact);
  return 0;
}
