//===- ForgedArtifactTest.cpp - Consistent-looking but forged artifacts ---===//
//
// A checksum proves a file is the one written, not that it is consistent:
// these tests forge a real compiled stories260K artifact (brickc, run once
// per test process) and recompute its checksum (reseal), so every forgery
// reaches the checks behind it. A tensor table that disagrees with the
// code's brick_tensor_signature (a shape, a dtype, two entries swapped, the
// code of another artifact, a shrunk tensor at the end of the file), a CODE
// section shorter than its ELF and non-zero must-be-zero fields are each
// refused with their status and a message naming the field, before any
// step; sections with their kinds swapped or repeated are refused, and laid
// out in another order run the same; then a few hundred seeded byte changes
// of the tables and edits of the section table's offsets and sizes,
// resealed, must be refused (where they change what the code reads) and
// never crash. scripts/test-sanitized.sh runs them under ASan and UBSan.
// Without the signature check each forgery ran and printed garbage, the
// shrunk tensor read past the end of the file, and the short CODE section
// was a SIGBUS.
//
//===----------------------------------------------------------------------===//

#include "ArtifactTestSupport.h"

#include "brick/artifact.h"
#include "brick/session.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <map>
#include <random>

using namespace brick::artifact::test;

namespace {

using Bytes = std::vector<uint8_t>;

/// A section of an artifact, copied out.
struct Section {
  uint32_t kind;
  Bytes bytes;
};

/// The section table of a well-formed artifact.
std::vector<brick_artifact_section_t> tableOf(const Bytes &file) {
  brick_artifact_header_t header;
  std::memcpy(&header, file.data(), sizeof(header));
  std::vector<brick_artifact_section_t> table(header.section_count);
  std::memcpy(table.data(), file.data() + header.section_table_offset,
              table.size() * sizeof(table[0]));
  return table;
}

std::vector<Section> splitSections(const Bytes &file) {
  std::vector<Section> sections;
  for (const brick_artifact_section_t &s : tableOf(file))
    sections.push_back({s.kind, Bytes(file.begin() + s.offset,
                                      file.begin() + s.offset + s.size)});
  return sections;
}

/// Lays `sections` out as the writer does (header, table, 64-byte aligned
/// sections) and reseals the file.
Bytes layOut(const std::vector<Section> &sections) {
  uint64_t offset = BRICK_ARTIFACT_HEADER_SIZE +
                    sections.size() * sizeof(brick_artifact_section_t);
  std::vector<brick_artifact_section_t> table;
  for (const Section &section : sections) {
    offset = (offset + BRICK_ARTIFACT_ALIGNMENT - 1) /
             BRICK_ARTIFACT_ALIGNMENT * BRICK_ARTIFACT_ALIGNMENT;
    table.push_back({section.kind, 0, offset, section.bytes.size(), 0});
    offset += section.bytes.size();
  }
  Bytes file(offset, 0);
  brick_artifact_header_t header{};
  std::memcpy(header.magic, BRICK_ARTIFACT_MAGIC, BRICK_ARTIFACT_MAGIC_SIZE);
  header.format_version = BRICK_ARTIFACT_FORMAT_VERSION;
  header.section_count = static_cast<uint32_t>(sections.size());
  header.header_size = BRICK_ARTIFACT_HEADER_SIZE;
  header.file_size = file.size();
  header.section_table_offset = BRICK_ARTIFACT_HEADER_SIZE;
  std::memcpy(file.data(), &header, sizeof(header));
  std::memcpy(file.data() + BRICK_ARTIFACT_HEADER_SIZE, table.data(),
              table.size() * sizeof(table[0]));
  for (size_t i = 0; i < sections.size(); ++i)
    std::memcpy(file.data() + table[i].offset, sections[i].bytes.data(),
                sections[i].bytes.size());
  reseal(file);
  return file;
}

Section &sectionOf(std::vector<Section> &sections, uint32_t kind) {
  for (Section &section : sections)
    if (section.kind == kind)
      return section;
  ADD_FAILURE() << "no section of kind " << kind;
  return sections.front();
}

brick_artifact_tensor_entry_t entryAt(const Bytes &tensors, uint32_t index) {
  brick_artifact_tensor_entry_t entry;
  std::memcpy(&entry,
              tensors.data() + sizeof(brick_artifact_tensors_header_t) +
                  index * sizeof(entry),
              sizeof(entry));
  return entry;
}

void setEntry(Bytes &tensors, uint32_t index,
              const brick_artifact_tensor_entry_t &entry) {
  std::memcpy(tensors.data() + sizeof(brick_artifact_tensors_header_t) +
                  index * sizeof(entry),
              &entry, sizeof(entry));
}

/// What opening `file` and creating a session on it said.
struct Outcome {
  brick_status_t status;
  std::string message;
};

/// Opens `file` with every check and creates a CPU session; a session that
/// is created also steps once, so an accepted forgery is exercised.
Outcome openAndRun(const Bytes &file) {
  brick_artifact_t *artifact = nullptr;
  brick_status_t status =
      brick_artifact_open_bytes(file.data(), file.size(), nullptr, &artifact);
  if (status != BRICK_OK)
    return {status, brick_artifact_last_error()};
  brick_session_options_t options{};
  options.threads = 1;
  brick_session_t *session = nullptr;
  status = brick_session_create(artifact, &options, &session);
  Outcome outcome{status, status ? brick_session_last_error() : ""};
  if (session) {
    float *logits = nullptr;
    EXPECT_EQ(brick_session_step(session, 1, &logits), BRICK_OK);
    brick_session_free(session);
  }
  brick_artifact_close(artifact);
  return outcome;
}

void expectRefused(const Bytes &file, brick_status_t status,
                   const std::string &message) {
  Outcome outcome = openAndRun(file);
  EXPECT_EQ(outcome.status, status) << outcome.message;
  EXPECT_NE(outcome.message.find(message), std::string::npos)
      << outcome.message;
}

class ForgedArtifactTest : public ::testing::Test {
protected:
  void SetUp() override {
    original = compiledStories("f32");
    ASSERT_FALSE(original.empty());
    sections = splitSections(original);
    ASSERT_EQ(openAndRun(original).status, BRICK_OK); // the unforged baseline
  }
  Bytes &tensors() {
    return sectionOf(sections, BRICK_ARTIFACT_SECTION_TENSORS).bytes;
  }
  Bytes &code() {
    return sectionOf(sections, BRICK_ARTIFACT_SECTION_CODE).bytes;
  }

