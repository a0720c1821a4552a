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

// Writes to a temporary beside PATH (see temporary_beside), renames on commit(); "-" writes to
// stdout. An uncommitted file is removed by the destructor and on SIGINT/SIGTERM/SIGHUP. A PATH
// that is a symbolic link is resolved, so the link stays and its target is replaced. A PATH that
// exists and is not a regular file (/dev/null, /dev/full, a FIFO) is written in place: renaming
// over it would replace the device itself.
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

// Temporary names: "NAME.tmp-HOST-PID-XXXXXX" beside PATH (suffix: "NAME.tmp-HOST-PID-XXXXXX.nii.gz"
// for writers that pick a format by extension). Creates the file (mode 0644 less the umask, as
// for a new file) and returns its descriptor; the name goes to `tmp`. The first time a process
// writes into a directory it removes the temporaries that killed runs on this host left there
// (their process is gone) and reports what it removed through the notice hook.
int create_temporary_beside(const std::string& path, const std::string& suffix, std::string& tmp);
// Registers a temporary for removal if a signal ends the process; returns a slot for unregister.
int register_temporary(const std::string& path);
void unregister_temporary(int slot);
// True for a name create_temporary_beside makes (any host): directory readers skip them.
bool is_temporary_name(const std::string& filename);
// Removes stale temporaries of this host's dead processes from dir (once per directory and process).
void sweep_stale_temporaries(const std::string& dir);
// Where the library's notices go (removed leftovers); tools route it to their log. Default: none.
void set_notice_hook(void (*hook)(const std::string&));
void notice(const std::string& msg);

// Descriptors 0, 1 and 2 closed at start-up would be taken by the first files a tool opens, and
// data meant for a file would go to "stdout". Tools call this first: a closed descriptor is
// replaced (stdin by /dev/null, stdout and stderr by an anonymous file) and remembered.
void ensure_standard_descriptors();
// True when stdout was closed when the tool started; bytes written to it since then.
bool stdout_was_closed();
uint64_t bytes_lost_to_closed_stdout();

// Where an output to PATH goes: PATH, or the file it names when it is a symbolic link (outputs
// replace a link's target, never the link itself).
std::string link_target(const std::string& path);

// Whole-file helpers.
std::string read_text_file(const std::string& path);
void write_file_atomic(const std::string& path, const std::string& content);
// Text for a file (atomically) or "-" (standard output, in order with what the tool printed).
void write_text(const std::string& path, const std::string& text);

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
