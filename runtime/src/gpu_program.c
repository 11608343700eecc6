/*===- gpu_program.c - Validating and evaluating a GPU program -------------===
 *
 * The CODE section of an nvptx64 artifact is data the runtime replays, not
 * code it calls, so every index in it is checked here once: after
 * brick_gpu_program_parse succeeds, the CUDA backend indexes registers,
 * buffers, kernels and arguments without further checks. Like artifact.c,
 * the parser trusts nothing (offsets and counts are checked with
 * overflow-safe arithmetic; tables are copied out with memcpy, as the
 * section may sit at any alignment) and fails with one message naming the
 * field. The scalar evaluator does its arithmetic in uint64_t, so wrapping
 * is defined, and refuses the divisions C leaves undefined.
 *
 *===----------------------------------------------------------------------===*/

#include "error_sink.h"
#include "gpu_program_reader.h"

#include "brick/decode_abi.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GPU program layout is little-endian; add byte swapping here"
#endif

/*===--- Parsing ----------------------------------------------------------===*/

static const char *opcode_name(uint32_t opcode) {
  static const char *const names[] = {
      NULL,    "const", "add",        "sub",         "mul",   "div_s", "div_u",
      "rem_s", "rem_u", "ceil_div_s", "floor_div_s", "min_s", "max_s", "min_u",
      "max_u", "cmp",   "select",     "and",         "or",    "xor"};
  return opcode >= 1 && opcode <= BRICK_GPU_OP_XOR ? names[opcode] : "?";
}

/* How many of the operands a, b, c an opcode reads. */
static int opcode_operands(uint32_t opcode) {
  switch (opcode) {
  case BRICK_GPU_OP_CONST:
    return 0;
  case BRICK_GPU_OP_SELECT:
    return 3;
  default:
    return 2;
  }
}

static const char *buffer_kind_name(uint32_t kind) {
  static const char *const names[] = {NULL,    "TOKEN",  "CACHE",  "TENSOR",
                                      "TRACE", "LOGITS", "SCRATCH"};
  return kind >= 1 && kind <= BRICK_GPU_BUFFER_SCRATCH ? names[kind] : "?";
}

/* The parse state: the bytes, the program being filled and the registers
 * some instruction writes (register 0, the position, counts as written). */
typedef struct reader_t {
  const uint8_t *bytes;
  uint64_t size;
  brick_gpu_program_header_t header;
  brick_gpu_program_t *program;
  uint8_t *written;
  sink_t sink;
} reader_t;

/* Checks that a table of `count` elements of `element` bytes at `offset`
 * lies inside the program, after the header and 8-byte aligned. */
static brick_status_t check_table(reader_t *r, const char *what,
                                  uint64_t offset, uint64_t count,
                                  uint64_t element) {
  if (offset % 8 != 0)
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: the %s at offset %llu are not 8-byte aligned "
                "(CODE)",
                what, (unsigned long long)offset);
  if (element && count > UINT64_MAX / element)
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: %llu %s overflow the program's size (CODE)",
                (unsigned long long)count, what);
  uint64_t bytes = count * element;
  if (offset > r->size || bytes > r->size - offset)
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: the %s (%llu bytes at offset %llu) run past the "
                "end of the %llu-byte program (CODE)",
                what, (unsigned long long)bytes, (unsigned long long)offset,
                (unsigned long long)r->size);
  if (bytes && offset < sizeof(brick_gpu_program_header_t))
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: the %s at offset %llu overlap the header (CODE)",
                what, (unsigned long long)offset);
  return BRICK_OK;
}

/* Copies a checked table out of the bytes; NULL only when out of memory. */
static void *copy_table(reader_t *r, uint64_t offset, uint64_t count,
                        size_t element) {
  void *table = malloc(count ? (size_t)count * element : 1);
  if (table && count)
    memcpy(table, r->bytes + offset, (size_t)count * element);
  return table;
}

/* Checks that `index` names a register that the scalar program defines (an
 * undefined register's value would be meaningless). */
