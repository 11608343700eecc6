//===- BrickAttrs.td - Enums and attributes of brick --------*- tablegen -*-===//
//
// Hyper-parameters, external weight references, brick provenance and
// compilation targets, plus the enums the ops print as bare keywords.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_ATTRS_TD
#define BRICK_ATTRS_TD

include "dialects/Brick/BrickDialect.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

// Enums are stored as integer attributes and printed as bare keywords in op
// assembly (`act silu`), like arith.cmpi's predicates.

def Brick_DTypeAttr : I32EnumAttr<"DType", "element type of weight bytes in a file", [
    I32EnumAttrCase<"f32", 0>,
    I32EnumAttrCase<"f16", 1>,
    I32EnumAttrCase<"bf16", 2>,
    // GGUF/llama.cpp Q8_0: blocks of 32 int8 values with one f16 scale.
    I32EnumAttrCase<"q8_0", 3>,
    // Q4_0: blocks of 32 4-bit values with one f16 scale.
    I32EnumAttrCase<"q4_0", 4>,
    // Read from GGUF files and dequantised: Q4_1, Q5_0, Q5_1 (blocks of 32)
    // and the K formats Q4_K, Q5_K, Q6_K (super-blocks of 256).
    I32EnumAttrCase<"q4_1", 5>,
    I32EnumAttrCase<"q5_0", 6>,
    I32EnumAttrCase<"q5_1", 7>,
    I32EnumAttrCase<"q4_k", 8>,
    I32EnumAttrCase<"q5_k", 9>,
    I32EnumAttrCase<"q6_k", 10>,
  ]> {
  let cppNamespace = "::mlir::brick";
}

def Brick_ActivationAttr : I32EnumAttr<"Activation", "FFN activation", [
    I32EnumAttrCase<"silu", 0>,
    I32EnumAttrCase<"gelu", 1>,
    I32EnumAttrCase<"gelu_tanh", 2>,
    I32EnumAttrCase<"relu", 3>,
    I32EnumAttrCase<"relu2", 4>,
  ]> {
  let cppNamespace = "::mlir::brick";
}

def Brick_RopeStyleAttr : I32EnumAttr<"RopeStyle", "which dimensions RoPE rotates together", [
    // (2i, 2i+1): Meta's and llama2.c's layout.
    I32EnumAttrCase<"interleaved", 0>,
    // (i, i + d/2): Hugging Face's rotate_half layout.
    I32EnumAttrCase<"half", 1>,
  ]> {
  let cppNamespace = "::mlir::brick";
}

def Brick_LoraScalingAttr : I32EnumAttr<"LoraScaling", "how a LoRA delta is scaled", [
    // PEFT's default: alpha / r.
    I32EnumAttrCase<"alpha_over_rank", 0>,
    // rsLoRA: alpha / sqrt(r).
    I32EnumAttrCase<"rslora", 1>,
  ]> {
  let cppNamespace = "::mlir::brick";
}

def Brick_TokenizerKindAttr : I32EnumAttr<"TokenizerKind", "tokenizer file format", [
    I32EnumAttrCase<"llama2c", 0>,
    I32EnumAttrCase<"hf_json", 1>,
    I32EnumAttrCase<"gguf", 2>,
  ]> {
  let cppNamespace = "::mlir::brick";
}

def Brick_RoutingAttr : I32EnumAttr<"Routing", "how the kept FFN is evaluated per token", [
    // Every kept neuron runs for every token.
    I32EnumAttrCase<"static_", 0, "static">,
    // A router picks the top-k kept bricks of each layer per token.
    I32EnumAttrCase<"topk", 1>,
  ]> {
  let cppNamespace = "::mlir::brick";
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

/// A double, kept as an APFloat (which hashes), printed in MLIR's shortest
/// round-tripping float syntax.
class Brick_F64Parameter<string desc> : APFloatParameter<desc> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if (::mlir::failed($_parser.parseFloat(value)))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = [{ $_printer.printFloat($_self) }];
}

