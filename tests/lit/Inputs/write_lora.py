"""Writes a PEFT LoRA adapter for stories260K (dim 64, key/value dim 32, FFN 172, 5 layers).

  write_lora.py DIR STD

Rank 8, lora_alpha 16 (scaling 2), on the attention's v and o projections
and the FFN's gate and up projections (not q and k: stories260K keeps
Meta's interleaved RoPE rows, where a Hugging Face delta does not apply), with factors drawn from a seeded normal
distribution of standard deviation STD (Python's `random`, deterministic
across platforms): adapter_config.json and adapter_model.safetensors (F32)
in DIR, which must exist. The delta is not trained; it only has to be
large enough that rounding it matters.
"""

import json
import random
import struct
import sys

RANK, ALPHA, LAYERS, DIM, KV_DIM, FFN = 8, 16, 5, 64, 32, 172
MODULES = {
    "self_attn.v_proj": (KV_DIM, DIM),
    "self_attn.o_proj": (DIM, DIM),
    "mlp.gate_proj": (FFN, DIM),
    "mlp.up_proj": (FFN, DIM),
}


def main():
    directory, std = sys.argv[1], float(sys.argv[2])
    rng = random.Random(16)
    header, data = {}, bytearray()
    for layer in range(LAYERS):
        for module, (out_dim, in_dim) in MODULES.items():
            prefix = f"base_model.model.model.layers.{layer}.{module}."
            for name, shape in (("lora_A.weight", [RANK, in_dim]),
                                ("lora_B.weight", [out_dim, RANK])):
                count = shape[0] * shape[1]
                values = [rng.gauss(0.0, std) for _ in range(count)]
                header[prefix + name] = {
                    "dtype": "F32", "shape": shape,
                    "data_offsets": [len(data), len(data) + 4 * count]}
                data += struct.pack(f"<{count}f", *values)
    text = json.dumps(header).encode()
    with open(f"{directory}/adapter_model.safetensors", "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + data)
    with open(f"{directory}/adapter_config.json", "w") as out:
        json.dump({"peft_type": "LORA", "r": RANK, "lora_alpha": ALPHA,
                   "target_modules": sorted({m.split(".")[1] for m in MODULES}),
                   "bias": "none", "task_type": "CAUSAL_LM"}, out)


main()
