/*===- artifact.c - Opening and validating a Brick artifact ----------------===
 *
 * The loader trusts nothing in the file: every offset, size and count is
 * checked against the file before it is used, with overflow-safe
 * arithmetic, so a corrupt or hostile artifact gets a status and a message,
 * never an out-of-bounds read (tests/unit/artifact fuzzes this). The checks
 * run in the order a person would diagnose: is it an artifact (magic), one
 * we read (version), whole (size), intact (checksum), well-formed (tables),
 * and runnable here (target). Structs are copied out with memcpy because
 * open_bytes may be given a buffer of any alignment.
 *
 * Opening a file reads every byte but the weights into a private copy (a
 * PROT_NONE reservation of the file's size, made readable where it is
 * filled, so offsets stay file offsets) and maps only WEIGHTS. What is
 * checked at open is then what is used: the tables, the tokenizer and the
 * code cannot change under the runtime. The weights stay mapped, so open
 * costs O(metadata) and pages come in on first use; their integrity is the
 * per-chunk hashes' job (brick_artifact_verify_weights), and a file changed
 * under the mapping is caught by brick_artifact_check_unchanged before each
 * step and, during one, by the SIGBUS guard (mapping_guard.h).
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE /* MAP_* and O_CLOEXEC on every libc */

#include "brick/artifact.h"

#include "code_checks.h"
#include "mapping_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Section kinds the loader indexes: 1..BRICK_ARTIFACT_KNOWN_KINDS. */
#define BRICK_ARTIFACT_KNOWN_KINDS 7
/* Bound on the section table so that the overlap check stays cheap. */
#define BRICK_ARTIFACT_MAX_SECTIONS 1024

struct brick_artifact_t {
  /* Every byte but WEIGHTS at its file offset (all of them when borrowed). */
  const uint8_t *data;
  size_t size;
  void *copy; /* the private copy of a file (PROT_NONE where not read) */
  void *weights_mapping; /* the file's pages holding WEIGHTS, or NULL */
  size_t weights_mapping_size;
  int guard_slot;     /* mapping_guard.h, or -1 */
  int fd;             /* the opened file, kept for fstat; -1 when borrowed */
  struct stat opened; /* that file as it was when opened */
  char *label;        /* path or "<memory>", for messages */
  brick_artifact_header_t header;
  brick_artifact_section_t *sections;
  int kind_index[BRICK_ARTIFACT_KNOWN_KINDS + 1]; /* -1 when absent */
  const char *manifest;
  size_t manifest_length;
  const char *triple, *cpu, *features;
  const uint8_t *tensor_entries;
  uint32_t tensor_count;
  const char *names;
  uint64_t names_size;
  const uint8_t *weights;
  uint64_t weights_offset, weights_size;
  const uint8_t *chunk_digests; /* WEIGHT_HASHES: 32 bytes a chunk */
  uint64_t chunk_size, chunk_count;
  uint32_t *sorted; /* tensor indices ordered by name, for lookup */
};

/*===--- Errors -----------------------------------------------------------===*/

static _Thread_local char g_last_error[512];