  Bytes original;
  std::vector<Section> sections;
};

// Test: a transposed shape (same size, so the table itself is consistent).
TEST_F(ForgedArtifactTest, ChangedShape) {
  brick_artifact_tensor_entry_t e = entryAt(tensors(), 0);
  ASSERT_EQ(e.rank, 2u);
  std::swap(e.shape[0], e.shape[1]);
  setEntry(tensors(), 0, e);
  expectRefused(layOut(sections), BRICK_ERROR_MALFORMED,
                "tensor 'tok_embeddings.weight' has shape [64x512] in the "
                "artifact, the code expects [512x64] (TENSORS[0].shape)");
}

// Test: F32 [64] read as F16 [128]: the same bytes, another dtype.
TEST_F(ForgedArtifactTest, ChangedDtype) {
  brick_artifact_tensor_entry_t e = entryAt(tensors(), 1);
  ASSERT_EQ(e.dtype, uint32_t(BRICK_ARTIFACT_DTYPE_F32));
  ASSERT_EQ(e.rank, 1u);
  e.dtype = BRICK_ARTIFACT_DTYPE_F16;
  e.shape[0] *= 2;
  setEntry(tensors(), 1, e);
  expectRefused(layOut(sections), BRICK_ERROR_MALFORMED,
                "' is F16 in the artifact, the code expects F32 "
                "(TENSORS[1].dtype)");
}

// Test: two entries swapped, so each argument gets the other's tensor.
TEST_F(ForgedArtifactTest, SwappedEntries) {
  brick_artifact_tensor_entry_t a = entryAt(tensors(), 2),
                                b = entryAt(tensors(), 3);
  setEntry(tensors(), 2, b);
  setEntry(tensors(), 3, a);
  expectRefused(layOut(sections), BRICK_ERROR_MALFORMED,
                "tensor 2 of the artifact is 'layers.0.attention.wk.weight', "
                "the code expects 'layers.0.attention.wq.weight' "
                "(TENSORS[2].name)");
}

// Test: the code of the F16 artifact with the F32 artifact's weights.
TEST_F(ForgedArtifactTest, CodeOfAnotherArtifact) {
  const Bytes &other = compiledStories("f16");
  ASSERT_FALSE(other.empty());
  std::vector<Section> otherSections = splitSections(other);
  code() = sectionOf(otherSections, BRICK_ARTIFACT_SECTION_CODE).bytes;
  expectRefused(layOut(sections), BRICK_ERROR_MALFORMED,
                "is F32 in the artifact, the code expects F16 "
                "(TENSORS[0].dtype)");
}

// Test: the last tensor of WEIGHTS shrunk to one row and WEIGHTS cut after
// it (its chunk hash recomputed): consistent for the table, but the code
// reads the whole tensor, past the end of WEIGHTS and of the file.
TEST_F(ForgedArtifactTest, ShrunkTensorAtTheEnd) {
  brick_artifact_tensors_header_t th;
  std::memcpy(&th, tensors().data(), sizeof(th));
  uint32_t last = 0;
  for (uint32_t i = 1; i < th.tensor_count; ++i)
    if (entryAt(tensors(), i).offset > entryAt(tensors(), last).offset)
      last = i;
  brick_artifact_tensor_entry_t e = entryAt(tensors(), last);
  ASSERT_GE(e.rank, 1u);
  ASSERT_GT(e.shape[0], 1);
  e.size /= static_cast<uint64_t>(e.shape[0]);
  e.shape[0] = 1;
  setEntry(tensors(), last, e);
  Bytes &weights = sectionOf(sections, BRICK_ARTIFACT_SECTION_WEIGHTS).bytes;
  // Only WEIGHT_HASHES follows WEIGHTS.
  ASSERT_EQ(&weights, &sections[sections.size() - 2].bytes);
  ASSERT_EQ(sections.back().kind,
            uint32_t(BRICK_ARTIFACT_SECTION_WEIGHT_HASHES));
  weights.resize(e.offset + e.size);
  expectRefused(layOut(sections), BRICK_ERROR_MALFORMED,
                "(TENSORS[" + std::to_string(last) + "].shape)");
}

// Test: a CODE section cut short: the section header table is the first
// thing past its end; without section headers (a legal, stripped ELF), a
// loadable segment is.
TEST_F(ForgedArtifactTest, CodeShorterThanItsElf) {
  Bytes full = code();
  code().resize(full.size() / 2);
  expectRefused(layOut(sections), BRICK_ERROR_MALFORMED,
                "the code's section header table");
  Elf64_Ehdr header;
  std::memcpy(&header, full.data(), sizeof(header));
  header.e_shoff = 0;
  header.e_shnum = 0;
  header.e_shstrndx = 0;
  std::memcpy(full.data(), &header, sizeof(header));
  // The end of the last segment with file bytes: cut one byte short of it.
  uint64_t end = 0;
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment;
    std::memcpy(&segment, full.data() + header.e_phoff + i * sizeof(segment),
                sizeof(segment));
    end = std::max<uint64_t>(end, segment.p_offset + segment.p_filesz);
  }
  for (size_t cut : {full.size() / 2, static_cast<size_t>(end - 1)}) {
    code() = Bytes(full.begin(), full.begin() + cut);
    expectRefused(layOut(sections), BRICK_ERROR_MALFORMED,
                  "lies past the end of the CODE section of " +
                      std::to_string(cut) + " bytes (CODE)");
  }
  // Program headers past the end of the section.
  header.e_phoff = full.size();
  std::memcpy(full.data(), &header, sizeof(header));
  code() = full;
  expectRefused(layOut(sections), BRICK_ERROR_MALFORMED,
                "the code's program header table");
}

