// libFuzzer target: arbitrary bytes through the LibTorch-free checkpoint reader, its table
// validation and its per-tensor CRC checks. Any input must give either a validated table whose
// tensors lie inside the file, or a dlk::Error; never a crash, a sanitizer report or an
// allocation larger than the input.
#include "dlk/core/crc32.h"
#include "dlk/core/error.h"
#include "dlk/core/random_access_file.h"
#include "dlk/model/checkpoint_format.h"

#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

namespace {
namespace cf = dlk::checkpoint_format;

std::string temp_path() {
  static std::string path = "/tmp/dlk-fuzz-" + std::to_string(getpid()) + ".dlkc";
  return path;
}

void read_all(const std::string& bytes) {
  const std::string path = temp_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  try {
    dlk::RandomAccessFile file(path);
    const dlk::CheckpointIndex ix = dlk::read_checkpoint_index(file);
    for (auto& t : ix.tensors) {
      // What validation promises: every tensor inside the file, so buffers never pass its size.
      if (t.offset > bytes.size() || t.bytes > bytes.size() - t.offset) __builtin_trap();
      std::vector<unsigned char> buf(size_t(t.bytes));
      try {
        dlk::read_checkpoint_tensor(file, t, buf.data());
      } catch (const dlk::Error&) { // a checksum mismatch: the next tensor is still read
      }
    }
  } catch (const dlk::Error&) {
  }
}

void put_le(std::string& s, size_t at, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s[at + size_t(i)] = char(uint8_t(v >> (8 * i)));
}

// Mutations seldom keep the header's CRC and the trailer's size right; with both repaired, as
// a writer would make them, the input reaches the metadata parser and the table validation.
bool repair(std::string& s) {
  if (s.size() < cf::kHeaderBytes + cf::kTrailerBytes) return false;
  const std::string before = s;
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  const uint32_t mlen = uint32_t(u[16]) | uint32_t(u[17]) << 8 | uint32_t(u[18]) << 16 | uint32_t(u[19]) << 24;
  if (mlen <= s.size() - cf::kHeaderBytes - cf::kTrailerBytes)
    put_le(s, 20, dlk::crc32(s.data() + cf::kHeaderBytes, mlen, dlk::crc32(s.data(), 20)), 4);
  s.replace(s.size() - cf::kTrailerBytes, 4, "DLKZ");
  put_le(s, s.size() - 8, s.size(), 8);
  return s != before;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  read_all(bytes);
  if (repair(bytes)) read_all(bytes);
  return 0;
}