static brick_status_t check_register(reader_t *r, const char *owner,
                                     uint32_t owner_index, const char *field,
                                     uint32_t index) {
  if (index >= r->program->register_count)
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: %s %u reads register %u (%s) past %u registers "
                "(CODE)",
                owner, owner_index, index, field, r->program->register_count);
  /* Instructions are checked in order, so for them `written` holds the
   * registers written before; for everything else, by any instruction. */
  if (!r->written[index])
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: %s %u reads register %u (%s), which no %s "
                "writes (CODE)",
                owner, owner_index, index, field,
                strcmp(owner, "instruction") == 0 ? "earlier instruction"
                                                  : "instruction");
  return BRICK_OK;
}

static brick_status_t check_info(reader_t *r, uint32_t tensor_count) {
  const int64_t *info = r->program->info;
  static const char *const names[BRICK_DECODE_INFO_COUNT] = {
      "vocab",   "max_seq",    "cache floats",
      "tensors", "trace rows", "trace columns"};
  for (int i = 0; i < BRICK_DECODE_INFO_COUNT; ++i) {
    int positive =
        i == BRICK_DECODE_INFO_VOCAB || i == BRICK_DECODE_INFO_MAX_SEQ;
    if (positive ? info[i] <= 0 : info[i] < 0)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: info %s is %lld, must be %s (CODE)", names[i],
                  (long long)info[i], positive ? "positive" : "non-negative");
  }
  for (int i = BRICK_DECODE_INFO_COUNT; i < BRICK_GPU_INFO_SLOTS; ++i)
    if (info[i] != 0)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: unused info slot %d is %lld, must be 0 (CODE)",
                  i, (long long)info[i]);
  if (info[BRICK_DECODE_INFO_TENSORS] != (int64_t)tensor_count)
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: expects %lld tensors, the artifact has %u "
                "(TENSORS)",
                (long long)info[BRICK_DECODE_INFO_TENSORS], tensor_count);
  /* The backend allocates these as float arrays: their byte sizes must be
   * representable (a hostile program could ask for 2^62 floats). */
  const int64_t limit = INT64_MAX / 8;
  int64_t rows = info[BRICK_DECODE_INFO_TRACE_ROWS];
  int64_t columns = info[BRICK_DECODE_INFO_TRACE_COLUMNS];
  if (info[BRICK_DECODE_INFO_VOCAB] > limit ||
      info[BRICK_DECODE_INFO_CACHE_FLOATS] > limit ||
      (columns && rows > limit / columns) ||
      (uint64_t)info[BRICK_DECODE_INFO_VOCAB] > SIZE_MAX / 8 ||
      (uint64_t)info[BRICK_DECODE_INFO_CACHE_FLOATS] > SIZE_MAX / 8 ||
      (uint64_t)(rows * columns) > SIZE_MAX / 8)
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: info sizes (vocab %lld, cache floats %lld, trace "
                "%lld x %lld) are too large (CODE)",
                (long long)info[BRICK_DECODE_INFO_VOCAB],
                (long long)info[BRICK_DECODE_INFO_CACHE_FLOATS],
                (long long)rows, (long long)columns);
  return BRICK_OK;
}