// Test: the header's reserved bytes and a section's flags and reserved
// field, which version 1 says are zero.
TEST_F(ForgedArtifactTest, NonZeroReservedFields) {
  Bytes file = original;
  file[offsetof(brick_artifact_header_t, reserved) + 5] = 1;
  reseal(file);
  expectRefused(file, BRICK_ERROR_MALFORMED,
                "<memory>: reserved header byte 5 is 1, must be 0 "
                "(header.reserved)");
  for (size_t field : {offsetof(brick_artifact_section_t, flags),
                       offsetof(brick_artifact_section_t, reserved)}) {
    file = original;
    file[BRICK_ARTIFACT_HEADER_SIZE + 2 * sizeof(brick_artifact_section_t) +
         field] = 4;
    reseal(file);
    std::string name = field == offsetof(brick_artifact_section_t, flags)
                           ? "flags"
                           : "reserved";
    expectRefused(file, BRICK_ERROR_MALFORMED,
                  "has " + name + " 4, must be 0 (sections[2]." + name + ")");
  }
}

// Test: one byte flipped in each part the header checksum covers (a header
// field after the checksum, the section table, every section but WEIGHTS),
// with every other checksum as written: each is refused as corrupt when the
// artifact is opened, before anything runs. The count of parts guards
// against a section that is not there.
TEST_F(ForgedArtifactTest, EveryVerifiedPartIsChecked) {
  std::vector<std::pair<std::string, size_t>> parts = {
      {"header", offsetof(brick_artifact_header_t, reserved)},
      {"section table",
       BRICK_ARTIFACT_HEADER_SIZE + offsetof(brick_artifact_section_t, size)}};
  for (const brick_artifact_section_t &s : tableOf(original))
    if (s.kind != BRICK_ARTIFACT_SECTION_WEIGHTS)
      parts.push_back(
          {"section kind " + std::to_string(s.kind), s.offset + s.size / 2});
  // MANIFEST, TARGET, TENSORS, TOKENIZER, CODE, WEIGHT_HASHES.
  ASSERT_EQ(parts.size(), 2u + 6u);
  for (const auto &[part, at] : parts) {
    SCOPED_TRACE(part);
    Bytes file = original;
    file[at] ^= 0x20;
    expectRefused(file, BRICK_ERROR_CHECKSUM_MISMATCH,
                  "<memory>: corrupt: the SHA-256 of the header, tables, "
                  "tokenizer and code does not match the header (checksum)");
  }
}

