/*===- code_checks.h - What the runtime checks before running a CPU code ---===
 *
 * The CODE section of a CPU artifact is a shared object that the session
 * hands to dlopen and then calls with the artifact's tensors. Two checks
 * stand between a forged file and the code: the ELF must lie inside its
 * section (the loader maps what the headers say, and a segment past the
 * end of the staged copy is a SIGBUS, not an error), and the tensor table
 * must be the one the code was generated for (decode_abi.h's
 * brick_tensor_signature), or the code reads past a tensor. A GPU program
 * carries the same signature (gpu_program.h), and its launches state each
 * tensor's shape, which is checked too. All report into a caller's buffer
 * (error_sink.h).
 * Internal to the runtime.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_RUNTIME_SRC_CODE_CHECKS_H
#define BRICK_RUNTIME_SRC_CODE_CHECKS_H

#include "brick/artifact.h"
#include "brick/status.h"
#include "gpu_program_reader.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Checks that the ELF headers of the `size` bytes of `code` describe
 * nothing outside them: the program and section header tables and every
 * segment's file range. Bytes that are not a 64-bit ELF are left to dlopen
 * to refuse. BRICK_OK, or BRICK_ERROR_MALFORMED with one message naming
 * the header and the section ("(CODE)") in `error` (`error_size` bytes). */
brick_status_t brick_check_code_elf(const void *code, uint64_t size,
                                    char *error, size_t error_size);

/* Finds the NUL-terminated string that the symbol `name` (such as
 * BRICK_DECODE_TENSOR_SIGNATURE) of the 64-bit ELF `code` defines, through
 * its symbol tables and section headers, without loading it: the code may
 * be for another machine (brick-artifact-info). BRICK_OK with `*out_text`
 * pointing into `code`; BRICK_ERROR_MALFORMED naming "(CODE)" in `error`
 * when `code` is no such ELF, has no such symbol, or the symbol's bytes are
 * not a string inside it. */
brick_status_t brick_find_code_string(const void *code, uint64_t size,
                                      const char *name, const char **out_text,
                                      char *error, size_t error_size);

/* Compares `artifact`'s tensor table with `signature`, the code's
 * brick_tensor_signature (decode_abi.h). BRICK_OK, or BRICK_ERROR_MALFORMED
 * with one message naming the tensor and the field that differs
 * ("(TENSORS[i].shape)") in `error` (`error_size` bytes). */
brick_status_t brick_check_tensor_signature(const brick_artifact_t *artifact,
                                            const char *signature, char *error,
                                            size_t error_size);

/* The GPU path's second check, after the signature: every kernel argument
 * bound to a tensor states its shape (registers, evaluated at position 0);
 * each must be the tensor's shape in `artifact`. BRICK_OK, or
 * BRICK_ERROR_MALFORMED naming the tensor and
 * "(TENSORS[i].shape)" in `error` (`error_size` bytes). */
brick_status_t brick_check_gpu_tensor_shapes(const brick_artifact_t *artifact,
                                             const brick_gpu_program_t *program,
                                             char *error, size_t error_size);

/* The checks a session makes of the code against the tensor table, without
 * loading or running the code: a CPU shared object's
 * brick_tensor_signature (brick_find_code_string), or a GPU program's
 * signature and launch shapes. BRICK_OK when `artifact` has no CODE; else
 * the first failure's status and message, as a session would report it
 * (brick-artifact-info). */
brick_status_t
brick_check_code_matches_tensors(const brick_artifact_t *artifact, char *error,
                                 size_t error_size);

#ifdef __cplusplus
}
#endif

#endif /* BRICK_RUNTIME_SRC_CODE_CHECKS_H */