static brick_status_t check_instructions(reader_t *r) {
  brick_gpu_program_t *p = r->program;
  for (uint32_t i = 0; i < p->instruction_count; ++i) {
    const brick_gpu_instruction_t *in = &p->instructions[i];
    if (in->opcode < BRICK_GPU_OP_CONST || in->opcode > BRICK_GPU_OP_XOR)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: instruction %u has unknown opcode %u (CODE)", i,
                  in->opcode);
    if (in->reserved != 0)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: instruction %u has reserved field %u, must "
                  "be 0 (CODE)",
                  i, in->reserved);
    if (in->opcode == BRICK_GPU_OP_CMP &&
        (in->immediate < BRICK_GPU_CMP_EQ || in->immediate > BRICK_GPU_CMP_UGE))
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: instruction %u (cmp) has unknown predicate "
                  "%lld (CODE)",
                  i, (long long)in->immediate);
    const uint32_t operands[3] = {in->a, in->b, in->c};
    static const char *const names[3] = {"a", "b", "c"};
    int used = opcode_operands(in->opcode);
    for (int k = 0; k < 3; ++k) {
      if (k >= used) {
        if (operands[k] != 0)
          return fail(&r->sink, BRICK_ERROR_MALFORMED,
                      "GPU program: instruction %u (%s) has unused operand "
                      "%s = %u, must be 0 (CODE)",
                      i, opcode_name(in->opcode), names[k], operands[k]);
        continue;
      }
      brick_status_t status =
          check_register(r, "instruction", i, names[k], operands[k]);
      if (status != BRICK_OK)
        return status;
    }
    if (in->result == 0)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: instruction %u (%s) writes register 0, the "
                  "position (CODE)",
                  i, opcode_name(in->opcode));
    if (in->result == 1 && p->block_size)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: instruction %u (%s) writes register 1, the "
                  "block's token count (CODE)",
                  i, opcode_name(in->opcode));
    if (in->result >= p->register_count)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: instruction %u (%s) writes register %u past "
                  "%u registers (CODE)",
                  i, opcode_name(in->opcode), in->result, p->register_count);
    r->written[in->result] = 1;
  }
  return BRICK_OK;
}

static brick_status_t check_buffers(reader_t *r) {
  brick_gpu_program_t *p = r->program;
  int seen[BRICK_GPU_BUFFER_SCRATCH + 1] = {0};
  for (uint32_t i = 0; i < p->buffer_count; ++i) {
    const brick_gpu_buffer_t *b = &p->buffers[i];
    if (b->kind < BRICK_GPU_BUFFER_TOKEN || b->kind > BRICK_GPU_BUFFER_SCRATCH)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: buffer %u has unknown kind %u (CODE)", i,
                  b->kind);
    if (b->reserved != 0)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: buffer %u has reserved field %u, must be 0 "
                  "(CODE)",
                  i, b->reserved);
    /* One token, cache, trace and logits per step: a second would be a
     * separate allocation the step's other kernels never see. */
    if (b->kind != BRICK_GPU_BUFFER_TENSOR &&
        b->kind != BRICK_GPU_BUFFER_SCRATCH && seen[b->kind]++)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: buffer %u is a second %s buffer (CODE)", i,
                  buffer_kind_name(b->kind));
    if (b->kind == BRICK_GPU_BUFFER_TENSOR) {
      if ((int64_t)b->index >= p->info[BRICK_DECODE_INFO_TENSORS])
        return fail(&r->sink, BRICK_ERROR_MALFORMED,
                    "GPU program: buffer %u names tensor %u past %lld "
                    "tensors (CODE)",
                    i, b->index, (long long)p->info[BRICK_DECODE_INFO_TENSORS]);
    } else if (b->index != 0) {
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: buffer %u (%s) has index %u, must be 0 (CODE)",
                  i, buffer_kind_name(b->kind), b->index);
    }
    if (b->kind == BRICK_GPU_BUFFER_SCRATCH) {
      brick_status_t status =
          check_register(r, "buffer", i, "bytes", b->bytes_register);
      if (status != BRICK_OK)
        return status;
    } else if (b->bytes_register != 0) {
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: buffer %u (%s) has bytes register %u, must "
                  "be 0 (CODE)",
                  i, buffer_kind_name(b->kind), b->bytes_register);
    }
  }
  if (!seen[BRICK_GPU_BUFFER_LOGITS])
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: no LOGITS buffer (CODE)");
  return BRICK_OK;
}

static brick_status_t check_kernels(reader_t *r) {
  brick_gpu_program_t *p = r->program;
  const char *strings = (const char *)r->bytes + r->header.strings_offset;
  uint64_t strings_size = r->header.strings_size;
  for (uint32_t i = 0; i < p->kernel_count; ++i) {
    const brick_gpu_kernel_t *k = &p->kernels[i];
    uint64_t end = (uint64_t)k->name_offset + k->name_length;
    if (end >= strings_size)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: kernel %u's name (%u bytes at %u) runs past "
                  "the %llu bytes of strings (CODE)",
                  i, k->name_length, k->name_offset,
                  (unsigned long long)strings_size);
    const char *name = strings + k->name_offset;
    if (name[k->name_length] != '\0' ||
        memchr(name, '\0', k->name_length) != NULL)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: kernel %u's name (%u bytes at %u) is not "
                  "NUL-terminated at its length (CODE)",
                  i, k->name_length, k->name_offset);
    if (k->name_length == 0)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: kernel %u has an empty name (CODE)", i);
    p->kernel_names[i] = name;
  }
  return BRICK_OK;
}