/// Opens `file` with every check; BRICK_OK or the failure's status, with
/// the message of brick_artifact_verify_weights in `message` after it.
brick_status_t openAndVerify(const Bytes &file, std::string &message) {
  brick_artifact_t *artifact = nullptr;
  brick_status_t status =
      brick_artifact_open_bytes(file.data(), file.size(), nullptr, &artifact);
  if (status == BRICK_OK)
    status = brick_artifact_verify_weights(artifact);
  message = brick_artifact_last_error();
  brick_artifact_close(artifact);
  return status;
}

// Test: a changed weight byte. Opening reads no weight, so it opens (and
// runs); brick_artifact_verify_weights names the chunk, its bytes and the
// tensor. Recomputing the chunk hashes alone changes WEIGHT_HASHES, which
// the header checksum covers; recomputing both makes the file consistent
// again.
TEST_F(ForgedArtifactTest, ChangedWeightIsFoundByItsChunkHash) {
  std::string message;
  ASSERT_EQ(openAndVerify(original, message), BRICK_OK) << message;
  uint64_t weights = 0;
  for (const brick_artifact_section_t &s : tableOf(original))
    if (s.kind == BRICK_ARTIFACT_SECTION_WEIGHTS)
      weights = s.offset;
  ASSERT_NE(weights, 0u);
  brick_artifact_tensor_entry_t e = entryAt(tensors(), 1);
  Bytes file = original;
  file[weights + e.offset + 5] ^= 0x40;
  EXPECT_EQ(openAndRun(file).status, BRICK_OK);
  EXPECT_EQ(openAndVerify(file, message), BRICK_ERROR_CHECKSUM_MISMATCH);
  EXPECT_NE(message.find("<memory>: corrupt weights: chunk 0 of 1 (WEIGHTS "
                         "bytes 0 to "),
            std::string::npos)
      << message;
  // One chunk holds every tensor of this small model.
  EXPECT_NE(message.find(", tensors 'tok_embeddings.weight' and "),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("does not match its SHA-256 (WEIGHT_HASHES[0])"),
            std::string::npos)
      << message;
  resealWeightHashes(file);
  expectRefused(file, BRICK_ERROR_CHECKSUM_MISMATCH, "(checksum)");
  resealHeader(file);
  EXPECT_EQ(openAndVerify(file, message), BRICK_OK) << message;
}