static brick_status_t fail(brick_status_t status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static brick_status_t fail(brick_status_t status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(g_last_error, sizeof(g_last_error), format, args);
  va_end(args);
  return status;
}

const char *brick_artifact_last_error(void) { return g_last_error; }

/*===--- Helpers ----------------------------------------------------------===*/

/* Whether [offset, offset + size) lies inside [0, limit). */
static int in_bounds(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

static void read_entry(const brick_artifact_t *artifact, uint32_t index,
                       brick_artifact_tensor_entry_t *entry) {
  memcpy(entry,
         artifact->tensor_entries +
             (size_t)index * sizeof(brick_artifact_tensor_entry_t),
         sizeof(*entry));
}

static const char *entry_name(const brick_artifact_t *artifact,
                              uint32_t index) {
  brick_artifact_tensor_entry_t entry;
  read_entry(artifact, index, &entry);
  return artifact->names + entry.name_offset;
}

const char *brick_artifact_dtype_name(uint32_t dtype) {
  switch (dtype) {
  case BRICK_ARTIFACT_DTYPE_F32:
    return "F32";
  case BRICK_ARTIFACT_DTYPE_F16:
    return "F16";
  case BRICK_ARTIFACT_DTYPE_BF16:
    return "BF16";
  case BRICK_ARTIFACT_DTYPE_Q8_0:
    return "Q8_0";
  case BRICK_ARTIFACT_DTYPE_Q4_0:
    return "Q4_0";
  case BRICK_ARTIFACT_DTYPE_Q4_0X16:
    return "Q4_0x16";
  case BRICK_ARTIFACT_DTYPE_Q8_0X16:
    return "Q8_0x16";
  }
  return "?";
}

/* Bytes of a row-major tensor, or 0 with *ok = 0 when the shape is invalid
 * or the size overflows. */
static uint64_t storage_size(uint32_t dtype, uint32_t rank,
                             const int64_t *shape, int *ok) {
  uint64_t block_elements = 1, block_bytes;
  switch (dtype) {
  case BRICK_ARTIFACT_DTYPE_F32:
    block_bytes = 4;
    break;
  case BRICK_ARTIFACT_DTYPE_F16:
  case BRICK_ARTIFACT_DTYPE_BF16:
    block_bytes = 2;
    break;
  case BRICK_ARTIFACT_DTYPE_Q8_0:
    block_elements = 32;
    block_bytes = 34;
    break;
  case BRICK_ARTIFACT_DTYPE_Q4_0:
    block_elements = 32;
    block_bytes = 18;
    break;
  case BRICK_ARTIFACT_DTYPE_Q4_0X16:
  case BRICK_ARTIFACT_DTYPE_Q8_0X16:
    /* Rows interleaved 16 at a time: a matrix of whole row groups. */
    if (rank != 2 || shape[0] < 0 || shape[0] % 16 != 0) {
      *ok = 0;
      return 0;
    }
    block_elements = 32;
    block_bytes = dtype == BRICK_ARTIFACT_DTYPE_Q8_0X16 ? 34 : 18;
    break;
  default:
    *ok = 0;
    return 0;
  }
  uint64_t elements = 1;
  for (uint32_t i = 0; i < rank; ++i) {
    if (shape[i] < 0 ||
        (shape[i] != 0 && elements > UINT64_MAX / (uint64_t)shape[i])) {
      *ok = 0;
      return 0;
    }
    elements *= (uint64_t)shape[i];
  }
  /* Blocks run along the innermost dimension. */
  if (block_elements > 1 &&
      (rank == 0 || (uint64_t)shape[rank - 1] % block_elements != 0)) {
    *ok = 0;
    return 0;
  }
  uint64_t blocks = elements / block_elements;
  if (blocks > UINT64_MAX / block_bytes) {
    *ok = 0;
    return 0;
  }
  *ok = 1;
  return blocks * block_bytes;
}

/* Sorts `indices` by tensor name (merge sort: qsort takes no context). */
static void sort_by_name(const brick_artifact_t *artifact, uint32_t *indices,
                         uint32_t *scratch, uint32_t count) {
  for (uint32_t width = 1; width < count; width *= 2) {
    for (uint32_t lo = 0; lo < count; lo += 2 * width) {
      uint32_t mid = lo + width < count ? lo + width : count;
      uint32_t hi = lo + 2 * width < count ? lo + 2 * width : count;
      uint32_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        scratch[k++] = strcmp(entry_name(artifact, indices[j]),
                              entry_name(artifact, indices[i])) < 0
                           ? indices[j++]
                           : indices[i++];
      while (i < mid)
        scratch[k++] = indices[i++];
      while (j < hi)
        scratch[k++] = indices[j++];
    }
    memcpy(indices, scratch, sizeof(uint32_t) * count);
  }
}

/*===--- Validation -------------------------------------------------------===*/

/* The WEIGHTS bytes the header checksum leaves out (artifact_format.h): the
 * first WEIGHTS entry of the section table, when the table and that entry
 * lie inside the `size` bytes of the file and the entry after the table.
 * Otherwise nothing is left out (*out_size = 0), and such a file fails the
 * checksum or, unchecked, the table checks. `data` holds at least the
 * header and, when it lies in the file, the table. */
static void weights_range(const uint8_t *data, uint64_t size,
                          uint64_t *out_offset, uint64_t *out_size) {
  *out_offset = 0;
  *out_size = 0;
  brick_artifact_header_t h;
  if (size < sizeof(h))
    return;
  memcpy(&h, data, sizeof(h));
  uint64_t table_bytes =
      (uint64_t)h.section_count * sizeof(brick_artifact_section_t);
  if (h.section_count > BRICK_ARTIFACT_MAX_SECTIONS ||
      h.section_table_offset < BRICK_ARTIFACT_HEADER_SIZE ||
      !in_bounds(h.section_table_offset, table_bytes, size))
    return;
  for (uint32_t i = 0; i < h.section_count; ++i) {
    brick_artifact_section_t s;
    memcpy(&s, data + h.section_table_offset + (uint64_t)i * sizeof(s),
           sizeof(s));
    if (s.kind != BRICK_ARTIFACT_SECTION_WEIGHTS)
      continue;
    if (s.offset >= h.section_table_offset + table_bytes &&
        in_bounds(s.offset, s.size, size)) {
      *out_offset = s.offset;
      *out_size = s.size;
    }
    return;
  }
}

/* The header checksum of `a` as artifact_format.h defines it. */
static void compute_checksum(const brick_artifact_t *a, uint8_t digest[32]) {
  uint64_t skip_offset, skip_size;
  weights_range(a->data, a->size, &skip_offset, &skip_size);
  brick_sha256_t sha;
  brick_sha256_init(&sha);
  if (skip_size == 0) {
    brick_sha256_update(&sha, a->data + BRICK_ARTIFACT_CHECKSUMMED_FROM,
                        a->size - BRICK_ARTIFACT_CHECKSUMMED_FROM);
  } else {
    brick_sha256_update(&sha, a->data + BRICK_ARTIFACT_CHECKSUMMED_FROM,
                        skip_offset - BRICK_ARTIFACT_CHECKSUMMED_FROM);
    uint64_t end = skip_offset + skip_size;
    brick_sha256_update(&sha, a->data + end, a->size - end);
  }
  brick_sha256_final(&sha, digest);
}

static brick_status_t validate_header(brick_artifact_t *a, uint32_t flags) {
  const char *file = a->label;
  size_t prefix =
      a->size < BRICK_ARTIFACT_MAGIC_SIZE ? a->size : BRICK_ARTIFACT_MAGIC_SIZE;
  if (a->size == 0 || memcmp(a->data, BRICK_ARTIFACT_MAGIC, prefix) != 0)
    return fail(BRICK_ERROR_BAD_MAGIC,
                "%s: not a Brick artifact (magic is not \"BRICKART\")", file);
  if (a->size < BRICK_ARTIFACT_HEADER_SIZE)
    return fail(BRICK_ERROR_MALFORMED,
                "%s: truncated: %zu bytes, the header alone takes %d (header)",
                file, a->size, BRICK_ARTIFACT_HEADER_SIZE);
  memcpy(&a->header, a->data, sizeof(a->header));
  const brick_artifact_header_t *h = &a->header;
  if (h->format_version != BRICK_ARTIFACT_FORMAT_VERSION)
    return fail(BRICK_ERROR_VERSION_MISMATCH,
                "%s: artifact format version %u, this runtime reads version "
                "%d; recompile it with brickc compile (format_version)",
                file, h->format_version, BRICK_ARTIFACT_FORMAT_VERSION);
  if (h->file_size != a->size)
    return fail(BRICK_ERROR_MALFORMED,
                "%s: truncated or padded: the header says %llu bytes, the "
                "file has %zu (file_size)",
                file, (unsigned long long)h->file_size, a->size);
  if (h->header_size != BRICK_ARTIFACT_HEADER_SIZE || h->flags != 0)
    return fail(BRICK_ERROR_MALFORMED,
                "%s: header_size %u or flags %u not as version %d defines "
                "(header)",
                file, h->header_size, h->flags, BRICK_ARTIFACT_FORMAT_VERSION);
  if (!(flags & BRICK_ARTIFACT_OPEN_SKIP_CHECKSUM)) {
    uint8_t digest[32];
    compute_checksum(a, digest);
    if (memcmp(digest, h->checksum, sizeof(digest)) != 0)
      return fail(BRICK_ERROR_CHECKSUM_MISMATCH,
                  "%s: corrupt: the SHA-256 of the header, tables, tokenizer "
                  "and code does not match the header (checksum)",
                  file);
  }
  /* Zero in this version, so a later one can give them a meaning that
   * this reader must not silently ignore. */
  for (size_t i = 0; i < sizeof(h->reserved); ++i)
    if (h->reserved[i] != 0)
      return fail(BRICK_ERROR_MALFORMED,
                  "%s: reserved header byte %zu is %u, must be 0 "
                  "(header.reserved)",
                  file, i, h->reserved[i]);
  return BRICK_OK;
}

static brick_status_t validate_sections(brick_artifact_t *a) {
  const char *file = a->label;
  const brick_artifact_header_t *h = &a->header;
  uint64_t table_bytes =
      (uint64_t)h->section_count * sizeof(brick_artifact_section_t);
  if (h->section_count > BRICK_ARTIFACT_MAX_SECTIONS ||
      h->section_table_offset < BRICK_ARTIFACT_HEADER_SIZE ||
      h->section_table_offset % 8 != 0 ||
      !in_bounds(h->section_table_offset, table_bytes, a->size))
    return fail(BRICK_ERROR_MALFORMED,
                "%s: section table (%u entries at %llu) outside the file "
                "(section_table_offset)",
                file, h->section_count,
                (unsigned long long)h->section_table_offset);
  a->sections =
      (brick_artifact_section_t *)malloc(table_bytes ? table_bytes : 1);
  if (!a->sections)
    return fail(BRICK_ERROR_OUT_OF_MEMORY, "%s: out of memory", file);
  memcpy(a->sections, a->data + h->section_table_offset, table_bytes);
  uint64_t table_end = h->section_table_offset + table_bytes;

  for (uint32_t i = 0; i < h->section_count; ++i) {
    const brick_artifact_section_t *s = &a->sections[i];
    if (s->offset % BRICK_ARTIFACT_ALIGNMENT != 0 || s->offset < table_end ||
        !in_bounds(s->offset, s->size, a->size))
      return fail(BRICK_ERROR_MALFORMED,
                  "%s: section %u (kind %u) at %llu, %llu bytes: misaligned "
                  "or outside the file (sections[%u].offset)",
                  file, i, s->kind, (unsigned long long)s->offset,
                  (unsigned long long)s->size, i);
    if (s->flags != 0 || s->reserved != 0)
      return fail(BRICK_ERROR_MALFORMED,
                  "%s: section %u (kind %u) has %s %llu, must be 0 "
                  "(sections[%u].%s)",
                  file, i, s->kind, s->flags ? "flags" : "reserved",
                  (unsigned long long)(s->flags ? s->flags : s->reserved), i,
                  s->flags ? "flags" : "reserved");
    /* Sections must not overlap: a writer never makes them so, and an
     * overlap would let one section's bytes be read as another's. */
    for (uint32_t j = 0; j < i; ++j) {
      const brick_artifact_section_t *t = &a->sections[j];
      if (s->offset < t->offset + t->size && t->offset < s->offset + s->size)
        return fail(BRICK_ERROR_MALFORMED,
                    "%s: sections %u and %u overlap (sections[%u].offset)",
                    file, j, i, i);
    }
    if (s->kind >= 1 && s->kind <= BRICK_ARTIFACT_KNOWN_KINDS) {
      if (a->kind_index[s->kind] >= 0)
        return fail(BRICK_ERROR_MALFORMED,
                    "%s: section kind %u appears twice (sections[%u].kind)",
                    file, s->kind, i);
      a->kind_index[s->kind] = (int)i;
    }
  }
  static const struct {
    uint32_t kind;
    const char *name;
  } required[] = {{BRICK_ARTIFACT_SECTION_MANIFEST, "MANIFEST"},
                  {BRICK_ARTIFACT_SECTION_TARGET, "TARGET"},
                  {BRICK_ARTIFACT_SECTION_TENSORS, "TENSORS"}};
  for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); ++i)
    if (a->kind_index[required[i].kind] < 0)
      return fail(BRICK_ERROR_MALFORMED, "%s: no %s section (sections)", file,
                  required[i].name);
  return BRICK_OK;
}

