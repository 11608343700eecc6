/*===- runtime.h - The Brick runtime C API ---------------------------------===
 *
 * The runtime loads a Brick artifact and runs it. It is C-callable and
 * depends on nothing but libc, libm, pthreads and dlopen, so it ships to
 * devices. This header is the whole API:
 *   brick/status.h     the status every fallible call returns;
 *   brick/artifact.h   open, validate and map an artifact;
 *   brick/session.h    load its code, step one token or a prompt block,
 *                      the KV cache, the threads, the brick trace;
 *   brick/sampler.h    greedy, temperature and top-p sampling, seeded;
 *   brick/tokenizer.h  encode and decode text.
 * brick/decode_abi.h is the contract between generated code and the
 * session, for those who call generated code themselves.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_RUNTIME_H
#define BRICK_RUNTIME_H

#include "brick/artifact.h"
#include "brick/sampler.h"
#include "brick/session.h"
#include "brick/status.h"
#include "brick/tokenizer.h"

#endif /* BRICK_RUNTIME_H */