// Test: the sections laid out in reverse order: the table says where each
// one is, so the artifact is the same one and runs to the same logits.
TEST_F(ForgedArtifactTest, SectionsInAnotherOrder) {
  std::vector<Section> reversed(sections.rbegin(), sections.rend());
  Bytes file = layOut(reversed);
  ASSERT_NE(file, layOut(sections));
  auto firstLogits = [](const Bytes &bytes) {
    brick_artifact_t *artifact = nullptr;
    std::vector<float> logits;
    if (brick_artifact_open_bytes(bytes.data(), bytes.size(), nullptr,
                                  &artifact) != BRICK_OK) {
      ADD_FAILURE() << brick_artifact_last_error();
      return logits;
    }
    brick_session_options_t options{};
    options.threads = 1;
    brick_session_t *session = nullptr;
    float *out = nullptr;
    if (brick_session_create(artifact, &options, &session) == BRICK_OK &&
        brick_session_step(session, 1, &out) == BRICK_OK)
      logits.assign(out, out + brick_session_vocab(session));
    else
      ADD_FAILURE() << brick_session_last_error();
    brick_session_free(session);
    brick_artifact_close(artifact);
    return logits;
  };
  std::vector<float> expected = firstLogits(original);
  ASSERT_EQ(expected.size(), 512u);
  EXPECT_EQ(firstLogits(file), expected); // the same bytes: exactly equal
}

// Test: every pair of sections with their kinds swapped in the table (the
// tokenizer read as the code, the weights as the tensor table, ...), and
// each kind twice: all refused with a message, none crashes.
TEST_F(ForgedArtifactTest, SwappedAndRepeatedSections) {
  int cases = 0;
  for (size_t a = 0; a < sections.size(); ++a) {
    for (size_t b = a + 1; b < sections.size(); ++b, ++cases) {
      std::vector<Section> swapped = sections;
      std::swap(swapped[a].kind, swapped[b].kind);
      Outcome outcome = openAndRun(layOut(swapped));
      EXPECT_NE(outcome.status, BRICK_OK)
          << "kinds " << sections[a].kind << " and " << sections[b].kind;
      EXPECT_NE(outcome.message, "");
    }
    std::vector<Section> repeated = sections;
    repeated.push_back(sections[a]);
    ++cases;
    expectRefused(layOut(repeated), BRICK_ERROR_MALFORMED, "");
  }
  EXPECT_EQ(cases, 28); // 21 pairs of 7 sections, and 7 repeats
}

