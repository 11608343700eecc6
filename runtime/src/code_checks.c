/*===- code_checks.c - The CODE section against its ELF and its tensors ----===
 *
 * See code_checks.h. The ELF is read with memcpy, field by field from the
 * structs of <elf.h>, because the section is only 64-byte aligned and a
 * forged header may put its tables at any offset.
 *
 *===----------------------------------------------------------------------===*/

#include "code_checks.h"

#include "brick/decode_abi.h"
#include "error_sink.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether [offset, offset + bytes) lies inside [0, limit). */
static int inside(uint64_t offset, uint64_t bytes, uint64_t limit) {
  return offset <= limit && bytes <= limit - offset;
}

/* Copies out the header of the 64-bit ELF `bytes`; 0 when the `size` bytes
 * are not one (another file, a 32-bit ELF, a cut header). */
static int read_elf_header(const uint8_t *bytes, uint64_t size,
                           Elf64_Ehdr *header) {
  if (size < sizeof(*header) || memcmp(bytes, ELFMAG, SELFMAG) != 0 ||
      bytes[EI_CLASS] != ELFCLASS64)
    return 0;
  memcpy(header, bytes, sizeof(*header));
  return 1;
}

brick_status_t brick_check_code_elf(const void *code, uint64_t size,
                                    char *error, size_t error_size) {
  sink_t sink = {error, error_size};
  const uint8_t *bytes = (const uint8_t *)code;
  Elf64_Ehdr header;
  /* Not an ELF, a 32-bit one or a cut header: dlopen reads these with
   * read(), not through a mapping, and refuses them with its own words. */
  if (!read_elf_header(bytes, size, &header))
    return BRICK_OK;
  if (header.e_phnum &&
      (header.e_phentsize != sizeof(Elf64_Phdr) ||
       !inside(header.e_phoff, (uint64_t)header.e_phnum * sizeof(Elf64_Phdr),
               size)))
    return fail(&sink, BRICK_ERROR_MALFORMED,
                "the code's program header table (%u entries of %u bytes "
                "at %" PRIu64 ") does not fit the CODE section of %" PRIu64
                " bytes (CODE)",
                header.e_phnum, header.e_phentsize, (uint64_t)header.e_phoff,
                size);
  if (header.e_shoff &&
      (header.e_shentsize != sizeof(Elf64_Shdr) ||
       !inside(header.e_shoff,
               (uint64_t)(header.e_shnum ? header.e_shnum : 1) *
                   sizeof(Elf64_Shdr),
               size)))
    return fail(&sink, BRICK_ERROR_MALFORMED,
                "the code's section header table (%u entries of %u bytes "
                "at %" PRIu64 ") does not fit the CODE section of %" PRIu64
                " bytes (CODE)",
                header.e_shnum, header.e_shentsize, (uint64_t)header.e_shoff,
                size);
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment;
    memcpy(&segment, bytes + header.e_phoff + (uint64_t)i * sizeof(segment),
           sizeof(segment));
    /* Every segment with file bytes, not only PT_LOAD: the loader reads
     * PT_DYNAMIC and the notes through the same mapping. */
    if (segment.p_filesz && !inside(segment.p_offset, segment.p_filesz, size))
      return fail(
          &sink, BRICK_ERROR_MALFORMED,
          "the code's segment %u (%" PRIu64 " bytes at %" PRIu64
          ") lies past the end of the CODE section of %" PRIu64 " bytes (CODE)",
          i, (uint64_t)segment.p_filesz, (uint64_t)segment.p_offset, size);
  }
  return BRICK_OK;
}

/* Section header `index` of `bytes` (checked to lie inside by the caller). */
static Elf64_Shdr section_header(const uint8_t *bytes, const Elf64_Ehdr *header,
                                 uint32_t index) {
  Elf64_Shdr section;
  memcpy(&section, bytes + header->e_shoff + (uint64_t)index * sizeof(section),
         sizeof(section));
  return section;
}