static const brick_artifact_section_t *find_section(const brick_artifact_t *a,
                                                    uint32_t kind) {
  if (kind < 1 || kind > BRICK_ARTIFACT_KNOWN_KINDS || a->kind_index[kind] < 0)
    return NULL;
  return &a->sections[a->kind_index[kind]];
}

static brick_status_t validate_manifest_and_target(brick_artifact_t *a) {
  const char *file = a->label;
  const brick_artifact_section_t *m =
      find_section(a, BRICK_ARTIFACT_SECTION_MANIFEST);
  const char *text = (const char *)a->data + m->offset;
  const char *nul = m->size ? memchr(text, '\0', m->size) : NULL;
  if (!nul || (uint64_t)(nul - text) != m->size - 1)
    return fail(BRICK_ERROR_MALFORMED,
                "%s: manifest is not one NUL-terminated string (MANIFEST)",
                file);
  a->manifest = text;
  a->manifest_length = m->size - 1;

  /* TARGET: exactly "triple\0cpu\0features\0". */
  const brick_artifact_section_t *t =
      find_section(a, BRICK_ARTIFACT_SECTION_TARGET);
  const char *strings[3];
  const char *cursor = (const char *)a->data + t->offset;
  uint64_t left = t->size;
  for (int i = 0; i < 3; ++i) {
    const char *end = left ? memchr(cursor, '\0', left) : NULL;
    if (!end)
      return fail(BRICK_ERROR_MALFORMED,
                  "%s: target is not three NUL-terminated strings (TARGET)",
                  file);
    strings[i] = cursor;
    left -= (uint64_t)(end - cursor) + 1;
    cursor = end + 1;
  }
  if (left != 0 || strings[0][0] == '\0')
    return fail(BRICK_ERROR_MALFORMED,
                "%s: target has no triple or trailing bytes (TARGET)", file);
  a->triple = strings[0];
  a->cpu = strings[1];
  a->features = strings[2];
  return BRICK_OK;
}

