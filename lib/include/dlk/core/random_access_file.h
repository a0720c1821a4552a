// Reading a regular file at any offset.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace dlk {

// Random-access reader over a regular file.
class RandomAccessFile {
public:
  explicit RandomAccessFile(const std::string& path);
  ~RandomAccessFile();
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;

  uint64_t size() const { return size_; }
  // Reads exactly n bytes at off, or throws "truncated" naming `what`.
  void read_at(uint64_t off, void* buf, size_t n, const std::string& what) const;
  const std::string& path() const { return path_; }

private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

} // namespace dlk
