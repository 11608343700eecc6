/*===- artifact_format.h - The on-disk layout of a Brick artifact ----------===
 *
 * An artifact is the one file `brickc compile` writes and the runtime runs.
 * This header is the single definition of its layout, shared by the writer
 * (compiler/artifact/ArtifactWriter.cpp) and the reader (runtime/src/
 * artifact.c), so it is plain C with fixed-width fields only.
 *
 * Every integer is little-endian; every offset is from the start of the file
 * unless said otherwise.
 *
 *   offset 0      header (128 bytes, brick_artifact_header_t)
 *   offset 128    section table: section_count x brick_artifact_section_t
 *   then          the sections, each starting on a 64-byte boundary, in the
 *                 order MANIFEST, TARGET, TENSORS, TOKENIZER, CODE,
 *                 WEIGHTS, WEIGHT_HASHES;
 *                 the gaps between them are zero
 *
 * Integrity comes in two parts, so that opening costs O(metadata) and not a
 * read of every weight page (issue 17):
 * - The header checksum is the SHA-256 of bytes [BRICK_ARTIFACT_CHECKSUMMED_
 *   FROM, file_size) with the bytes of the WEIGHTS section left out (the
 *   section named by the first WEIGHTS entry of the section table; with no
 *   such entry nothing is left out). It covers the header fields after it,
 *   the section table, the gaps, and every section but WEIGHTS: the tables,
 *   the tokenizer, the code that runs, and WEIGHT_HASHES. The runtime checks
 *   it on every open, over a private copy of those bytes (a few MB at most).
 * - WEIGHT_HASHES holds the SHA-256 of every BRICK_ARTIFACT_WEIGHT_CHUNK_SIZE
 *   chunk of WEIGHTS (the last may be shorter). Opening does not read the
 *   weights; brick_artifact_verify_weights (brick-run --verify,
 *   brick-artifact-info --verify) hashes them and names the first chunk that
 *   differs and the tensors in it. A corrupt weight can change numbers but
 *   never what the code reads: the tables it is read through are checked.
 * The writer streams the file with a zero checksum, hashing as it goes, and
 * patches the digest in before the file is renamed to its final name.
 *
 * Sections:
 * - MANIFEST: UTF-8 JSON for people and tools, followed by one NUL byte (the
 *   size counts it), so the runtime can hand it out as a C string. Holds
 *   format_version, configuration, model (hyper-parameters), target, bricks
 *   kept, plugin scales, source hashes and the tensor table.
 * - TARGET: exactly three NUL-terminated strings: the LLVM triple, the CPU
 *   name and LLVM's comma-separated feature string ("+avx2,+fma,-avx512f").
 *   The runtime checks the triple's architecture and every "+feature"
 *   against the host; it never parses JSON.
 * - TENSORS: the tensor table in binary (the runtime needs no JSON reader):
 *   a brick_artifact_tensors_header_t, tensor_count x
 *   brick_artifact_tensor_entry_t, then the name pool up to the end of the
 *   section. Each name is stored NUL-terminated.
 * - WEIGHTS: raw tensor bytes, row-major, each tensor starting on a 64-byte
 *   boundary (offsets are relative to the section, which is itself aligned),
 *   so the runtime maps them and uses them in place.
 * - TOKENIZER: the runtime's canonical "BRKT" tokenizer bytes (tokenizer.h).
 * - CODE: an object file for the target (produced by code generation).
 * - WEIGHT_HASHES: a brick_artifact_weight_hashes_t, then chunk_count
 *   SHA-256 digests of 32 bytes, chunk i covering WEIGHTS bytes
 *   [i * chunk_size, min((i + 1) * chunk_size, WEIGHTS size)). Written after
 *   WEIGHTS, whose digests are known only once they are streamed; required
 *   exactly when WEIGHTS is present.
 *
 * MANIFEST, TARGET and TENSORS are required; the others are optional. A kind
 * appears at most once. Readers skip section kinds they do not know, so a
 * later writer can add optional sections without a version bump.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_ARTIFACT_FORMAT_H
#define BRICK_ARTIFACT_FORMAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The 8 bytes every artifact starts with (no NUL). */
#define BRICK_ARTIFACT_MAGIC "BRICKART"
#define BRICK_ARTIFACT_MAGIC_SIZE 8

