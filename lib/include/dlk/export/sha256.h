// SHA-256 of a file (OpenSSL's), as sha256sum prints it: what a deployed model records of the
// checkpoint it came from, so that anyone can check which one it was.
#pragma once
#include <string>

namespace dlk {

// Lower-case hex digest of the file's bytes; a file that cannot be read is a dlk::Error naming it.
std::string sha256_file(const std::string& path);
// Of bytes in memory.
std::string sha256_hex(const void* data, size_t n);

} // namespace dlk