static brick_status_t validate_tensors(brick_artifact_t *a) {
  const char *file = a->label;
  const brick_artifact_section_t *w =
      find_section(a, BRICK_ARTIFACT_SECTION_WEIGHTS);
  if (w) {
    a->weights_offset = w->offset;
    a->weights_size = w->size;
  }
  const brick_artifact_section_t *t =
      find_section(a, BRICK_ARTIFACT_SECTION_TENSORS);
  brick_artifact_tensors_header_t th;
  if (t->size < sizeof(th))
    return fail(BRICK_ERROR_MALFORMED, "%s: tensor table truncated (TENSORS)",
                file);
  memcpy(&th, a->data + t->offset, sizeof(th));
  uint64_t entries_end = sizeof(th) + (uint64_t)th.tensor_count *
                                          sizeof(brick_artifact_tensor_entry_t);
  if (th.entry_size != sizeof(brick_artifact_tensor_entry_t) ||
      th.tensor_count > t->size / sizeof(brick_artifact_tensor_entry_t) ||
      th.names_offset < entries_end || th.names_offset > t->size)
    return fail(BRICK_ERROR_MALFORMED,
                "%s: tensor table of %u entries does not fit its section "
                "(TENSORS.tensor_count)",
                file, th.tensor_count);
  a->tensor_entries = a->data + t->offset + sizeof(th);
  a->tensor_count = th.tensor_count;
  a->names = (const char *)a->data + t->offset + th.names_offset;
  a->names_size = t->size - th.names_offset;

  for (uint32_t i = 0; i < a->tensor_count; ++i) {
    brick_artifact_tensor_entry_t e;
    read_entry(a, i, &e);
    if (e.name_length == 0 ||
        !in_bounds(e.name_offset, (uint64_t)e.name_length + 1, a->names_size) ||
        a->names[e.name_offset + e.name_length] != '\0' ||
        memchr(a->names + e.name_offset, '\0', e.name_length))
      return fail(BRICK_ERROR_MALFORMED,
                  "%s: tensor %u has no valid name (TENSORS[%u].name)", file, i,
                  i);
    const char *name = a->names + e.name_offset;
    if (e.rank > BRICK_ARTIFACT_MAX_RANK)
      return fail(BRICK_ERROR_MALFORMED,
                  "%s: tensor '%s' has rank %u, at most %d (TENSORS.rank)",
                  file, name, e.rank, BRICK_ARTIFACT_MAX_RANK);
    for (uint32_t d = e.rank; d < BRICK_ARTIFACT_MAX_RANK; ++d)
      if (e.shape[d] != 0)
        return fail(BRICK_ERROR_MALFORMED,
                    "%s: tensor '%s' has dimensions past its rank "
                    "(TENSORS.shape)",
                    file, name);
    int ok = 0;
    uint64_t expected = storage_size(e.dtype, e.rank, e.shape, &ok);
    if (!ok || expected != e.size)
      return fail(BRICK_ERROR_MALFORMED,
                  "%s: tensor '%s': %llu bytes do not fit dtype %u and its "
                  "shape (TENSORS.size)",
                  file, name, (unsigned long long)e.size, e.dtype);
    if (e.offset % BRICK_ARTIFACT_ALIGNMENT != 0 ||
        !in_bounds(e.offset, e.size, a->weights_size))
      return fail(BRICK_ERROR_MALFORMED,
                  "%s: tensor '%s' at %llu, %llu bytes: misaligned or outside "
                  "WEIGHTS (TENSORS.offset)",
                  file, name, (unsigned long long)e.offset,
                  (unsigned long long)e.size);
  }

  size_t bytes = sizeof(uint32_t) * (a->tensor_count ? a->tensor_count : 1);
  a->sorted = (uint32_t *)malloc(bytes);
  uint32_t *scratch = (uint32_t *)malloc(bytes);
  if (!a->sorted || !scratch) {
    free(scratch);
    return fail(BRICK_ERROR_OUT_OF_MEMORY, "%s: out of memory", file);
  }
  for (uint32_t i = 0; i < a->tensor_count; ++i)
    a->sorted[i] = i;
  sort_by_name(a, a->sorted, scratch, a->tensor_count);
  free(scratch);
  for (uint32_t i = 1; i < a->tensor_count; ++i)
    if (strcmp(entry_name(a, a->sorted[i - 1]), entry_name(a, a->sorted[i])) ==
        0)
      return fail(BRICK_ERROR_MALFORMED,
                  "%s: two tensors are called '%s' (TENSORS.name)", file,
                  entry_name(a, a->sorted[i]));
  return BRICK_OK;
}

