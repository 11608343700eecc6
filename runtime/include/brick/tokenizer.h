/*===- tokenizer.h - The Brick runtime tokenizer C API ---------------------===
 *
 * One canonical tokenizer model serves every source format: the compiler
 * converts Hugging Face tokenizer.json and GGUF vocabularies into it and
 * serialises it ("BRKT"); the runtime also reads llama2.c's tokenizer.bin
 * directly, because that format is simple binary. Two algorithms cover the
 * models Brick targets:
 *
 * - SentencePiece BPE (Llama-2, Mistral, TinyLlama, llama2.c): the text gets
 *   a dummy-prefix space, is split into UTF-8 characters, unknown characters
 *   fall back to `<0xAB>` byte pieces, then adjacent pairs merge greedily.
 *   Without merges the pair whose concatenation is the vocabulary piece with
 *   the highest score merges first (exactly llama2.c run.c's `encode`); with
 *   merges the pair with the lowest merge rank merges first (Hugging Face).
 *   Ties go to the leftmost pair.
 * - Byte-level BPE (GPT-2, Llama-3, Qwen2): the text is split by a fixed
 *   pre-tokenizer pattern, each piece's raw bytes are the initial symbols,
 *   and pairs merge by rank. Pieces are stored as raw bytes, not in GPT-2's
 *   byte-to-unicode spelling, so decoding needs no table.
 *
 * Ownership: a brick_tokenizer_t is freed with brick_tokenizer_free(); every
 * buffer the API allocates for the caller (token ids, serialised bytes) is
 * freed with brick_tokenizer_buffer_free(). Pieces returned by decode point
 * into the tokenizer and live as long as it does. A tokenizer is immutable
 * after loading, so concurrent encode/decode calls on one are safe.
 *
 *===----------------------------------------------------------------------===*/

#ifndef BRICK_TOKENIZER_H
#define BRICK_TOKENIZER_H

#include "brick/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the "BRKT" serialisation written by brick_tokenizer_serialize. */
#define BRICK_TOKENIZER_FORMAT_VERSION 1

/* How a segment of text becomes token ids. */
typedef enum brick_tokenizer_algorithm_t {
  BRICK_TOKENIZER_ALGORITHM_SENTENCEPIECE_BPE = 1,
  BRICK_TOKENIZER_ALGORITHM_BYTE_LEVEL_BPE = 2,
} brick_tokenizer_algorithm_t;

/* The split applied before byte-level BPE; each is one fixed regular
 * expression, matched by hand-written code (tokenizer_pretokenize.cpp):
 * - GPT2:
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * - LLAMA3 (one pattern, cut after \p{N}{1,3}|):
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * - QWEN2: as LLAMA3 with \p{N} in place of \p{N}{1,3}.
 * NONE keeps each segment whole (and is the only choice for SentencePiece). */
typedef enum brick_pretokenizer_t {
  BRICK_PRETOKENIZER_NONE = 0,
  BRICK_PRETOKENIZER_GPT2 = 1,
  BRICK_PRETOKENIZER_LLAMA3 = 2,
  BRICK_PRETOKENIZER_QWEN2 = 3,
} brick_pretokenizer_t;

/* Kind of a vocabulary piece. The numbering is GGUF's token_type, so GGUF
 * vocabularies convert without a table. */
typedef enum brick_token_type_t {
  BRICK_TOKEN_TYPE_UNDEFINED = 0,
  BRICK_TOKEN_TYPE_NORMAL = 1,
  BRICK_TOKEN_TYPE_UNKNOWN = 2,
  BRICK_TOKEN_TYPE_CONTROL = 3,      /* special: BOS, EOS, chat markers */
  BRICK_TOKEN_TYPE_USER_DEFINED = 4, /* added, non-special */
  BRICK_TOKEN_TYPE_UNUSED = 5,
  BRICK_TOKEN_TYPE_BYTE = 6, /* byte fallback, spelled exactly <0xAB> */
} brick_token_type_t;

/* Model flags (a bit set). */
enum {
  /* Put one " " before a non-empty segment of text (run.c, SentencePiece's
   * add_dummy_prefix, Hugging Face's Prepend/Metaspace/add_prefix_space). */
  BRICK_TOKENIZER_FLAG_ADD_DUMMY_PREFIX = 1u << 0,
  /* Apply the dummy prefix to every segment between literal pieces, not only
   * to the one at the start of the text (Hugging Face's Prepend normalizer,
   * Metaspace prepend_scheme "always", ByteLevel add_prefix_space). */
  BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_EVERY_SEGMENT = 1u << 1,
  /* Characters missing from the vocabulary become their <0xAB> pieces. */
  BRICK_TOKENIZER_FLAG_BYTE_FALLBACK = 1u << 2,
  /* Consecutive unknown characters become one unknown token. */
  BRICK_TOKENIZER_FLAG_FUSE_UNKNOWN = 1u << 3,
  /* A pre-token that is a whole piece is emitted without merging (Llama-3). */
  BRICK_TOKENIZER_FLAG_IGNORE_MERGES = 1u << 4,
  /* No dummy prefix for a segment that already starts with " " (Hugging
   * Face's Metaspace and ByteLevel add_prefix_space; run.c always adds it). */
  BRICK_TOKENIZER_FLAG_DUMMY_PREFIX_UNLESS_SPACE = 1u << 5,
  /* SentencePiece only: a U+2581 "\xE2\x96\x81" in the input is a space,
   * as in Hugging Face's and llama.cpp's pipelines, which turn every space
   * into U+2581 before looking pieces up (run.c does not, so llama2.c
   * models leave it unset and byte-encode it). */
  BRICK_TOKENIZER_FLAG_METASPACE_IS_SPACE = 1u << 6,
  /* Literal pieces are split out of the text longest first, each at every
   * occurrence in what is left (llama.cpp's special-token partition),
   * instead of leftmost-longest in one scan (Hugging Face's added tokens).
   * The two differ only where literals overlap. */
  BRICK_TOKENIZER_FLAG_LITERALS_LONGEST_FIRST = 1u << 7,
};

