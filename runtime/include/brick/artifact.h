/*===- artifact.h - Opening and validating a Brick artifact ----------------===
 *
 * brick_artifact_open reads an artifact (layout: artifact_format.h) and
 * refuses it, each reason its own status, when its magic, version, tables,
 * checksum or target do not hold. Once open, every accessor is a
 * bounds-checked view into it: weights are used in place, never copied.
 *
 * What open reads (O(metadata), not O(weights)): the header, the section
 * table, the manifest, target, tensor table, tokenizer, code and weight
 * hashes are read into a private copy and checked against the header's
 * SHA-256 before anything uses them, so what runs is what was checked even
 * if the file changes later. WEIGHTS is mapped, not read: its pages come in
 * on first use, and its integrity is checked per 4 MiB chunk on request
 * (brick_artifact_verify_weights, BRICK_ARTIFACT_OPEN_VERIFY_WEIGHTS;
 * brick-run --verify). A weight the run reads is then either the byte that
 * was opened or, when the file was overwritten in place since, refused:
 * sessions call brick_artifact_check_unchanged before each step, and a page
 * of a truncated file, which would be a silent SIGBUS, ends the process
 * with "error: artifact FILE changed or was truncated while running" and
 * exit status 1 (the runtime installs a SIGBUS handler for this, chaining
 * to any handler installed before). A file replaced by a rename is not a
 * change: the open artifact keeps the file it opened.
 *
 * Ownership: a brick_artifact_t is freed with brick_artifact_close(); every
 * pointer an accessor returns points into the artifact and lives as long as
 * it does. An open artifact is immutable, so concurrent reads are safe.
 *
 * Errors: a failing brick_artifact_* call also leaves a one-line message
 * ("<file>: <what> (<field>)") that brick_artifact_last_error() returns on
 * the same thread until the next failing call there.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_ARTIFACT_H
#define BRICK_ARTIFACT_H

#include "brick/artifact_format.h"
#include "brick/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An open artifact (opaque). */
typedef struct brick_artifact_t brick_artifact_t;

/* Flags of brick_artifact_open_options_t. */
enum {
  /* Do not compare the artifact's target with the host: for inspecting an
   * artifact built for another machine. Never use it to run code. */
  BRICK_ARTIFACT_OPEN_SKIP_TARGET_CHECK = 1u << 0,
  /* Do not check the header checksum (the weights are never hashed at open
   * anyway). Tables are still validated, so a corrupt file cannot make the
   * reader go out of bounds; corrupt code or tokenizer bytes go unnoticed. */
  BRICK_ARTIFACT_OPEN_SKIP_CHECKSUM = 1u << 1,
  /* Also hash every weight chunk before returning, as
   * brick_artifact_verify_weights does: a full read of the weights. */
  BRICK_ARTIFACT_OPEN_VERIFY_WEIGHTS = 1u << 2,
};

/* How to open an artifact; NULL means all checks. */
typedef struct brick_artifact_open_options_t {
  uint32_t flags; /* BRICK_ARTIFACT_OPEN_* */
} brick_artifact_open_options_t;

/* One tensor of an open artifact. */
typedef struct brick_artifact_tensor_t {
  const char *name; /* NUL-terminated, inside the artifact */
  uint32_t dtype;   /* brick_artifact_dtype_t */
  uint32_t rank;
  int64_t shape[BRICK_ARTIFACT_MAX_RANK]; /* the first `rank` are used */
  const void *data; /* 64-byte aligned when the file is mapped */
  uint64_t size;    /* bytes */
  uint64_t offset;  /* from the start of the WEIGHTS section */
} brick_artifact_tensor_t;

/* One entry of the section table, as stored. */
typedef struct brick_artifact_section_info_t {
  uint32_t kind; /* brick_artifact_section_kind_t, or a kind unknown here */
  uint64_t offset;
  uint64_t size;
} brick_artifact_section_info_t;

/* Opens the artifact at `path` and validates it; `options` may be NULL.
 * Returns BRICK_ERROR_IO (cannot open, read or map, or the file changed
 * while it was read), BRICK_ERROR_BAD_MAGIC,
 * BRICK_ERROR_VERSION_MISMATCH, BRICK_ERROR_MALFORMED (truncated file,
 * tables out of bounds, misaligned or inconsistent, must-be-zero fields
 * set, a CODE section shorter than the ELF it holds),
 * BRICK_ERROR_CHECKSUM_MISMATCH, BRICK_ERROR_TARGET_MISMATCH or
 * BRICK_ERROR_OUT_OF_MEMORY. On success `*out_artifact` (NULLed on entry) is
 * freed by the caller with brick_artifact_close(). */
brick_status_t brick_artifact_open(const char *path,
                                   const brick_artifact_open_options_t *options,
                                   brick_artifact_t **out_artifact);

/* As brick_artifact_open, for `size` bytes already in memory, which are
 * borrowed and must outlive the artifact. Tensors are as aligned as `data`
 * is. Messages name the artifact "<memory>". */
brick_status_t
brick_artifact_open_bytes(const void *data, size_t size,
                          const brick_artifact_open_options_t *options,
                          brick_artifact_t **out_artifact);

