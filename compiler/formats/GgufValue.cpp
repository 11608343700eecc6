//===- GgufValue.cpp - Typed GGUF metadata values -------------------------===//

#include "compiler/formats/GgufValue.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/ErrorHandling.h"

#include <cassert>
#include <limits>

using namespace brick::formats;

llvm::StringRef brick::formats::getGgufTypeName(GgufType type) {
  switch (type) {
  case GgufType::UInt8:
    return "uint8";
  case GgufType::Int8:
    return "int8";
  case GgufType::UInt16:
    return "uint16";
  case GgufType::Int16:
    return "int16";
  case GgufType::UInt32:
    return "uint32";
  case GgufType::Int32:
    return "int32";
  case GgufType::Float32:
    return "float32";
  case GgufType::Bool:
    return "bool";
  case GgufType::String:
    return "string";
  case GgufType::Array:
    return "array";
  case GgufType::UInt64:
    return "uint64";
  case GgufType::Int64:
    return "int64";
  case GgufType::Float64:
    return "float64";
  }
  return "unknown";
}

bool brick::formats::isGgufIntegerType(GgufType type) {
  switch (type) {
  case GgufType::UInt8:
  case GgufType::Int8:
  case GgufType::UInt16:
  case GgufType::Int16:
  case GgufType::UInt32:
  case GgufType::Int32:
  case GgufType::UInt64:
  case GgufType::Int64:
    return true;
  default:
    return false;
  }
}

bool brick::formats::isGgufSignedType(GgufType type) {
  return type == GgufType::Int8 || type == GgufType::Int16 ||
         type == GgufType::Int32 || type == GgufType::Int64;
}

bool brick::formats::isGgufFloatType(GgufType type) {
  return type == GgufType::Float32 || type == GgufType::Float64;
}

/// Width in bits of an integer type.
static unsigned getIntegerWidth(GgufType type) {
  switch (type) {
  case GgufType::UInt8:
  case GgufType::Int8:
    return 8;
  case GgufType::UInt16:
  case GgufType::Int16:
    return 16;
  case GgufType::UInt32:
  case GgufType::Int32:
    return 32;
  default:
    return 64;
  }
}

/// Truncates `bits` to the width of `type` and re-extends it, so that two
/// values that the file stores identically also compare equal.
static uint64_t normalizeBits(GgufType type, uint64_t bits) {
  unsigned width = getIntegerWidth(type);
  if (width == 64)
    return bits;
  uint64_t mask = (uint64_t(1) << width) - 1;
  bits &= mask;
  if (isGgufSignedType(type) && (bits >> (width - 1)) != 0)
    bits |= ~mask;
  return bits;
}

GgufValue GgufValue::getInteger(GgufType type, int64_t value) {
  return getUnsigned(type, static_cast<uint64_t>(value));
}

GgufValue GgufValue::getUnsigned(GgufType type, uint64_t value) {
  assert(isGgufIntegerType(type) && "not an integer type");
  GgufValue result;
  result.type = type;
  result.bits = normalizeBits(type, value);
  return result;
}

GgufValue GgufValue::getFloat(GgufType type, double value) {
  assert(isGgufFloatType(type) && "not a float type");
  if (type == GgufType::Float32)
    return getFloat32(static_cast<float>(value));
  GgufValue result;
  result.type = type;
  result.real = value;
  result.bits = llvm::bit_cast<uint64_t>(value);
  return result;
}

GgufValue GgufValue::getFloat32(float value) {
  GgufValue result;
  result.type = GgufType::Float32;
  result.real = value;
  result.bits = llvm::bit_cast<uint32_t>(value);
  return result;
}

GgufValue GgufValue::getBool(bool value) {
  GgufValue result;
  result.type = GgufType::Bool;
  result.bits = value;
  return result;
}

GgufValue GgufValue::getString(std::string value) {
  GgufValue result;
  result.type = GgufType::String;
  result.text = std::move(value);
  return result;
}

GgufValue GgufValue::getArray(GgufType elementType,
                              std::vector<GgufValue> elements) {
  GgufValue result;
  result.type = GgufType::Array;
  result.elementType = elementType;
  result.elements = std::move(elements);
  return result;
}

GgufValue GgufValue::getStringArray(const std::vector<std::string> &values) {
  std::vector<GgufValue> elements;
  elements.reserve(values.size());
  for (const std::string &value : values)
    elements.push_back(getString(value));
  return getArray(GgufType::String, std::move(elements));
}

GgufValue GgufValue::getFloat32Array(const std::vector<float> &values) {
  std::vector<GgufValue> elements;
  elements.reserve(values.size());
  for (float value : values)
    elements.push_back(getFloat32(value));
  return getArray(GgufType::Float32, std::move(elements));
}

GgufValue GgufValue::getInt32Array(const std::vector<int32_t> &values) {
  std::vector<GgufValue> elements;
  elements.reserve(values.size());
  for (int32_t value : values)
    elements.push_back(getInteger(GgufType::Int32, value));
  return getArray(GgufType::Int32, std::move(elements));
}

std::optional<int64_t> GgufValue::getAsInteger() const {
  if (!isGgufIntegerType(type))
    return std::nullopt;
  if (!isGgufSignedType(type) &&
      bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return std::nullopt;
  return static_cast<int64_t>(bits);
}

std::optional<uint64_t> GgufValue::getAsUnsigned() const {
  if (!isGgufIntegerType(type))
    return std::nullopt;
  if (isGgufSignedType(type) && static_cast<int64_t>(bits) < 0)
    return std::nullopt;
  return bits;
}

std::optional<double> GgufValue::getAsFloat() const {
  if (isGgufFloatType(type))
    return real;
  if (!isGgufIntegerType(type))
    return std::nullopt;
  if (isGgufSignedType(type))
    return static_cast<double>(static_cast<int64_t>(bits));
  return static_cast<double>(bits);
}

std::optional<bool> GgufValue::getAsBool() const {
  if (type != GgufType::Bool)
    return std::nullopt;
  return bits != 0;
}

std::optional<llvm::StringRef> GgufValue::getAsString() const {
  if (type != GgufType::String)
    return std::nullopt;
  return llvm::StringRef(text);
}

const std::vector<GgufValue> *GgufValue::getAsArray() const {
  return type == GgufType::Array ? &elements : nullptr;
}

bool GgufValue::operator==(const GgufValue &other) const {
  if (type != other.type)
    return false;
  switch (type) {
  case GgufType::String:
    return text == other.text;
  case GgufType::Array:
    return elementType == other.elementType && elements == other.elements;
  default:
    // Floats compare bitwise, so that -0.0 and NaN payloads round-trip.
    return bits == other.bits;
  }
}