/// A bool printed as `true` or `false`.
class Brick_BoolParameter<string desc> : AttrOrTypeParameter<"bool", desc> {
  let parser = [{ [&]() -> ::mlir::FailureOr<bool> {
    if (::mlir::succeeded($_parser.parseOptionalKeyword("true")))
      return true;
    if (::mlir::succeeded($_parser.parseOptionalKeyword("false")))
      return false;
    $_parser.emitError($_parser.getCurrentLocation(),
                       "expected 'true' or 'false'");
    return ::mlir::failure();
  }() }];
  let printer = [{ $_printer << ($_self ? "true" : "false") }];
}

class Brick_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Brick_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Brick_HParamsAttr : Brick_Attr<"HParams", "hparams"> {
  let summary = "hyper-parameters of a Llama-family decoder";
  let description = [{
    ```mlir
    #brick.hparams<arch = "llama", hidden = 8, ffn = 16, layers = 2,
                   heads = 2, kv_heads = 1, head_dim = 4, vocab = 32,
                   max_seq = 64, rope_theta = 10000.0, norm_eps = 1.0e-05,
                   tied = false>
    ```
    `ffn` is the FFN width of the source model; a pruned layer may be
    narrower, and its `brick.ffn` op's weights say how wide it is.
  }];
  let parameters = (ins
    StringRefParameter<"architecture, e.g. llama, mistral, qwen2">:$arch,
    "int64_t":$hidden,
    "int64_t":$ffn,
    "int64_t":$layers,
    "int64_t":$heads,
    "int64_t":$kv_heads,
    "int64_t":$head_dim,
    "int64_t":$vocab,
    "int64_t":$max_seq,
    Brick_F64Parameter<"RoPE base frequency">:$rope_theta,
    Brick_F64Parameter<"RMSNorm epsilon">:$norm_eps,
    Brick_BoolParameter<"whether the logits reuse the token embedding">:$tied
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Brick_ExternalAttr : Brick_Attr<"External", "external"> {
  let summary = "a tensor whose bytes stay in a file";
  let description = [{
    Where a weight's bytes are: the file (relative paths resolve against the
    directory of the brick graph), the tensor's name in that file, the element
    type of the stored bytes, the shape and the byte offset of the first
    element. The importer never copies the bytes; the compiler memory-maps
    the file when it materialises weights.

    ```mlir
    #brick.external<file = "stories260K.bin", tensor = "tok_embeddings.weight",
                    dtype = f32, shape = [512, 64], offset = 28>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"path of the file">:$file,
    StringRefParameter<"name of the tensor in the file">:$tensor,
    "::mlir::brick::DType":$dtype,
    ArrayRefParameter<"int64_t", "shape">:$shape,
    "uint64_t":$offset
  );
  let assemblyFormat = [{
    `<` `file` `=` $file `,` `tensor` `=` $tensor `,` `dtype` `=` $dtype `,`
    `shape` `=` `[` $shape `]` `,` `offset` `=` $offset `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bytes the tensor occupies in its file.
    uint64_t getByteSize() const;
  }];
}

def Brick_ProvenanceAttr : Brick_Attr<"Provenance", "provenance"> {
  let summary = "how an emergent brick was discovered";
  let description = [{
    The clustering method, its parameters, the seed and the SHA-256 of each
    calibration corpus, so that a brick can be traced and reproduced.

    ```mlir
    #brick.provenance<method = "coact", params = {iterations = 20 : i64},
                      seed = 7, calibration = ["9f86d0...", "e3b0c4..."]>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"clustering method">:$method,
    "::mlir::DictionaryAttr":$params,
    "uint64_t":$seed,
    "::mlir::ArrayAttr":$calibration
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Brick_TargetAttr : Brick_Attr<"Target", "target"> {
  let summary = "the machine an artifact is compiled for";
  let description = [{
    ```mlir
    #brick.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell",
                  features = "+avx2,+fma">
    ```
  }];
  let parameters = (ins
    StringRefParameter<"target triple">:$triple,
    StringRefParameter<"CPU or GPU architecture name">:$cpu,
    StringRefParameter<"comma-separated +feature/-feature list">:$features
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // BRICK_ATTRS_TD