/* Hashes every chunk of WEIGHTS and compares it with WEIGHT_HASHES: a full
 * read of the weights. BRICK_OK; BRICK_ERROR_CHECKSUM_MISMATCH naming the
 * first chunk that differs, its byte range and the tensors in it
 * ("(WEIGHT_HASHES[i])"); or BRICK_ERROR_IO when the file changed. */
brick_status_t brick_artifact_verify_weights(const brick_artifact_t *artifact);

/* The number of weight chunks WEIGHT_HASHES covers (0 without weights). */
uint64_t brick_artifact_weight_chunk_count(const brick_artifact_t *artifact);

/* BRICK_OK when the file `artifact` was opened from still has the size and
 * modification time it had then (always, for open_bytes); otherwise
 * BRICK_ERROR_IO with "<file>: the artifact changed or was truncated while
 * running ..." (weights read from it now may not be the ones opened). One
 * fstat: cheap enough to call before every step. */
brick_status_t brick_artifact_check_unchanged(const brick_artifact_t *artifact);

/* Unmaps and frees `artifact`; NULL is a no-op. */
void brick_artifact_close(brick_artifact_t *artifact);

/* The message of the last failing brick_artifact_* call on this thread, or
 * "" if none failed; static storage, valid until the next failing call. */
const char *brick_artifact_last_error(void);

/* The manifest JSON as a NUL-terminated string; `out_size` (may be NULL)
 * gets its length without the NUL. Never NULL for an open artifact. */
const char *brick_artifact_manifest(const brick_artifact_t *artifact,
                                    size_t *out_size);

/* The bytes of the section of `kind`: BRICK_ERROR_NOT_FOUND when the
 * artifact has none. `*out_data` (NULLed on entry) points into the artifact. */
brick_status_t brick_artifact_section(const brick_artifact_t *artifact,
                                      uint32_t kind, const void **out_data,
                                      uint64_t *out_size);

/* Number of entries of the section table, and entry `index` of it. */
uint32_t brick_artifact_section_count(const brick_artifact_t *artifact);
brick_status_t
brick_artifact_section_at(const brick_artifact_t *artifact, uint32_t index,
                          brick_artifact_section_info_t *out_info);

/* The target the artifact was compiled for: LLVM triple, CPU name and
 * feature string. Each out pointer may be NULL; strings live in the
 * artifact. */
void brick_artifact_target(const brick_artifact_t *artifact,
                           const char **out_triple, const char **out_cpu,
                           const char **out_features);

/* BRICK_OK when the host can run the artifact's code: the triple's
 * architecture is the host's and every "+feature" is present on the host,
 * or the architecture is nvptx64 (GPU code: the device is checked when a
 * BRICK_DEVICE_CUDA session is created, session.h). Otherwise
 * BRICK_ERROR_TARGET_MISMATCH, naming what is missing. */
brick_status_t brick_artifact_check_target(const brick_artifact_t *artifact);

/* Number of tensors, and tensor `index` (in the writer's order). */
uint32_t brick_artifact_tensor_count(const brick_artifact_t *artifact);
brick_status_t brick_artifact_tensor_at(const brick_artifact_t *artifact,
                                        uint32_t index,
                                        brick_artifact_tensor_t *out_tensor);

/* The tensor called `name` (binary search): BRICK_ERROR_NOT_FOUND if none. */
brick_status_t brick_artifact_find_tensor(const brick_artifact_t *artifact,
                                          const char *name,
                                          brick_artifact_tensor_t *out_tensor);

/* "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_0x16", "Q8_0x16", or "?" for
 * an unknown code. */
const char *brick_artifact_dtype_name(uint32_t dtype);

/*===--- Host CPU (host_cpu.c) --------------------------------------------===*/

/* The host's architecture as LLVM spells it in a triple: "x86_64",
 * "aarch64", or "unknown". */
const char *brick_host_cpu_arch(void);

/* Non-zero when the host has the CPU feature `name`, spelled as LLVM does
 * without the sign ("avx2", "avx512f", "fma", "neon", "fullfp16"...); zero
 * when it lacks it or the name is not known to the runtime (an unknown
 * feature is never assumed present). */
int brick_host_cpu_has_feature(const char *name);

/*===--- SHA-256 (sha256.c, FIPS 180-4) -----------------------------------===*/

/* Incremental SHA-256 state; initialise with brick_sha256_init. */
typedef struct brick_sha256_t {
  uint32_t state[8];
  uint64_t length; /* bytes hashed so far */
  uint8_t block[64];
  uint32_t block_used;
} brick_sha256_t;

void brick_sha256_init(brick_sha256_t *sha);
void brick_sha256_update(brick_sha256_t *sha, const void *data, size_t size);
/* Writes the 32-byte digest; `sha` must be initialised again to reuse. */
void brick_sha256_final(brick_sha256_t *sha, uint8_t out_digest[32]);
/* One-shot SHA-256 of `size` bytes. */
void brick_sha256(const void *data, size_t size, uint8_t out_digest[32]);

#ifdef __cplusplus
}
#endif

#endif /* BRICK_ARTIFACT_H */