/* WEIGHT_HASHES must be there exactly when WEIGHTS is, and hold one digest
 * for every chunk of it. */
static brick_status_t validate_weight_hashes(brick_artifact_t *a) {
  const char *file = a->label;
  const brick_artifact_section_t *w =
      find_section(a, BRICK_ARTIFACT_SECTION_WEIGHTS);
  const brick_artifact_section_t *h =
      find_section(a, BRICK_ARTIFACT_SECTION_WEIGHT_HASHES);
  if (!w && !h)
    return BRICK_OK;
  if (!w || !h)
    return fail(
        BRICK_ERROR_MALFORMED, "%s: %s section without a %s section (sections)",
        file, w ? "WEIGHTS" : "WEIGHT_HASHES", w ? "WEIGHT_HASHES" : "WEIGHTS");
  brick_artifact_weight_hashes_t header;
  if (h->size < sizeof(header))
    return fail(BRICK_ERROR_MALFORMED,
                "%s: weight hashes truncated (WEIGHT_HASHES)", file);
  memcpy(&header, a->data + h->offset, sizeof(header));
  if (header.chunk_size == 0 || header.chunk_size % BRICK_ARTIFACT_ALIGNMENT)
    return fail(BRICK_ERROR_MALFORMED,
                "%s: weight chunk size %llu is not a positive multiple of %d "
                "(WEIGHT_HASHES.chunk_size)",
                file, (unsigned long long)header.chunk_size,
                BRICK_ARTIFACT_ALIGNMENT);
  uint64_t chunks =
      w->size / header.chunk_size + (w->size % header.chunk_size != 0);
  if (header.chunk_count != chunks ||
      (h->size - sizeof(header)) / 32 != chunks ||
      (h->size - sizeof(header)) % 32 != 0)
    return fail(BRICK_ERROR_MALFORMED,
                "%s: %llu weight hashes in %llu bytes, WEIGHTS needs %llu "
                "(WEIGHT_HASHES.chunk_count)",
                file, (unsigned long long)header.chunk_count,
                (unsigned long long)h->size, (unsigned long long)chunks);
  a->chunk_size = header.chunk_size;
  a->chunk_count = chunks;
  a->chunk_digests = a->data + h->offset + sizeof(header);
  return BRICK_OK;
}

/* The CODE section's ELF must lie inside the section: dlopen maps what its
 * headers say, and a page past the staged copy's end is a SIGBUS. A GPU
 * program or bytes that are no ELF are left to the session. */
static brick_status_t validate_code(brick_artifact_t *a) {
  const brick_artifact_section_t *c =
      find_section(a, BRICK_ARTIFACT_SECTION_CODE);
  if (!c)
    return BRICK_OK;
  char error[sizeof(g_last_error) - 64];
  brick_status_t status =
      brick_check_code_elf(a->data + c->offset, c->size, error, sizeof(error));
  if (status != BRICK_OK)
    return fail(status, "%s: %s", a->label, error);
  return BRICK_OK;
}

/* Validates `a` (data, size, label set); BRICK_OK or the first failure. */
static brick_status_t validate(brick_artifact_t *a, uint32_t flags) {
  for (int i = 0; i <= BRICK_ARTIFACT_KNOWN_KINDS; ++i)
    a->kind_index[i] = -1;
  brick_status_t status;
  if ((status = validate_header(a, flags)) != BRICK_OK ||
      (status = validate_sections(a)) != BRICK_OK ||
      (status = validate_manifest_and_target(a)) != BRICK_OK ||
      (status = validate_tensors(a)) != BRICK_OK ||
      (status = validate_weight_hashes(a)) != BRICK_OK ||
      (status = validate_code(a)) != BRICK_OK)
    return status;
  if (!(flags & BRICK_ARTIFACT_OPEN_SKIP_TARGET_CHECK))
    return brick_artifact_check_target(a);
  return BRICK_OK;
}

/*===--- Open and close ---------------------------------------------------===*/

static brick_artifact_t *new_artifact(const char *label) {
  brick_artifact_t *a = (brick_artifact_t *)calloc(1, sizeof(*a));
  if (!a)
    return NULL;
  a->fd = -1;
  a->guard_slot = -1;
  a->label = strdup(label);
  if (!a->label) {
    free(a);
    return NULL;
  }
  return a;
}

void brick_artifact_close(brick_artifact_t *artifact) {
  if (!artifact)
    return;
  brick_mapping_guard_remove(artifact->guard_slot);
  if (artifact->weights_mapping)
    munmap(artifact->weights_mapping, artifact->weights_mapping_size);
  if (artifact->copy)
    munmap(artifact->copy, artifact->size);
  if (artifact->fd >= 0)
    close(artifact->fd);
  free(artifact->sections);
  free(artifact->sorted);
  free(artifact->label);
  free(artifact);
}

/* Validates `a` and points its weights into the borrowed or copied bytes
 * (open_bytes) or leaves them to the caller (open); closes it on failure. */
static brick_status_t finish_open(brick_artifact_t *a, uint32_t flags,
                                  brick_artifact_t **out_artifact) {
  brick_status_t status = validate(a, flags);
  if (status != BRICK_OK) {
    brick_artifact_close(a);
    return status;
  }
  *out_artifact = a;
  return BRICK_OK;
}