// Test: seeded edits of the section table's length fields, resealed: a
// section's offset or size set to a boundary value (0, past the end, the
// next section's start, 2^63, ...), or a section's bytes cut short with
// the table kept in step. Each must be refused with a message or run;
// none may crash or read outside the file (the sanitizer build's check).
TEST_F(ForgedArtifactTest, SeededSectionLengthEdits) {
  const Bytes file = layOut(sections);
  std::mt19937_64 random(0x5ec7);
  int cases = 0, refused = 0;
  for (int iteration = 0; iteration < 240; ++iteration, ++cases) {
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    size_t index = random() % sections.size();
    Outcome outcome;
    if (iteration % 4 == 3) { // a section cut short, the table agreeing
      std::vector<Section> cut = sections;
      Bytes &bytes = cut[index].bytes;
      bytes.resize(bytes.empty() ? 0 : random() % bytes.size());
      outcome = openAndRun(layOut(cut));
    } else {
      Bytes forged = file;
      size_t entry =
          BRICK_ARTIFACT_HEADER_SIZE + index * sizeof(brick_artifact_section_t);
      brick_artifact_section_t s;
      std::memcpy(&s, forged.data() + entry, sizeof(s));
      const uint64_t values[] = {0,
                                 1,
                                 BRICK_ARTIFACT_ALIGNMENT,
                                 s.size - 1,
                                 s.size + 1,
                                 s.offset + s.size,
                                 forged.size() - s.offset,
                                 forged.size(),
                                 forged.size() + BRICK_ARTIFACT_ALIGNMENT,
                                 uint64_t(1) << 32,
                                 uint64_t(1) << 63,
                                 ~uint64_t(0) - BRICK_ARTIFACT_ALIGNMENT + 1,
                                 ~uint64_t(0)};
      uint64_t value = values[random() % std::size(values)];
      (iteration % 2 ? s.size : s.offset) = value;
      std::memcpy(forged.data() + entry, &s, sizeof(s));
      reseal(forged);
      outcome = openAndRun(forged);
    }
    if (outcome.status != BRICK_OK) {
      ++refused;
      EXPECT_NE(outcome.message, "");
    }
  }
  EXPECT_EQ(cases, 240);
  EXPECT_GT(refused, 200); // 238 when written
}

// Test: seeded random changes, each resealed. A change to a tensor entry
// (anything but its offset) or to a byte of a name changes what the code
// would read, so it must be refused, as MALFORMED; a change to the header
// or the section table must be refused or run, never crash. The case count
// is fixed (360), and a fuzz that refuses nothing fails.
TEST_F(ForgedArtifactTest, SeededTableChangesAreRefused) {
  brick_artifact_tensors_header_t th;
  std::memcpy(&th, tensors().data(), sizeof(th));
  // The bytes of names in the pool (each name, without its NUL).
  std::vector<size_t> nameBytes;
  for (uint32_t i = 0; i < th.tensor_count; ++i) {
    brick_artifact_tensor_entry_t e = entryAt(tensors(), i);
    for (uint32_t b = 0; b < e.name_length; ++b)
      nameBytes.push_back(th.names_offset + e.name_offset + b);
  }
  std::mt19937_64 random(0x5167);
  const Bytes pristine = tensors();
  int cases = 0, refused = 0;
  for (int iteration = 0; iteration < 360; ++iteration, ++cases) {
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    tensors() = pristine;
    Bytes file;
    bool mustRefuse = true;
    auto change = [&](uint8_t &byte) {
      uint8_t before = byte;
      while (byte == before)
        byte = (random() & 1)
                   ? static_cast<uint8_t>(random())
                   : static_cast<uint8_t>(before ^ (1u << (random() % 8)));
    };
    switch (iteration % 3) {
    case 0: { // an entry, past its offset field
      size_t at =
          sizeof(th) +
          (random() % th.tensor_count) * sizeof(brick_artifact_tensor_entry_t) +
          8 + random() % (sizeof(brick_artifact_tensor_entry_t) - 8);
      change(tensors()[at]);
      file = layOut(sections);
      break;
    }
    case 1: // a byte of a name
      change(tensors()[nameBytes[random() % nameBytes.size()]]);
      file = layOut(sections);
      break;
    default: { // the header or the section table
      file = layOut(sections);
      size_t tableEnd = BRICK_ARTIFACT_HEADER_SIZE +
                        sections.size() * sizeof(brick_artifact_section_t);
      size_t at = BRICK_ARTIFACT_CHECKSUMMED_FROM +
                  random() % (tableEnd - BRICK_ARTIFACT_CHECKSUMMED_FROM);
      change(file[at]);
      reseal(file);
      mustRefuse = false;
      break;
    }
    }
    Outcome outcome = openAndRun(file);
    if (outcome.status != BRICK_OK) {
      ++refused;
      EXPECT_NE(outcome.message, "");
    }
    if (mustRefuse)
      EXPECT_EQ(outcome.status, BRICK_ERROR_MALFORMED) << outcome.message;
  }
  EXPECT_EQ(cases, 360);
  EXPECT_GT(refused, 240);
}

} // namespace
