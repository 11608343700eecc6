//===- GgufValue.h - Typed GGUF metadata values -----------------*- C++ -*-===//
//
// A GGUF metadata value keeps the exact type it was stored with (uint32 and
// int64 are different on disk), so that a file read and written again is the
// same file. Importers mostly want "an integer" or "a float" regardless of
// width, which the getAs* accessors give them.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_COMPILER_FORMATS_GGUFVALUE_H
#define BRICK_COMPILER_FORMATS_GGUFVALUE_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace brick::formats {

/// GGUF metadata value types, numbered as in the file (gguf_type).
enum class GgufType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

/// The largest valid GgufType number.
constexpr uint32_t kMaxGgufType = 12;

/// Lower-case name of a type ("uint32", "float32", "array").
llvm::StringRef getGgufTypeName(GgufType type);
/// True for the eight integer types.
bool isGgufIntegerType(GgufType type);
/// True for Int8, Int16, Int32 and Int64.
bool isGgufSignedType(GgufType type);
/// True for Float32 and Float64.
bool isGgufFloatType(GgufType type);

/// One metadata value: a scalar, a string, or an array whose elements all
/// have one type (arrays may nest).
class GgufValue {
public:
  /// A uint8 zero; assign a real value before use.
  GgufValue() = default;

  /// An integer of integer type `type`. The value is truncated to the
  /// type's width, as the file would store it.
  static GgufValue getInteger(GgufType type, int64_t value);
  /// An unsigned integer of integer type `type` (for uint64 above INT64_MAX).
  static GgufValue getUnsigned(GgufType type, uint64_t value);
  /// A float of type Float32 (rounded to float) or Float64.
  static GgufValue getFloat(GgufType type, double value);
  /// A Float32 holding exactly the bits of `value`.
  static GgufValue getFloat32(float value);
  static GgufValue getBool(bool value);
  static GgufValue getString(std::string value);
  /// An array of `elements`, each of type `elementType`.
  static GgufValue getArray(GgufType elementType,
                            std::vector<GgufValue> elements);
  /// Arrays of the types importers write most.
  static GgufValue getStringArray(const std::vector<std::string> &values);
  static GgufValue getFloat32Array(const std::vector<float> &values);
  static GgufValue getInt32Array(const std::vector<int32_t> &values);

  GgufType getType() const { return type; }
  /// The element type of an array; meaningless for other values.
  GgufType getElementType() const { return elementType; }

  /// The value of any integer type that fits in int64_t.
  std::optional<int64_t> getAsInteger() const;
  /// The value of any integer type that is non-negative.
  std::optional<uint64_t> getAsUnsigned() const;
  /// The value of a float, or of an integer converted to double.
  std::optional<double> getAsFloat() const;
  std::optional<bool> getAsBool() const;
  std::optional<llvm::StringRef> getAsString() const;
  /// The elements of an array, or nullptr for other values.
  const std::vector<GgufValue> *getAsArray() const;
  /// A scalar as the file stores it, zero-extended to 64 bits: integers in
  /// two's complement, bools as 0/1, floats as their IEEE bits.
  uint64_t getRawBits() const { return bits; }

  /// Same type and value (bitwise for floats), recursively for arrays.
  bool operator==(const GgufValue &other) const;
  bool operator!=(const GgufValue &other) const { return !(*this == other); }

private:
  GgufType type = GgufType::UInt8;
  GgufType elementType = GgufType::UInt8;
  /// Integers (two's complement, sign-extended for signed types), bools,
  /// and the IEEE bits of floats (so float32 NaN payloads survive).
  uint64_t bits = 0;
  /// The value of a float, widened to double.
  double real = 0;
  std::string text;
  std::vector<GgufValue> elements;
};

} // namespace brick::formats

#endif // BRICK_COMPILER_FORMATS_GGUFVALUE_H