brick_status_t
brick_artifact_open_bytes(const void *data, size_t size,
                          const brick_artifact_open_options_t *options,
                          brick_artifact_t **out_artifact) {
  if (!out_artifact)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "<memory>: no out_artifact");
  *out_artifact = NULL;
  if (!data && size)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "<memory>: no data");
  brick_artifact_t *a = new_artifact("<memory>");
  if (!a)
    return fail(BRICK_ERROR_OUT_OF_MEMORY, "<memory>: out of memory");
  a->data = (const uint8_t *)data;
  a->size = size;
  brick_status_t status =
      finish_open(a, options ? options->flags : 0, out_artifact);
  if (status == BRICK_OK && find_section(a, BRICK_ARTIFACT_SECTION_WEIGHTS))
    a->weights = a->data + a->weights_offset;
  return status;
}

static uint64_t page_floor(uint64_t offset) {
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  return offset / page * page;
}

/* Reads [offset, offset + size) of `a`'s file into its copy, making those
 * pages of the reservation writable first. */
static brick_status_t read_range(brick_artifact_t *a, uint64_t offset,
                                 uint64_t size) {
  if (size == 0)
    return BRICK_OK;
  uint8_t *copy = (uint8_t *)a->copy;
  uint64_t first = page_floor(offset);
  if (mprotect(copy + first, offset + size - first, PROT_READ | PROT_WRITE))
    return fail(BRICK_ERROR_OUT_OF_MEMORY, "%s: cannot hold a copy: %s",
                a->label, strerror(errno));
  for (uint64_t done = 0; done < size;) {
    ssize_t n =
        pread(a->fd, copy + offset + done, size - done, (off_t)(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail(BRICK_ERROR_IO,
                  "%s: cannot read %llu bytes at %llu: %s (artifact)", a->label,
                  (unsigned long long)(size - done),
                  (unsigned long long)(offset + done),
                  n < 0 ? strerror(errno) : "the file is shorter than it was");
    done += (uint64_t)n;
  }
  return BRICK_OK;
}

/* Copies every byte of the file but WEIGHTS into `a`'s copy. What is read
 * first decides what else is: a file whose header is not this version's,
 * or whose size is not the header's, gets no further read (validation
 * refuses it on the header alone), so an old 13 GB artifact is refused
 * without reading it. */
static brick_status_t read_copy(brick_artifact_t *a) {
  a->copy = mmap(NULL, a->size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (a->copy == MAP_FAILED) {
    a->copy = NULL;
    return fail(BRICK_ERROR_OUT_OF_MEMORY, "%s: cannot reserve %zu bytes: %s",
                a->label, a->size, strerror(errno));
  }
  a->data = (const uint8_t *)a->copy;
  uint64_t head = a->size < BRICK_ARTIFACT_HEADER_SIZE
                      ? a->size
                      : BRICK_ARTIFACT_HEADER_SIZE;
  brick_status_t status = read_range(a, 0, head);
  if (status != BRICK_OK)
    return status;
  brick_artifact_header_t h;
  if (head < sizeof(h))
    return BRICK_OK;
  memcpy(&h, a->data, sizeof(h));
  if (memcmp(h.magic, BRICK_ARTIFACT_MAGIC, BRICK_ARTIFACT_MAGIC_SIZE) != 0 ||
      h.format_version != BRICK_ARTIFACT_FORMAT_VERSION ||
      h.file_size != a->size)
    return BRICK_OK;
  uint64_t table_bytes =
      (uint64_t)h.section_count * sizeof(brick_artifact_section_t);
  if (h.section_count > BRICK_ARTIFACT_MAX_SECTIONS ||
      h.section_table_offset < BRICK_ARTIFACT_HEADER_SIZE ||
      !in_bounds(h.section_table_offset, table_bytes, a->size))
    return BRICK_OK; /* refused by the checksum or the table check */
  if ((status = read_range(a, h.section_table_offset, table_bytes)) != BRICK_OK)
    return status;
  uint64_t skip_offset, skip_size;
  weights_range(a->data, a->size, &skip_offset, &skip_size);
  if (skip_size == 0)
    status = read_range(a, 0, a->size);
  else if ((status = read_range(a, 0, skip_offset)) == BRICK_OK)
    status = read_range(a, skip_offset + skip_size,
                        a->size - skip_offset - skip_size);
  return status;
}

/* Maps the WEIGHTS pages of `a`'s file, read-only, and guards them. */
static brick_status_t map_weights(brick_artifact_t *a) {
  if (a->weights_size == 0) {
    if (find_section(a, BRICK_ARTIFACT_SECTION_WEIGHTS))
      a->weights = a->data + a->weights_offset;
    return BRICK_OK;
  }
  uint64_t first = page_floor(a->weights_offset);
  a->weights_mapping_size =
      (size_t)(a->weights_offset + a->weights_size - first);
  void *mapping = mmap(NULL, a->weights_mapping_size, PROT_READ, MAP_SHARED,
                       a->fd, (off_t)first);
  if (mapping == MAP_FAILED)
    return fail(BRICK_ERROR_IO, "%s: cannot map the weights: %s", a->label,
                strerror(errno));
  a->weights_mapping = mapping;
  a->weights = (const uint8_t *)mapping + (a->weights_offset - first);
  a->guard_slot =
      brick_mapping_guard_add(mapping, a->weights_mapping_size, a->label);
  return BRICK_OK;
}

brick_status_t brick_artifact_open(const char *path,
                                   const brick_artifact_open_options_t *options,
                                   brick_artifact_t **out_artifact) {
  if (!out_artifact)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "no out_artifact");
  *out_artifact = NULL;
  if (!path)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "no path");
  /* O_NONBLOCK: a FIFO with no writer would block open() forever, before
   * the type could be checked. It means nothing for the reads and the
   * mapping of a regular file, so it needs no clearing. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return fail(BRICK_ERROR_IO, "%s: cannot open: %s (artifact)", path,
                strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return fail(BRICK_ERROR_IO, "%s: not a regular file (artifact)", path);
  }
  brick_artifact_t *a = new_artifact(path);
  if (!a) {
    close(fd);
    return fail(BRICK_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  a->fd = fd;
  a->opened = info;
  a->size = (size_t)info.st_size;
  brick_status_t status = a->size ? read_copy(a) : BRICK_OK;
  if (status == BRICK_OK && a->copy &&
      mprotect(a->copy, a->size, PROT_READ) != 0)
    status = fail(BRICK_ERROR_INTERNAL, "%s: cannot protect the copy: %s", path,
                  strerror(errno));
  /* The copy must be of one version of the file: one that changed while it
   * was read is refused rather than checked in pieces. */
  if (status == BRICK_OK)
    status = brick_artifact_check_unchanged(a);
  if (status != BRICK_OK) {
    brick_artifact_close(a);
    return status;
  }
  status = finish_open(a, options ? options->flags : 0, out_artifact);
  if (status != BRICK_OK)
    return status;
  if ((status = map_weights(a)) != BRICK_OK) {
    *out_artifact = NULL;
    brick_artifact_close(a);
    return status;
  }
  if (options && (options->flags & BRICK_ARTIFACT_OPEN_VERIFY_WEIGHTS) &&
      (status = brick_artifact_verify_weights(a)) != BRICK_OK) {
    *out_artifact = NULL;
    brick_artifact_close(a);
    return status;
  }
  return BRICK_OK;
}

brick_status_t
brick_artifact_check_unchanged(const brick_artifact_t *artifact) {
  if (!artifact)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "no artifact");
  if (artifact->fd < 0)
    return BRICK_OK;
  struct stat now;
  const struct stat *was = &artifact->opened;
  if (fstat(artifact->fd, &now) != 0)
    return fail(BRICK_ERROR_IO, "%s: cannot stat the open file: %s (artifact)",
                artifact->label, strerror(errno));
  if (now.st_size != was->st_size ||
      now.st_mtim.tv_sec != was->st_mtim.tv_sec ||
      now.st_mtim.tv_nsec != was->st_mtim.tv_nsec)
    return fail(BRICK_ERROR_IO,
                "%s: the artifact changed or was truncated while running "
                "(%lld bytes when opened, %lld now, modified since); run it "
                "again to use the new file (artifact)",
                artifact->label, (long long)was->st_size,
                (long long)now.st_size);
  return BRICK_OK;
}