static brick_status_t check_arguments(reader_t *r) {
  brick_gpu_program_t *p = r->program;
  for (uint32_t i = 0; i < p->argument_count; ++i) {
    const brick_gpu_argument_t *a = &p->arguments[i];
    if (a->reserved != 0)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: argument %u has reserved field %u, must be 0 "
                  "(CODE)",
                  i, a->reserved);
    uint32_t rank = 0;
    switch (a->kind) {
    case BRICK_GPU_ARGUMENT_BUFFER:
      if (a->value >= p->buffer_count)
        return fail(&r->sink, BRICK_ERROR_MALFORMED,
                    "GPU program: argument %u names buffer %u past %u "
                    "buffers (CODE)",
                    i, a->value, p->buffer_count);
      if (a->rank > BRICK_GPU_MAX_RANK)
        return fail(&r->sink, BRICK_ERROR_MALFORMED,
                    "GPU program: argument %u has rank %u, more than %d "
                    "(CODE)",
                    i, a->rank, BRICK_GPU_MAX_RANK);
      rank = a->rank;
      for (uint32_t d = 0; d < rank; ++d) {
        brick_status_t status =
            check_register(r, "argument", i, "size", a->sizes[d]);
        if (status != BRICK_OK)
          return status;
      }
      break;
    case BRICK_GPU_ARGUMENT_I64:
    case BRICK_GPU_ARGUMENT_I32: {
      if (a->rank != 0)
        return fail(&r->sink, BRICK_ERROR_MALFORMED,
                    "GPU program: scalar argument %u has rank %u, must be 0 "
                    "(CODE)",
                    i, a->rank);
      brick_status_t status =
          check_register(r, "argument", i, "value", a->value);
      if (status != BRICK_OK)
        return status;
      break;
    }
    default:
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: argument %u has unknown kind %u (CODE)", i,
                  a->kind);
    }
    for (uint32_t d = rank; d < BRICK_GPU_MAX_RANK; ++d)
      if (a->sizes[d] != 0)
        return fail(&r->sink, BRICK_ERROR_MALFORMED,
                    "GPU program: argument %u has size register %u in unused "
                    "dimension %u, must be 0 (CODE)",
                    i, a->sizes[d], d);
  }
  return BRICK_OK;
}

static brick_status_t check_launches(reader_t *r) {
  brick_gpu_program_t *p = r->program;
  static const char *const axes[3] = {"x", "y", "z"};
  for (uint32_t i = 0; i < p->launch_count; ++i) {
    const brick_gpu_launch_t *l = &p->launches[i];
    if (l->kernel >= p->kernel_count)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: launch %u names kernel %u past %u kernels "
                  "(CODE)",
                  i, l->kernel, p->kernel_count);
    for (int k = 0; k < 3; ++k) {
      char field[16];
      snprintf(field, sizeof(field), "grid %s", axes[k]);
      brick_status_t status = check_register(r, "launch", i, field, l->grid[k]);
      if (status != BRICK_OK)
        return status;
      snprintf(field, sizeof(field), "block %s", axes[k]);
      status = check_register(r, "launch", i, field, l->block[k]);
      if (status != BRICK_OK)
        return status;
    }
    uint64_t end = (uint64_t)l->first_argument + l->argument_count;
    if (end > p->argument_count)
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: launch %u names argument range %u..%llu past "
                  "%u arguments (CODE)",
                  i, l->first_argument, (unsigned long long)end,
                  p->argument_count);
    for (int k = 0; k < 3; ++k)
      if (l->reserved[k] != 0)
        return fail(&r->sink, BRICK_ERROR_MALFORMED,
                    "GPU program: launch %u has reserved field %u, must be 0 "
                    "(CODE)",
                    i, l->reserved[k]);
    uint32_t parameters = 0;
    for (uint32_t k = 0; k < l->argument_count; ++k) {
      const brick_gpu_argument_t *a = &p->arguments[l->first_argument + k];
      parameters += a->kind == BRICK_GPU_ARGUMENT_BUFFER ? 3 + 2 * a->rank : 1;
      /* CUDA caps a kernel's parameters at 32 KiB (4 KiB before Volta); a
       * launch past that is refused here rather than by the driver. */
      if (parameters > 4096)
        return fail(&r->sink, BRICK_ERROR_MALFORMED,
                    "GPU program: launch %u passes more than 4096 kernel "
                    "parameters (CODE)",
                    i);
    }
    p->launch_parameters[i] = parameters;
    if (parameters > p->max_launch_parameters)
      p->max_launch_parameters = parameters;
  }
  return BRICK_OK;
}

