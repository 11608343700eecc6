//===- BrickTypes.td - Types of the brick dialect -----------*- tablegen -*-===//

#ifndef BRICK_TYPES_TD
#define BRICK_TYPES_TD

include "dialects/Brick/BrickDialect.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def Brick_KVCacheType : TypeDef<Brick_Dialect, "KVCache"> {
  let mnemonic = "kv_cache";
  let summary = "the key/value cache of every attention layer of a model";
  let description = [{
    Keys and values of every layer, `max_seq` positions deep, with `kv_heads`
    heads of `head_dim` elements each. `brick.attention` appends the keys and
    values of its token block at the block's position and attends over every
    earlier position.

    ```mlir
    !brick.kv_cache<layers = 2, max_seq = 64, kv_heads = 1, head_dim = 4,
                    dtype = f32>
    ```
  }];
  let parameters = (ins
    "int64_t":$layers,
    "int64_t":$max_seq,
    "int64_t":$kv_heads,
    "int64_t":$head_dim,
    "::mlir::Type":$dtype
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // BRICK_TYPES_TD