/*===--- Target -----------------------------------------------------------===*/

brick_status_t brick_artifact_check_target(const brick_artifact_t *artifact) {
  if (!artifact)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "no artifact");
  const char *file = artifact->label;
  const char *triple = artifact->triple;
  size_t arch_length = strcspn(triple, "-");
  char arch[32];
  if (arch_length >= sizeof(arch))
    arch_length = sizeof(arch) - 1;
  memcpy(arch, triple, arch_length);
  arch[arch_length] = '\0';
  /* GPU code runs on a GPU, not on the host: whether the device can run it
   * is checked when a CUDA session is created (cuda_backend.c), and its
   * "+ptx" features name PTX versions, not host features. */
  if (strcmp(arch, "nvptx64") == 0)
    return BRICK_OK;
  /* The aliases LLVM accepts for the two architectures the runtime knows. */
  const char *canonical = arch;
  if (strcmp(arch, "amd64") == 0 || strcmp(arch, "x86-64") == 0)
    canonical = "x86_64";
  else if (strcmp(arch, "arm64") == 0)
    canonical = "aarch64";
  const char *host = brick_host_cpu_arch();
  if (strcmp(canonical, host) != 0)
    return fail(BRICK_ERROR_TARGET_MISMATCH,
                "%s: compiled for %s, this machine is %s (target triple)", file,
                triple, host);

  /* Every "+feature" must be present; "-feature" only removes and is safe.
   * All missing features are named, so one message says what is needed. */
  char missing[256] = "";
  size_t used = 0;
  const char *cursor = artifact->features;
  while (*cursor) {
    size_t length = strcspn(cursor, ",");
    if (length > 1 && cursor[0] == '+') {
      char name[64];
      size_t name_length =
          length - 1 < sizeof(name) - 1 ? length - 1 : sizeof(name) - 1;
      memcpy(name, cursor + 1, name_length);
      name[name_length] = '\0';
      if (!brick_host_cpu_has_feature(name) && used + 2 < sizeof(missing)) {
        int wrote = snprintf(missing + used, sizeof(missing) - used, "%s+%s",
                             used ? ", " : "", name);
        if (wrote > 0)
          used += (size_t)wrote < sizeof(missing) - used
                      ? (size_t)wrote
                      : sizeof(missing) - used - 1;
      }
    }
    cursor += length;
    if (*cursor == ',')
      ++cursor;
  }
  if (used)
    return fail(BRICK_ERROR_TARGET_MISMATCH,
                "%s: compiled for CPU features this machine lacks: %s "
                "(target features)",
                file, missing);
  return BRICK_OK;
}

/*===--- Accessors --------------------------------------------------------===*/

const char *brick_artifact_manifest(const brick_artifact_t *artifact,
                                    size_t *out_size) {
  if (out_size)
    *out_size = artifact ? artifact->manifest_length : 0;
  return artifact ? artifact->manifest : NULL;
}

brick_status_t brick_artifact_section(const brick_artifact_t *artifact,
                                      uint32_t kind, const void **out_data,
                                      uint64_t *out_size) {
  if (out_data)
    *out_data = NULL;
  if (out_size)
    *out_size = 0;
  if (!artifact || !out_data)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "no artifact or out_data");
  const brick_artifact_section_t *s = find_section(artifact, kind);
  if (!s)
    return fail(BRICK_ERROR_NOT_FOUND, "%s: no section of kind %u",
                artifact->label, kind);
  /* WEIGHTS is mapped apart from the copy of the rest. */
  *out_data = kind == BRICK_ARTIFACT_SECTION_WEIGHTS
                  ? (const void *)artifact->weights
                  : (const void *)(artifact->data + s->offset);
  if (out_size)
    *out_size = s->size;
  return BRICK_OK;
}