brick_status_t brick_find_code_string(const void *code, uint64_t size,
                                      const char *name, const char **out_text,
                                      char *error, size_t error_size) {
  sink_t sink = {error, error_size};
  *out_text = NULL;
  const uint8_t *bytes = (const uint8_t *)code;
  Elf64_Ehdr header;
  if (!read_elf_header(bytes, size, &header))
    return fail(&sink, BRICK_ERROR_MALFORMED,
                "the code is not a 64-bit ELF shared object (CODE)");
  if (header.e_shnum == 0 || header.e_shentsize != sizeof(Elf64_Shdr) ||
      !inside(header.e_shoff, (uint64_t)header.e_shnum * sizeof(Elf64_Shdr),
              size))
    return fail(&sink, BRICK_ERROR_MALFORMED,
                "the code has no section headers to find %s in (CODE)", name);
  size_t name_length = strlen(name);
  for (uint32_t i = 0; i < header.e_shnum; ++i) {
    Elf64_Shdr table = section_header(bytes, &header, i);
    if ((table.sh_type != SHT_DYNSYM && table.sh_type != SHT_SYMTAB) ||
        table.sh_link >= header.e_shnum ||
        !inside(table.sh_offset, table.sh_size, size))
      continue;
    Elf64_Shdr strings = section_header(bytes, &header, table.sh_link);
    if (!inside(strings.sh_offset, strings.sh_size, size))
      continue;
    for (uint64_t k = 0; k < table.sh_size / sizeof(Elf64_Sym); ++k) {
      Elf64_Sym symbol;
      memcpy(&symbol, bytes + table.sh_offset + k * sizeof(symbol),
             sizeof(symbol));
      if (symbol.st_name >= strings.sh_size ||
          strings.sh_size - symbol.st_name <= name_length ||
          memcmp(bytes + strings.sh_offset + symbol.st_name, name,
                 name_length + 1) != 0 ||
          symbol.st_shndx == SHN_UNDEF || symbol.st_shndx >= header.e_shnum)
        continue;
      Elf64_Shdr holder = section_header(bytes, &header, symbol.st_shndx);
      uint64_t at = symbol.st_value - holder.sh_addr;
      if (holder.sh_type == SHT_NOBITS || symbol.st_value < holder.sh_addr ||
          !inside(at, symbol.st_size, holder.sh_size) ||
          !inside(holder.sh_offset, holder.sh_size, size) ||
          symbol.st_size == 0 ||
          bytes[holder.sh_offset + at + symbol.st_size - 1] != '\0')
        return fail(&sink, BRICK_ERROR_MALFORMED,
                    "the code's %s is not a string inside it (CODE)", name);
      *out_text = (const char *)bytes + holder.sh_offset + at;
      return BRICK_OK;
    }
  }
  return fail(&sink, BRICK_ERROR_MALFORMED, "the code has no %s (CODE)", name);
}

/* One field of a signature line: [begin, end). */
typedef struct field_t {
  const char *begin;
  size_t length;
} field_t;

static int field_is(field_t field, const char *text) {
  return strlen(text) == field.length &&
         memcmp(field.begin, text, field.length) == 0;
}

/* `tensor`'s dimensions joined by 'x' ("" for a scalar) into `out`, which
 * holds BRICK_ARTIFACT_MAX_RANK dimensions of 20 digits and a separator. */
static void format_shape(const int64_t *shape, uint32_t rank, char *out,
                         size_t out_size) {
  size_t used = 0;
  out[0] = '\0';
  for (uint32_t d = 0; d < rank && d < BRICK_ARTIFACT_MAX_RANK; ++d)
    used += (size_t)snprintf(out + used, out_size - used, "%s%" PRId64,
                             d ? "x" : "", shape[d]);
}

