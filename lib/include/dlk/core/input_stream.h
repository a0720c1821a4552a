// Sequential reading of a file or of standard input ("-").
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

// Sequential reader over a file or stdin ("-").
class InputStream {
public:
  explicit InputStream(const std::string& path);
  ~InputStream();
  InputStream(const InputStream&) = delete;
  InputStream& operator=(const InputStream&) = delete;

  // Reads up to n bytes; returns fewer only at end of input. Throws on I/O errors.
  size_t read(void* buf, size_t n);
  // Reads exactly n bytes or throws "truncated" naming `what`.
  void read_exact(void* buf, size_t n, const std::string& what);
  // True when no byte is left (peeks one byte).
  bool at_eof();
  uint64_t offset() const { return offset_; }
  const std::string& path() const { return path_; }

private:
  std::string path_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::vector<unsigned char> buf_;
  size_t pos_ = 0, end_ = 0;
};

} // namespace dlk
