// Writing an output file. "-" means stdout. Outputs go to a temporary name in the destination
// directory and are renamed only on commit(), so an interrupted or failed run never leaves a
// partial file under the final name.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

// Writes to a temporary beside PATH (see create_temporary_beside), renames on commit(); "-"
// writes to stdout. An uncommitted file is removed by the destructor and on SIGINT/SIGTERM/SIGHUP.
// A PATH that is a symbolic link is resolved, so the link stays and its target is replaced. A PATH
// that exists and is not a regular file (/dev/null, /dev/full, a FIFO) is written in place:
// renaming over it would replace the device itself.
class OutputFile {
public:
  explicit OutputFile(const std::string& path, bool force = true);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const void* data, size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  uint64_t bytes_written() const { return written_; }
  void close();  // flush, fsync and close now, keeping the temporary name (frees the buffer)
  void commit(); // close() if needed, then rename into place
  // commit() under another name in the same directory (decided once the content is written).
  void commit_as(const std::string& path);
  const std::string& path() const { return path_; }

private:
  void flush_buffer();
  std::string path_, tmp_, target_;
  int fd_ = -1;
  bool in_place_ = false; // a device or FIFO: no temporary, no rename
  int slot_ = -1; // in the signal handler's table of temporaries
  bool committed_ = false;
  uint64_t written_ = 0;
  std::vector<unsigned char> buf_;
};

} // namespace dlk