uint32_t brick_artifact_section_count(const brick_artifact_t *artifact) {
  return artifact ? artifact->header.section_count : 0;
}

brick_status_t
brick_artifact_section_at(const brick_artifact_t *artifact, uint32_t index,
                          brick_artifact_section_info_t *out_info) {
  if (!artifact || !out_info || index >= artifact->header.section_count)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "no section %u", index);
  out_info->kind = artifact->sections[index].kind;
  out_info->offset = artifact->sections[index].offset;
  out_info->size = artifact->sections[index].size;
  return BRICK_OK;
}

void brick_artifact_target(const brick_artifact_t *artifact,
                           const char **out_triple, const char **out_cpu,
                           const char **out_features) {
  if (out_triple)
    *out_triple = artifact ? artifact->triple : NULL;
  if (out_cpu)
    *out_cpu = artifact ? artifact->cpu : NULL;
  if (out_features)
    *out_features = artifact ? artifact->features : NULL;
}

uint32_t brick_artifact_tensor_count(const brick_artifact_t *artifact) {
  return artifact ? artifact->tensor_count : 0;
}

brick_status_t brick_artifact_tensor_at(const brick_artifact_t *artifact,
                                        uint32_t index,
                                        brick_artifact_tensor_t *out_tensor) {
  if (!artifact || !out_tensor || index >= artifact->tensor_count)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "no tensor %u", index);
  brick_artifact_tensor_entry_t e;
  read_entry(artifact, index, &e);
  memset(out_tensor, 0, sizeof(*out_tensor));
  out_tensor->name = artifact->names + e.name_offset;
  out_tensor->dtype = e.dtype;
  out_tensor->rank = e.rank;
  memcpy(out_tensor->shape, e.shape, sizeof(e.shape));
  out_tensor->data = artifact->weights ? artifact->weights + e.offset : NULL;
  out_tensor->size = e.size;
  out_tensor->offset = e.offset;
  return BRICK_OK;
}

brick_status_t brick_artifact_find_tensor(const brick_artifact_t *artifact,
                                          const char *name,
                                          brick_artifact_tensor_t *out_tensor) {
  if (!artifact || !name || !out_tensor)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "no artifact, name or tensor");
  uint32_t lo = 0, hi = artifact->tensor_count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int order = strcmp(entry_name(artifact, artifact->sorted[mid]), name);
    if (order == 0)
      return brick_artifact_tensor_at(artifact, artifact->sorted[mid],
                                      out_tensor);
    if (order < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return fail(BRICK_ERROR_NOT_FOUND, "%s: no tensor '%s'", artifact->label,
              name);
}

/*===--- Weights ----------------------------------------------------------===*/

/* Names the tensors that overlap WEIGHTS bytes [begin, end) into `out`:
 * "tensor 'a'", "tensors 'a' and 'b'" or "tensors 'a' and 3 more". */
static void describe_tensors(const brick_artifact_t *a, uint64_t begin,
                             uint64_t end, char *out, size_t out_size) {
  uint32_t count = 0;
  const char *first = NULL, *second = NULL;
  for (uint32_t i = 0; i < a->tensor_count; ++i) {
    brick_artifact_tensor_entry_t e;
    read_entry(a, i, &e);
    if (e.size == 0 || e.offset >= end || e.offset + e.size <= begin)
      continue;
    if (count == 0)
      first = a->names + e.name_offset;
    else if (count == 1)
      second = a->names + e.name_offset;
    ++count;
  }
  if (count == 0)
    snprintf(out, out_size, "no tensor, only padding");
  else if (count == 1)
    snprintf(out, out_size, "tensor '%s'", first);
  else if (count == 2)
    snprintf(out, out_size, "tensors '%s' and '%s'", first, second);
  else
    snprintf(out, out_size, "tensors '%s' and %u more", first, count - 1);
}

brick_status_t brick_artifact_verify_weights(const brick_artifact_t *artifact) {
  if (!artifact)
    return fail(BRICK_ERROR_INVALID_ARGUMENT, "no artifact");
  brick_status_t status = brick_artifact_check_unchanged(artifact);
  if (status != BRICK_OK)
    return status;
  for (uint64_t i = 0; i < artifact->chunk_count; ++i) {
    uint64_t begin = i * artifact->chunk_size;
    uint64_t size = artifact->weights_size - begin < artifact->chunk_size
                        ? artifact->weights_size - begin
                        : artifact->chunk_size;
    uint8_t digest[32];
    brick_sha256(artifact->weights + begin, size, digest);
    if (memcmp(digest, artifact->chunk_digests + 32 * i, 32) != 0) {
      char tensors[256];
      describe_tensors(artifact, begin, begin + size, tensors, sizeof(tensors));
      return fail(BRICK_ERROR_CHECKSUM_MISMATCH,
                  "%s: corrupt weights: chunk %llu of %llu (WEIGHTS bytes "
                  "%llu to %llu, %s) does not match its SHA-256 "
                  "(WEIGHT_HASHES[%llu])",
                  artifact->label, (unsigned long long)i,
                  (unsigned long long)artifact->chunk_count,
                  (unsigned long long)begin, (unsigned long long)(begin + size),
                  tensors, (unsigned long long)i);
    }
  }
  /* The hashes say something only of the file as it was while read. */
  return brick_artifact_check_unchanged(artifact);
}

uint64_t brick_artifact_weight_chunk_count(const brick_artifact_t *artifact) {
  return artifact ? artifact->chunk_count : 0;
}
