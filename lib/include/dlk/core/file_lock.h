// Exclusive locks on files.
#pragma once
#include <string>

namespace dlk {

// An exclusive advisory lock (flock) on PATH, created if absent, held while alive.
class FileLock {
public:
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

private:
  int fd_ = -1;
};

} // namespace dlk
