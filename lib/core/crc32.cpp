// dlk::crc32 is zlib's crc32 behind dlk's signature (data first, running CRC last).
#include "dlk/core/crc32.h"

#include <zlib.h>

namespace dlk {

uint32_t crc32(const void* data, size_t n, uint32_t crc) {
  // zlib's crc32_z takes any size_t length (crc32 takes a 32-bit one). zlib answers 0 to a null
  // buffer, whatever the running CRC: n == 0 keeps it, as the CRC of no bytes does.
  if (n == 0) return crc;
  return uint32_t(::crc32_z(crc, static_cast<const Bytef*>(data), z_size_t(n)));
}

} // namespace dlk