static brick_status_t check_text(reader_t *r, const char *what, uint64_t offset,
                                 uint64_t size) {
  brick_status_t status = check_table(r, what, offset, size, 1);
  if (status != BRICK_OK)
    return status;
  if (size == 0 || r->bytes[offset + size - 1] != '\0')
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: the %s (%llu bytes) do not end in a NUL (CODE)",
                what, (unsigned long long)size);
  return BRICK_OK;
}

static brick_status_t parse(reader_t *r, uint32_t tensor_count,
                            int nested);

/* Parses the block program nested in the one `r` read (gpu_program.h). */
static brick_status_t parse_block(reader_t *r, uint32_t tensor_count) {
  const brick_gpu_program_header_t *h = &r->header;
  brick_status_t status = check_table(r, "block program",
                                      h->block_program_offset,
                                      h->block_program_size, 1);
  if (status != BRICK_OK)
    return status;
  reader_t nested = {.bytes = r->bytes + h->block_program_offset,
                     .size = h->block_program_size,
                     .sink = r->sink};
  if (!(nested.program = calloc(1, sizeof(*nested.program))))
    return fail(&r->sink, BRICK_ERROR_OUT_OF_MEMORY,
                "GPU program: no memory (CODE)");
  status = parse(&nested, tensor_count, 1);
  free(nested.written);
  if (status != BRICK_OK) {
    brick_gpu_program_free(nested.program);
    return status;
  }
  r->program->block = nested.program;
  return BRICK_OK;
}