brick_status_t brick_check_tensor_signature(const brick_artifact_t *artifact,
                                            const char *signature, char *error,
                                            size_t error_size) {
  sink_t sink = {error, error_size};
  uint32_t tensors = brick_artifact_tensor_count(artifact);
  uint32_t lines = 0;
  for (const char *c = signature; *c; ++c)
    lines += *c == '\n';
  if (lines != tensors)
    return fail(&sink, BRICK_ERROR_MALFORMED,
                "the code's tensor signature lists %u tensors, the artifact "
                "has %u (TENSORS)",
                lines, tensors);
  const char *cursor = signature;
  for (uint32_t i = 0; i < tensors; ++i) {
    /* name, dtype, shape, bytes: four tab-separated fields to the newline. */
    field_t fields[4];
    int count = 0;
    const char *begin = cursor;
    for (;; ++cursor) {
      if (*cursor == '\t' || *cursor == '\n') {
        if (count < 4)
          fields[count] = (field_t){begin, (size_t)(cursor - begin)};
        ++count;
        begin = cursor + 1;
        if (*cursor == '\n')
          break;
      }
    }
    ++cursor;
    if (count != 4)
      return fail(&sink, BRICK_ERROR_MALFORMED,
                  "the code's tensor signature has %d fields on line %u, not "
                  "4 (CODE)",
                  count, i + 1);
    brick_artifact_tensor_t tensor;
    brick_artifact_tensor_at(artifact, i, &tensor);
    if (!field_is(fields[0], tensor.name))
      return fail(&sink, BRICK_ERROR_MALFORMED,
                  "tensor %u of the artifact is '%s', the code expects "
                  "'%.*s' (TENSORS[%u].name)",
                  i, tensor.name, (int)fields[0].length, fields[0].begin, i);
    if (!field_is(fields[1], brick_artifact_dtype_name(tensor.dtype)))
      return fail(&sink, BRICK_ERROR_MALFORMED,
                  "tensor '%s' is %s in the artifact, the code expects %.*s "
                  "(TENSORS[%u].dtype)",
                  tensor.name, brick_artifact_dtype_name(tensor.dtype),
                  (int)fields[1].length, fields[1].begin, i);
    char shape[BRICK_ARTIFACT_MAX_RANK * 21 + 1];
    format_shape(tensor.shape, tensor.rank, shape, sizeof(shape));
    if (!field_is(fields[2], shape))
      return fail(&sink, BRICK_ERROR_MALFORMED,
                  "tensor '%s' has shape [%s] in the artifact, the code "
                  "expects [%.*s] (TENSORS[%u].shape)",
                  tensor.name, shape, (int)fields[2].length, fields[2].begin,
                  i);
    char size[24];
    snprintf(size, sizeof(size), "%" PRIu64, tensor.size);
    if (!field_is(fields[3], size))
      return fail(&sink, BRICK_ERROR_MALFORMED,
                  "tensor '%s' has %s bytes in the artifact, the code expects "
                  "%.*s (TENSORS[%u].size)",
                  tensor.name, size, (int)fields[3].length, fields[3].begin, i);
  }
  return BRICK_OK;
}