/* The layout version this header describes; a reader accepts exactly it.
 * Version 1 hashed the whole file into the header checksum; version 2 leaves
 * WEIGHTS out of it and hashes it per chunk (WEIGHT_HASHES). */
#define BRICK_ARTIFACT_FORMAT_VERSION 2

/* Bytes of WEIGHTS each WEIGHT_HASHES digest covers: 4 MiB, so a 13 GB
 * model needs about 3,300 digests (100 KB) and a mismatch names a range
 * small enough to hold a handful of tensors. */
#define BRICK_ARTIFACT_WEIGHT_CHUNK_SIZE (4u << 20)

/* Alignment of every section and of every tensor inside WEIGHTS: a cache
 * line, and enough for any vector load the generated code makes. */
#define BRICK_ARTIFACT_ALIGNMENT 64

/* Size of brick_artifact_header_t; the section table follows it. */
#define BRICK_ARTIFACT_HEADER_SIZE 128

/* First byte covered by the checksum: the byte after the checksum field. */
#define BRICK_ARTIFACT_CHECKSUMMED_FROM 40

/* Most dimensions a tensor may have. */
#define BRICK_ARTIFACT_MAX_RANK 8

/* Kind of a section (brick_artifact_section_t.kind). */
typedef enum brick_artifact_section_kind_t {
  BRICK_ARTIFACT_SECTION_MANIFEST = 1,
  BRICK_ARTIFACT_SECTION_TARGET = 2,
  BRICK_ARTIFACT_SECTION_TENSORS = 3,
  BRICK_ARTIFACT_SECTION_WEIGHTS = 4,
  BRICK_ARTIFACT_SECTION_TOKENIZER = 5,
  BRICK_ARTIFACT_SECTION_CODE = 6,
  BRICK_ARTIFACT_SECTION_WEIGHT_HASHES = 7,
} brick_artifact_section_kind_t;

/* Element type of a stored tensor (brick_artifact_tensor_entry_t.dtype).
 * Q8_0 and Q4_0 are llama.cpp's block formats: 32 elements of the innermost
 * dimension share one f16 scale; a Q8_0 block is the scale and 32 int8
 * (34 bytes), a Q4_0 block the scale and 16 bytes whose low nibbles are
 * elements 0..15 and high nibbles 16..31, each value (q - 8) * scale
 * (18 bytes). Q4_0x16 holds a matrix's Q4_0 blocks with its rows (the
 * rank-2 shape's first dimension, a multiple of 16) interleaved by 16:
 * rows 16g..16g+15's blocks of elements 32c..32c+31 are 288 bytes, first
 * the 16 rows' f16 scales (row 16g+k's at byte 2k), then for each m = 0..3
 * the 16 rows' nibble bytes 4m..4m+3 (row 16g+k's at byte 32 + 64m + 4k).
 * Q8_0x16 is Q8_0 likewise: 544 bytes per 16 rows' blocks, the scales,
 * then for m = 0..7 the rows' int8 values 4m..4m+3. */
typedef enum brick_artifact_dtype_t {
  BRICK_ARTIFACT_DTYPE_F32 = 1,
  BRICK_ARTIFACT_DTYPE_F16 = 2,
  BRICK_ARTIFACT_DTYPE_BF16 = 3,
  BRICK_ARTIFACT_DTYPE_Q8_0 = 4,
  BRICK_ARTIFACT_DTYPE_Q4_0 = 5,
  BRICK_ARTIFACT_DTYPE_Q4_0X16 = 6,
  BRICK_ARTIFACT_DTYPE_Q8_0X16 = 7,
} brick_artifact_dtype_t;

