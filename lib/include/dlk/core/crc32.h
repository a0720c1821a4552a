// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zlib's crc32() computes it.
// Shard headers, records and index carry one, so that any flipped byte is found.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dlk {
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);
}