/* The shape check of one launch list (the step's or the block program's). */
static brick_status_t check_program_shapes(const brick_artifact_t *artifact,
                                           const brick_gpu_program_t *program,
                                           sink_t sink) {
  int64_t *registers =
      (int64_t *)calloc(program->register_count, sizeof(int64_t));
  if (!registers)
    return fail(&sink, BRICK_ERROR_OUT_OF_MEMORY,
                "no memory for the GPU program's registers");
  /* A program whose first step cannot be evaluated fails that step with its
   * own message; weight sizes do not depend on the position. */
  if (brick_gpu_program_evaluate_block(program, 0, 1, registers, NULL, 0) !=
      BRICK_OK) {
    free(registers);
    return BRICK_OK;
  }
  brick_status_t status = BRICK_OK;
  for (uint32_t i = 0; i < program->argument_count && status == BRICK_OK; ++i) {
    const brick_gpu_argument_t *argument = &program->arguments[i];
    if (argument->kind != BRICK_GPU_ARGUMENT_BUFFER ||
        program->buffers[argument->value].kind != BRICK_GPU_BUFFER_TENSOR)
      continue;
    uint32_t index = program->buffers[argument->value].index;
    brick_artifact_tensor_t tensor;
    brick_artifact_tensor_at(artifact, index, &tensor);
    int64_t expected[BRICK_GPU_MAX_RANK];
    /* The kernels read a block-format matrix [rows, cols] as its bytes,
     * [rows, cols / 32, bytes per block] (brick-quantize-weights). */
    int64_t stored[BRICK_ARTIFACT_MAX_RANK + 1];
    uint32_t stored_rank = tensor.rank;
    for (uint32_t d = 0; d < tensor.rank; ++d)
      stored[d] = tensor.shape[d];
    int64_t block_bytes = tensor.dtype == BRICK_ARTIFACT_DTYPE_Q8_0   ? 34
                          : tensor.dtype == BRICK_ARTIFACT_DTYPE_Q4_0 ? 18
                                                                      : 0;
    if (block_bytes && tensor.rank == 2) {
      stored[1] = tensor.shape[1] / 32;
      stored[2] = block_bytes;
      stored_rank = 3;
    }
    int same = argument->rank == stored_rank;
    for (uint32_t d = 0; d < argument->rank && d < BRICK_GPU_MAX_RANK; ++d) {
      expected[d] = registers[argument->sizes[d]];
      same = same && expected[d] == stored[d];
    }
    if (!same) {
      char have[BRICK_ARTIFACT_MAX_RANK * 21 + 1], want[sizeof(have)];
      format_shape(stored, stored_rank, have, sizeof(have));
      format_shape(expected, argument->rank, want, sizeof(want));
      status = fail(&sink, BRICK_ERROR_MALFORMED,
                    "tensor '%s' has shape [%s] in the artifact, the GPU "
                    "program expects [%s] (TENSORS[%u].shape)",
                    tensor.name, have, want, index);
    }
  }
  free(registers);
  return status;
}

brick_status_t brick_check_gpu_tensor_shapes(const brick_artifact_t *artifact,
                                             const brick_gpu_program_t *program,
                                             char *error, size_t error_size) {
  sink_t sink = {error, error_size};
  brick_status_t status = check_program_shapes(artifact, program, sink);
  if (status == BRICK_OK && program->block)
    status = check_program_shapes(artifact, program->block, sink);
  return status;
}

brick_status_t
brick_check_code_matches_tensors(const brick_artifact_t *artifact, char *error,
                                 size_t error_size) {
  const void *code = NULL;
  uint64_t size = 0;
  if (brick_artifact_section(artifact, BRICK_ARTIFACT_SECTION_CODE, &code,
                             &size) != BRICK_OK)
    return BRICK_OK;
  const char *triple = NULL;
  brick_artifact_target(artifact, &triple, NULL, NULL);
  if (strncmp(triple, "nvptx64", 7) != 0) {
    const char *signature = NULL;
    brick_status_t status =
        brick_find_code_string(code, size, BRICK_DECODE_TENSOR_SIGNATURE,
                               &signature, error, error_size);
    if (status != BRICK_OK)
      return status;
    return brick_check_tensor_signature(artifact, signature, error, error_size);
  }
  brick_gpu_program_t *program = NULL;
  brick_status_t status =
      brick_gpu_program_parse(code, size, brick_artifact_tensor_count(artifact),
                              &program, error, error_size);
  if (status == BRICK_OK)
    status = brick_check_tensor_signature(artifact, program->tensor_signature,
                                          error, error_size);
  if (status == BRICK_OK)
    status =
        brick_check_gpu_tensor_shapes(artifact, program, error, error_size);
  brick_gpu_program_free(program);
  return status;
}
