// Files and streams. "-" means stdin or stdout everywhere. Outputs go to a temporary
// name in the destination directory and are renamed only on commit(), so an interrupted
// or failed run never leaves a partial file under the final name.
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
  bool is_stdin() const { return fd_ == 0; }

private:
  std::string path_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::vector<unsigned char> buf_;
  size_t pos_ = 0, end_ = 0;
};

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

// Writes to PATH.tmp-XXXXXX beside PATH, renames on commit(); "-" writes to stdout.
// An uncommitted file is removed by the destructor and on SIGINT/SIGTERM/SIGHUP.
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
  const std::string& path() const { return path_; }

private:
  void flush_buffer();
  std::string path_, tmp_;
  int fd_ = -1;
  int slot_ = -1; // in the signal handler's table of temporaries
  bool committed_ = false;
  uint64_t written_ = 0;
  std::vector<unsigned char> buf_;
};

// Whole-file helpers.
std::string read_text_file(const std::string& path);
void write_file_atomic(const std::string& path, const std::string& content);

// Removes registered temporary files and re-raises on SIGINT, SIGTERM and SIGHUP.
// Tools call it once at start-up; OutputFile registers its temporary names.
void install_cleanup_signal_handlers();

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