static brick_status_t parse(reader_t *r, uint32_t tensor_count, int nested) {
  brick_gpu_program_header_t *h = &r->header;
  if (r->size < sizeof(*h))
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: %llu bytes, shorter than its %zu-byte header "
                "(CODE)",
                (unsigned long long)r->size, sizeof(*h));
  memcpy(h, r->bytes, sizeof(*h));
  if (memcmp(h->magic, BRICK_GPU_PROGRAM_MAGIC, BRICK_GPU_PROGRAM_MAGIC_SIZE))
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: bad magic, not a " BRICK_GPU_PROGRAM_MAGIC
                " program (CODE)");
  if (h->abi_version != BRICK_DECODE_ABI_VERSION)
    return fail(&r->sink, BRICK_ERROR_VERSION_MISMATCH,
                "the GPU program was generated for decode ABI %u, this "
                "runtime runs %d; recompile the artifact (CODE)",
                h->abi_version, BRICK_DECODE_ABI_VERSION);
  if (h->header_size != sizeof(*h))
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: header size %u, expected %zu; recompile the "
                "artifact (CODE)",
                h->header_size, sizeof(*h));
  /* The outer program is the one-token step; only it nests a block
   * program, and a block program runs 1 to B tokens. */
  if (nested ? h->block_size < 1 || h->block_size > BRICK_GPU_MAX_BLOCK_SIZE
             : h->block_size != 0)
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: %s program has block size %lld, must be %s "
                "(CODE)",
                nested ? "the block" : "the one-token",
                (long long)h->block_size, nested ? "1 to 65536" : "0");
  if (nested && (h->block_program_offset || h->block_program_size))
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: the block program nests another (CODE)");
  brick_gpu_program_t *p = r->program;
  p->block_size = h->block_size;
  memcpy(p->info, h->info, sizeof(p->info));
  brick_status_t status = check_info(r, tensor_count);
  if (status != BRICK_OK)
    return status;
  if (h->register_count < (nested ? 2u : 1u))
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: register count %u, register 0 is the position "
                "%s(CODE)",
                h->register_count, nested ? "and 1 the token count " : "");
  /* Registers are host memory (8 bytes each, per session). A program
   * cannot write more registers than it has instructions, let alone bytes,
   * so a larger count is corruption, refused before it is allocated. */
  if (h->register_count > r->size)
    return fail(&r->sink, BRICK_ERROR_MALFORMED,
                "GPU program: register count %u is more than the program's "
                "%llu bytes can use (CODE)",
                h->register_count, (unsigned long long)r->size);

  struct {
    const char *what;
    uint64_t offset, count, element;
  } tables[] = {
      {"instructions", h->instructions_offset, h->instruction_count,
       sizeof(brick_gpu_instruction_t)},
      {"buffers", h->buffers_offset, h->buffer_count,
       sizeof(brick_gpu_buffer_t)},
      {"kernels", h->kernels_offset, h->kernel_count,
       sizeof(brick_gpu_kernel_t)},
      {"launches", h->launches_offset, h->launch_count,
       sizeof(brick_gpu_launch_t)},
      {"arguments", h->arguments_offset, h->argument_count,
       sizeof(brick_gpu_argument_t)},
      {"read fractions", h->read_fraction_offset,
       (uint64_t)p->info[BRICK_DECODE_INFO_TENSORS], sizeof(double)},
  };
  for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); ++i)
    if ((status = check_table(r, tables[i].what, tables[i].offset,
                              tables[i].count, tables[i].element)) != BRICK_OK)
      return status;
  if ((status = check_table(r, "kernel names", h->strings_offset,
                            h->strings_size, 1)) != BRICK_OK ||
      (status = check_text(r, "trace columns", h->trace_columns_offset,
                           h->trace_columns_size)) != BRICK_OK ||
      (status = check_text(r, "PTX", h->ptx_offset, h->ptx_size)) != BRICK_OK ||
      (status = check_text(r, "tensor signature", h->tensor_signature_offset,
                           h->tensor_signature_size)) != BRICK_OK)
    return status;

  p->register_count = h->register_count;
  p->instruction_count = h->instruction_count;
  p->buffer_count = h->buffer_count;
  p->kernel_count = h->kernel_count;
  p->launch_count = h->launch_count;
  p->argument_count = h->argument_count;
  uint64_t tensors = (uint64_t)p->info[BRICK_DECODE_INFO_TENSORS];
  p->instructions = copy_table(r, h->instructions_offset, h->instruction_count,
                               sizeof(brick_gpu_instruction_t));
  p->buffers = copy_table(r, h->buffers_offset, h->buffer_count,
                          sizeof(brick_gpu_buffer_t));
  p->kernels = copy_table(r, h->kernels_offset, h->kernel_count,
                          sizeof(brick_gpu_kernel_t));
  p->launches = copy_table(r, h->launches_offset, h->launch_count,
                           sizeof(brick_gpu_launch_t));
  p->arguments = copy_table(r, h->arguments_offset, h->argument_count,
                            sizeof(brick_gpu_argument_t));
  p->read_fraction =
      copy_table(r, h->read_fraction_offset, tensors, sizeof(double));
  p->kernel_names =
      calloc(p->kernel_count ? p->kernel_count : 1, sizeof(const char *));
  p->launch_parameters =
      calloc(p->launch_count ? p->launch_count : 1, sizeof(uint32_t));
  r->written = calloc(p->register_count, 1);
  if (!p->instructions || !p->buffers || !p->kernels || !p->launches ||
      !p->arguments || !p->read_fraction || !p->kernel_names ||
      !p->launch_parameters || !r->written)
    return fail(&r->sink, BRICK_ERROR_OUT_OF_MEMORY,
                "GPU program: no memory for its tables (CODE)");
  r->written[0] = 1;
  if (nested)
    r->written[1] = 1;

  for (uint64_t i = 0; i < tensors; ++i) {
    double f = p->read_fraction[i];
    if (!(f >= 0.0 && f <= 1.0))
      return fail(&r->sink, BRICK_ERROR_MALFORMED,
                  "GPU program: read fraction %llu is %g, outside [0, 1] "
                  "(CODE)",
                  (unsigned long long)i, f);
  }
  if ((status = check_instructions(r)) != BRICK_OK ||
      (status = check_buffers(r)) != BRICK_OK ||
      (status = check_kernels(r)) != BRICK_OK ||
      (status = check_arguments(r)) != BRICK_OK ||
      (status = check_launches(r)) != BRICK_OK)
    return status;
  p->trace_columns = (const char *)r->bytes + h->trace_columns_offset;
  p->tensor_signature = (const char *)r->bytes + h->tensor_signature_offset;
  p->ptx = (const char *)r->bytes + h->ptx_offset;
  p->ptx_size = h->ptx_size;
  if (h->block_program_size)
    return parse_block(r, tensor_count);
  return BRICK_OK;
}