/* The fixed header at offset 0 (128 bytes). */
typedef struct brick_artifact_header_t {
  char magic[8];                 /* BRICK_ARTIFACT_MAGIC */
  uint8_t checksum[32];          /* SHA-256 of [40, file_size) but WEIGHTS */
  uint32_t format_version;       /* BRICK_ARTIFACT_FORMAT_VERSION */
  uint32_t flags;                /* none defined; 0 */
  uint32_t section_count;        /* entries in the section table */
  uint32_t header_size;          /* BRICK_ARTIFACT_HEADER_SIZE */
  uint64_t file_size;            /* the whole file, so truncation is detected */
  uint64_t section_table_offset; /* BRICK_ARTIFACT_HEADER_SIZE */
  uint8_t reserved[56];          /* zero */
} brick_artifact_header_t;

/* One entry of the section table (32 bytes). */
typedef struct brick_artifact_section_t {
  uint32_t kind;     /* brick_artifact_section_kind_t */
  uint32_t flags;    /* none defined; 0 */
  uint64_t offset;   /* from the start of the file, 64-byte aligned */
  uint64_t size;     /* bytes, without the padding after it */
  uint64_t reserved; /* zero */
} brick_artifact_section_t;

/* Start of the TENSORS section (16 bytes). */
typedef struct brick_artifact_tensors_header_t {
  uint32_t tensor_count;
  uint32_t entry_size;   /* sizeof(brick_artifact_tensor_entry_t) */
  uint64_t names_offset; /* start of the name pool, from the section start */
} brick_artifact_tensors_header_t;

/* One tensor of the TENSORS section (96 bytes). */
typedef struct brick_artifact_tensor_entry_t {
  uint64_t offset;      /* from the start of WEIGHTS, 64-byte aligned */
  uint64_t size;        /* bytes; equals what dtype and shape imply */
  uint32_t name_offset; /* into the name pool */
  uint32_t name_length; /* bytes, without the NUL that follows the name */
  uint32_t dtype;       /* brick_artifact_dtype_t */
  uint32_t rank;        /* <= BRICK_ARTIFACT_MAX_RANK; 0 is a scalar */
  int64_t shape[BRICK_ARTIFACT_MAX_RANK]; /* row-major; unused dims are 0 */
} brick_artifact_tensor_entry_t;

/* Start of the WEIGHT_HASHES section (16 bytes); the digests follow. */
typedef struct brick_artifact_weight_hashes_t {
  uint64_t chunk_size;  /* BRICK_ARTIFACT_WEIGHT_CHUNK_SIZE when written */
  uint64_t chunk_count; /* ceil(WEIGHTS size / chunk_size) */
} brick_artifact_weight_hashes_t;

#ifdef __cplusplus
static_assert(sizeof(brick_artifact_header_t) == BRICK_ARTIFACT_HEADER_SIZE,
              "artifact header layout");
static_assert(sizeof(brick_artifact_section_t) == 32, "section layout");
static_assert(sizeof(brick_artifact_tensors_header_t) == 16, "tensors layout");
static_assert(sizeof(brick_artifact_tensor_entry_t) == 96, "tensor layout");
static_assert(sizeof(brick_artifact_weight_hashes_t) == 16, "hashes layout");
#else
_Static_assert(sizeof(brick_artifact_header_t) == BRICK_ARTIFACT_HEADER_SIZE,
               "artifact header layout");
_Static_assert(sizeof(brick_artifact_section_t) == 32, "section layout");
_Static_assert(sizeof(brick_artifact_tensors_header_t) == 16, "tensors layout");
_Static_assert(sizeof(brick_artifact_tensor_entry_t) == 96, "tensor layout");
_Static_assert(sizeof(brick_artifact_weight_hashes_t) == 16, "hashes layout");
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the artifact structs are read in place: little-endian hosts only"
#endif

#ifdef __cplusplus
}
#endif

#endif /* BRICK_ARTIFACT_FORMAT_H */