/* Piece attributes (a bit set). */
enum {
  /* The piece is matched verbatim in the input text before any other
   * processing, leftmost-longest (Hugging Face added tokens). */
  BRICK_TOKEN_ATTR_LITERAL = 1u << 0,
};

/* An immutable, loaded tokenizer. */
typedef struct brick_tokenizer_t brick_tokenizer_t;

/* Loads a llama2.c tokenizer.bin of `vocab_size` pieces from `path`
 * (int32 max_token_length, then per piece float32 score, int32 length,
 * bytes; little-endian). It becomes SentencePiece BPE merged by score, with
 * dummy prefix and byte fallback, BOS 1, EOS 2, unknown 0, as in run.c.
 * `*out_tokenizer` is set to NULL on entry; on success the caller owns it
 * and frees it with brick_tokenizer_free(). */
brick_status_t brick_tokenizer_load_llama2c(const char *path,
                                            int32_t vocab_size,
                                            brick_tokenizer_t **out_tokenizer);

/* As brick_tokenizer_load_llama2c, from `size` bytes already in memory
 * (borrowed for the call only). */
brick_status_t
brick_tokenizer_load_llama2c_bytes(const uint8_t *bytes, size_t size,
                                   int32_t vocab_size,
                                   brick_tokenizer_t **out_tokenizer);

/* Loads the canonical "BRKT" serialisation from `size` bytes (borrowed for
 * the call only). Every field is bounds- and range-checked: malformed bytes
 * give BRICK_ERROR_BAD_MAGIC, BRICK_ERROR_VERSION_MISMATCH or
 * BRICK_ERROR_INVALID_ARGUMENT, never a crash. `*out_tokenizer` is set to
 * NULL on entry; the caller frees it with brick_tokenizer_free(). */
brick_status_t
brick_tokenizer_load_canonical(const uint8_t *bytes, size_t size,
                               brick_tokenizer_t **out_tokenizer);

/* Serialises `tokenizer` to the canonical form. `*out_bytes` and `*out_size`
 * are set to NULL/0 on entry; on success the caller frees `*out_bytes` with
 * brick_tokenizer_buffer_free(). */
brick_status_t brick_tokenizer_serialize(const brick_tokenizer_t *tokenizer,
                                         uint8_t **out_bytes, size_t *out_size);

/* Encodes the NUL-terminated UTF-8 `text`, preceded by BOS when `add_bos` is
 * non-zero and the model has one (a model without BOS adds nothing).
 * `*out_ids` and `*out_count` are set to NULL/0 on entry; on success the
 * caller frees `*out_ids` with brick_tokenizer_buffer_free() (it is NULL when
 * the count is 0). Fails with BRICK_ERROR_INVALID_ARGUMENT when a character
 * has no piece, no byte fallback and the model has no unknown token. */
brick_status_t brick_tokenizer_encode(const brick_tokenizer_t *tokenizer,
                                      const char *text, int add_bos,
                                      int32_t **out_ids, size_t *out_count);

/* The text of `token` when it follows `prev_token`, with run.c's convention:
 * after BOS the dummy-prefix space is stripped (SentencePiece models), and a
 * <0xAB> piece becomes the one raw byte. The NUL-terminated result points
 * into the tokenizer and lives as long as it; NULL for an out-of-range token
 * or a NULL tokenizer. A piece holding a NUL byte (byte <0x00>, or a raw
 * byte-level piece) reads short here: use brick_tokenizer_decode_bytes. */
const char *brick_tokenizer_decode(const brick_tokenizer_t *tokenizer,
                                   int32_t prev_token, int32_t token);

/* As brick_tokenizer_decode, with an explicit length so NUL bytes survive.
 * `*out_bytes`/`*out_length` are set to NULL/0 on entry; the bytes point
 * into the tokenizer (do not free them). */
brick_status_t brick_tokenizer_decode_bytes(const brick_tokenizer_t *tokenizer,
                                            int32_t prev_token, int32_t token,
                                            const char **out_bytes,
                                            size_t *out_length);

/* Number of pieces; 0 for a NULL tokenizer. */
int32_t brick_tokenizer_vocab_size(const brick_tokenizer_t *tokenizer);

/* BOS and EOS ids, or -1 when the model has none (or tokenizer is NULL). */
int32_t brick_tokenizer_bos_id(const brick_tokenizer_t *tokenizer);
int32_t brick_tokenizer_eos_id(const brick_tokenizer_t *tokenizer);

/* Type of `token`; BRICK_TOKEN_TYPE_UNDEFINED when out of range. Callers
 * use it to skip control pieces when printing. */
brick_token_type_t
brick_tokenizer_token_type(const brick_tokenizer_t *tokenizer, int32_t token);

/* Frees a buffer returned by brick_tokenizer_encode or
 * brick_tokenizer_serialize; NULL is a no-op. */
void brick_tokenizer_buffer_free(void *buffer);

/* Frees `tokenizer` and every piece it handed out; NULL is a no-op. */
void brick_tokenizer_free(brick_tokenizer_t *tokenizer);

#ifdef __cplusplus
}
#endif

#endif /* BRICK_TOKENIZER_H */