brick_status_t brick_gpu_program_parse(const void *bytes, uint64_t size,
                                       uint32_t tensor_count,
                                       brick_gpu_program_t **out_program,
                                       char *error, size_t error_size) {
  sink_t sink = {error, error_size};
  if (!out_program)
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT,
                "GPU program: out_program is NULL");
  *out_program = NULL;
  if (!bytes && size)
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT,
                "GPU program: bytes is NULL");
  reader_t r = {.bytes = bytes, .size = size, .sink = sink};
  if (!(r.program = calloc(1, sizeof(*r.program))))
    return fail(&sink, BRICK_ERROR_OUT_OF_MEMORY,
                "GPU program: no memory (CODE)");
  brick_status_t status = parse(&r, tensor_count, 0);
  free(r.written);
  if (status != BRICK_OK) {
    brick_gpu_program_free(r.program);
    return status;
  }
  *out_program = r.program;
  return BRICK_OK;
}

void brick_gpu_program_free(brick_gpu_program_t *program) {
  if (!program)
    return;
  free(program->instructions);
  free(program->buffers);
  free(program->kernels);
  free(program->launches);
  free(program->arguments);
  free(program->read_fraction);
  free(program->kernel_names);
  free(program->launch_parameters);
  brick_gpu_program_free(program->block);
  free(program);
}

/*===--- Evaluation -------------------------------------------------------===*/

/* uint64_t to int64_t by two's complement, without relying on the
 * implementation-defined conversion. */
static int64_t to_signed(uint64_t value) {
  int64_t result;
  memcpy(&result, &value, sizeof(result));
  return result;
}

static int compare(int64_t predicate, int64_t a, int64_t b) {
  uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
  switch (predicate) {
  case BRICK_GPU_CMP_EQ:
    return a == b;
  case BRICK_GPU_CMP_NE:
    return a != b;
  case BRICK_GPU_CMP_SLT:
    return a < b;
  case BRICK_GPU_CMP_SLE:
    return a <= b;
  case BRICK_GPU_CMP_SGT:
    return a > b;
  case BRICK_GPU_CMP_SGE:
    return a >= b;
  case BRICK_GPU_CMP_ULT:
    return ua < ub;
  case BRICK_GPU_CMP_ULE:
    return ua <= ub;
  case BRICK_GPU_CMP_UGT:
    return ua > ub;
  default: /* BRICK_GPU_CMP_UGE; parse refused any other */
    return ua >= ub;
  }
}

brick_status_t brick_gpu_program_evaluate(const brick_gpu_program_t *program,
                                          int64_t pos, int64_t *registers,
                                          char *error, size_t error_size) {
  return brick_gpu_program_evaluate_block(program, pos, 1, registers, error,
                                          error_size);
}

