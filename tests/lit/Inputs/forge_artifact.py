"""Forges a Brick artifact for the lit tests of its integrity checks.

An independent reading of runtime/include/brick/artifact_format.h (version
2): the header checksum is the SHA-256 of bytes [40, file_size) without the
WEIGHTS section's bytes; WEIGHT_HASHES holds one SHA-256 per chunk of
WEIGHTS. Each edit rewrites the file in place and reseals the header
checksum (never the chunk hashes, so a changed weight stays detectable):

  forge_artifact.py FILE flip-weight OFFSET   flip a bit of WEIGHTS byte OFFSET
  forge_artifact.py FILE set-dtype INDEX DTYPE
      tensor INDEX gets dtype DTYPE (F32, F16, BF16, Q8_0, Q4_0) with the
      same shape and the size that implies, so the table stays consistent
"""

import hashlib
import struct
import sys

HEADER_SIZE = 128
CHECKSUMMED_FROM = 40
WEIGHTS = 4
TENSORS = 3
# Code and bytes per 32 elements (Q8_0, Q4_0: one block).
DTYPES = {"F32": (1, 128), "F16": (2, 64), "BF16": (3, 64), "Q8_0": (4, 34),
          "Q4_0": (5, 18)}


def sections(data):
    count = struct.unpack_from("<I", data, 48)[0]
    table = struct.unpack_from("<Q", data, 64)[0]
    result = {}
    for i in range(count):
        kind, _, offset, size, _ = struct.unpack_from("<IIQQQ", data, table + 32 * i)
        result.setdefault(kind, (offset, size))
    return result


def reseal(data):
    offset, size = sections(data).get(WEIGHTS, (len(data), 0))
    digest = hashlib.sha256(
        bytes(data[CHECKSUMMED_FROM:offset]) + bytes(data[offset + size:])
    ).digest()
    data[8:40] = digest


def main(argv):
    path, edit = argv[1], argv[2]
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if edit == "flip-weight":
        offset, _ = sections(data)[WEIGHTS]
        data[offset + int(argv[3])] ^= 0x10
    elif edit == "set-dtype":
        index, (code, element) = int(argv[3]), DTYPES[argv[4]]
        entry = sections(data)[TENSORS][0] + 16 + 96 * index
        rank = struct.unpack_from("<I", data, entry + 28)[0]
        elements = 1
        for d in struct.unpack_from("<%dq" % rank, data, entry + 32):
            elements *= d
        struct.pack_into("<Q", data, entry + 8, elements * element // 32)
        struct.pack_into("<I", data, entry + 24, code)
    else:
        sys.exit("unknown edit " + edit)
    reseal(data)
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main(sys.argv)
