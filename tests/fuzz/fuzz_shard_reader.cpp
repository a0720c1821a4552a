// libFuzzer target: arbitrary bytes through both shard readers. Any input must give either
// decoded slices or a dlk::Error; never a crash, a hang, a sanitizer report or a huge allocation.
#include "dlk/core/error.h"
#include "dlk/core/input_stream.h"
#include "dlk/shard/shard_reader.h"

#include <cstdio>
#include <string>
#include <unistd.h>

namespace {
std::string temp_path() {
  static std::string path = "/tmp/dlk-fuzz-" + std::to_string(getpid()) + ".dlks";
  return path;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = temp_path();
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return 0;
  }
  try { // the streaming reader: header, metadata, records, index, trailer in order
    dlk::InputStream in(path);
    dlk::ShardStreamReader r(in);
    dlk::Slice s;
    while (r.next_shard())
      while (r.next_slice(s)) {
      }
  } catch (const dlk::Error&) {
  }
  try { // the random-access reader: trailers from the end, index, then every slice
    for (auto& shard : dlk::ShardFile::open_all(path))
      for (int64_t i = 0; i < shard->meta().n_slices; ++i) shard->read_slice(i);
  } catch (const dlk::Error&) {
  }
  return 0;
}