brick_status_t brick_gpu_program_evaluate_block(
    const brick_gpu_program_t *program, int64_t pos, int64_t count,
    int64_t *registers, char *error, size_t error_size) {
  sink_t sink = {error, error_size};
  if (!program || !registers)
    return fail(&sink, BRICK_ERROR_INVALID_ARGUMENT,
                "GPU program: program or registers is NULL");
  memset(registers, 0, program->register_count * sizeof(int64_t));
  registers[0] = pos;
  if (program->block_size)
    registers[1] = count;
  for (uint32_t i = 0; i < program->instruction_count; ++i) {
    const brick_gpu_instruction_t *in = &program->instructions[i];
    int64_t a = registers[in->a], b = registers[in->b];
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    int64_t result = 0;
    switch (in->opcode) {
    case BRICK_GPU_OP_DIV_S:
    case BRICK_GPU_OP_REM_S:
    case BRICK_GPU_OP_CEIL_DIV_S:
    case BRICK_GPU_OP_FLOOR_DIV_S:
      if (b == -1 && a == INT64_MIN)
        return fail(&sink, BRICK_ERROR_MALFORMED,
                    "GPU program: instruction %u (%s) overflows: %lld / -1 "
                    "at position %lld (CODE)",
                    i, opcode_name(in->opcode), (long long)a, (long long)pos);
      /* fall through */
    case BRICK_GPU_OP_DIV_U:
    case BRICK_GPU_OP_REM_U:
      if (b == 0)
        return fail(&sink, BRICK_ERROR_MALFORMED,
                    "GPU program: instruction %u (%s) divides %lld by zero at "
                    "position %lld (CODE)",
                    i, opcode_name(in->opcode), (long long)a, (long long)pos);
      break;
    default:
      break;
    }
    switch (in->opcode) {
    case BRICK_GPU_OP_CONST:
      result = in->immediate;
      break;
    case BRICK_GPU_OP_ADD:
      result = to_signed(ua + ub);
      break;
    case BRICK_GPU_OP_SUB:
      result = to_signed(ua - ub);
      break;
    case BRICK_GPU_OP_MUL:
      result = to_signed(ua * ub);
      break;
    case BRICK_GPU_OP_DIV_S:
      result = a / b;
      break;
    case BRICK_GPU_OP_DIV_U:
      result = to_signed(ua / ub);
      break;
    case BRICK_GPU_OP_REM_S:
      result = a % b;
      break;
    case BRICK_GPU_OP_REM_U:
      result = to_signed(ua % ub);
      break;
    case BRICK_GPU_OP_CEIL_DIV_S:
    case BRICK_GPU_OP_FLOOR_DIV_S: {
      /* C truncates toward zero; a non-zero remainder moves the quotient
       * up when the exact quotient is positive (ceil), down when it is
       * negative (floor). Neither adjustment can overflow. */
      int64_t q = a / b, rem = a % b;
      int positive = (rem < 0) == (b < 0);
      if (rem != 0 && in->opcode == BRICK_GPU_OP_CEIL_DIV_S && positive)
        ++q;
      if (rem != 0 && in->opcode == BRICK_GPU_OP_FLOOR_DIV_S && !positive)
        --q;
      result = q;
      break;
    }
    case BRICK_GPU_OP_MIN_S:
      result = a < b ? a : b;
      break;
    case BRICK_GPU_OP_MAX_S:
      result = a > b ? a : b;
      break;
    case BRICK_GPU_OP_MIN_U:
      result = to_signed(ua < ub ? ua : ub);
      break;
    case BRICK_GPU_OP_MAX_U:
      result = to_signed(ua > ub ? ua : ub);
      break;
    case BRICK_GPU_OP_CMP:
      result = compare(in->immediate, a, b);
      break;
    case BRICK_GPU_OP_SELECT:
      result = a != 0 ? b : registers[in->c];
      break;
    case BRICK_GPU_OP_AND:
      result = to_signed(ua & ub);
      break;
    case BRICK_GPU_OP_OR:
      result = to_signed(ua | ub);
      break;
    case BRICK_GPU_OP_XOR:
      result = to_signed(ua ^ ub);
      break;
    }
    registers[in->result] = result;
  }
  return BRICK_OK;
}
