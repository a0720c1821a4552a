// Checks a volume file before ITK reads it. ITK's readers trust their input: a NIfTI sform of NaN
// aborts the process inside vnl, gzip's CRC is never compared, a truncated file or one whose data
// file is missing reads "successfully" as zeros. Volumes come from other people, so the header is
// checked here against what the file holds, and compressed data is decompressed once, to its end,
// so that a damaged or cut-off stream is an error naming the file.
#include "dlk/core/error.h"
#include "dlk/io/volume.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/stat.h>
#include <vector>

namespace dlk {

namespace {

// The most voxel data one volume may hold (documented in dlk-prep(1)): 16 GiB. (Its voxels:
// kMaxVolumeVoxels, dlk/io/volume.h.)
constexpr uint64_t kMaxVolumeBytes = uint64_t(16) << 30;

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

uint64_t file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  return uint64_t(st.st_size);
}

// Decompresses a gzip file (or reads a plain one: zlib passes it through) to its end, checking
// gzip's CRC and length; returns the number of bytes it holds and keeps the first `keep` of them.
uint64_t gunzip_all(const std::string& path, std::vector<unsigned char>& head, size_t keep) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail(path, std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(f, 1 << 17);
  std::vector<unsigned char> buf(1 << 20);
  uint64_t total = 0;
  head.clear();
  while (true) {
    const int n = gzread(f, buf.data(), unsigned(buf.size()));
    if (n < 0 || (n == 0 && !gzeof(f))) {
      int code = 0;
      std::string msg = gzerror(f, &code);
      gzclose(f);
      if (msg == "unexpected end of file") fail(path, "truncated: the gzip stream ends early");
      fail(path, "corrupt gzip data (" + msg + ")");
    }
    if (n == 0) break;
    if (head.size() < keep) head.insert(head.end(), buf.begin(), buf.begin() + std::min<size_t>(size_t(n), keep - head.size()));
    total += uint64_t(n);
  }
  int code = 0;
  const std::string msg = gzerror(f, &code);
  gzclose(f);
  if (code != Z_OK && code != Z_STREAM_END) {
    if (msg == "unexpected end of file") fail(path, "truncated: the gzip stream ends early");
    fail(path, "corrupt gzip data (" + msg + ")");
  }
  return total;
}

int nifti_type_bytes(int datatype) {
  switch (datatype) {
  case 2: case 256: return 1;             // uint8, int8
  case 4: case 512: return 2;             // int16, uint16
  case 8: case 16: case 768: case 2304: return 4; // int32, float32, uint32, rgba32
  case 128: return 3;                     // rgb24
  case 32: case 64: case 1024: case 1280: return 8; // complex64, float64, int64, uint64
  case 1536: case 1792: return 16;        // float128, complex128
  case 2048: return 32;                   // complex256
  default: return 0;
  }
}

// A NIfTI file's first bytes (up to a NIfTI-2 header's 540) into `h`; returns the bytes the file
// holds, decompressed when `gz` (the whole stream is read and checked).
uint64_t read_nifti_head(const std::string& path, bool gz, std::vector<unsigned char>& h) {
  if (gz) return gunzip_all(path, h, 540);
  const uint64_t total = file_size(path);
  std::ifstream in(path, std::ios::binary);
  h.resize(size_t(std::min<uint64_t>(total, 540)));
  if (!in.read(reinterpret_cast<char*>(h.data()), std::streamsize(h.size()))) fail(path, "cannot read the header");
  return total;
}

// The bytes of voxels that a NIfTI header's dim[] and datatype promise, after checking them
// against the limits (dlk/io/volume.h) before anything is allocated.
static uint64_t nifti_data_bytes(const std::string& path, const int64_t (&dim)[8], int datatype) {
  if (dim[0] < 1 || dim[0] > 7) fail(path, fmt::format("dim[0] = {}: the number of dimensions must be 1..7", dim[0]));
  const int bytes = nifti_type_bytes(datatype);
  if (!bytes) fail(path, fmt::format("unknown NIfTI datatype {}", datatype));
  uint64_t nbytes = uint64_t(bytes);
  for (int i = 1; i <= dim[0]; ++i) {
    if (dim[i] < 1) fail(path, fmt::format("dim[{}] = {}: every extent must be at least 1", i, dim[i]));
    if (uint64_t(dim[i]) > kMaxVolumeBytes || nbytes * uint64_t(dim[i]) > kMaxVolumeBytes)
      fail(path, fmt::format("the header's extents make more than {} GiB of voxels", kMaxVolumeBytes >> 30));
    nbytes *= uint64_t(dim[i]);
  }
  uint64_t voxels = 1;
  for (int i = 1; i <= std::min<int64_t>(dim[0], 3); ++i) voxels *= uint64_t(dim[i]); // each <= 16 Gi: no overflow
  if (voxels > uint64_t(kMaxVolumeVoxels)) fail(path, fmt::format("the header's extents make {} voxels (2^30 at most)", voxels));
  return nbytes;
}

void check_nifti(const std::string& path) {
  const bool gz = ends_with(path, ".gz");
  std::vector<unsigned char> h;
  const uint64_t total = read_nifti_head(path, gz, h);
  if (h.size() < 348) fail(path, fmt::format("truncated: {} bytes, a NIfTI header needs 348", h.size()));
  int32_t hsize;
  std::memcpy(&hsize, h.data(), 4);
  const bool swap = hsize != 348 && hsize != 540;
  auto rd = [&](size_t off, size_t n) { // little- or big-endian field at off
    uint64_t v = 0;
    unsigned char b[8];
    std::memcpy(b, h.data() + off, n);
    if (swap) std::reverse(b, b + n);
    std::memcpy(&v, b, n);
    return v;
  };
  auto i16 = [&](size_t off) { return int64_t(int16_t(rd(off, 2))); };
  auto i32 = [&](size_t off) { return int64_t(int32_t(rd(off, 4))); };
  auto i64 = [&](size_t off) { return int64_t(rd(off, 8)); };
  auto f32 = [&](size_t off) { uint32_t u = uint32_t(rd(off, 4)); float x; std::memcpy(&x, &u, 4); return double(x); };
  auto f64 = [&](size_t off) { uint64_t u = rd(off, 8); double x; std::memcpy(&x, &u, 8); return x; };
  const int64_t sizeof_hdr = i32(0);
  const bool v2 = sizeof_hdr == 540;
  if (sizeof_hdr != 348 && !v2) fail(path, "not a NIfTI file (header size field is neither 348 nor 540)");
  if (v2 && h.size() < 540) fail(path, fmt::format("truncated: {} bytes, a NIfTI-2 header needs 540", h.size()));
  if (!v2 && std::memcmp(h.data() + 344, "n+1", 4) != 0)
    fail(path, "not a single-file NIfTI-1 (magic is not \"n+1\")");
  if (v2 && std::memcmp(h.data() + 4, "n+2", 4) != 0) fail(path, "not a single-file NIfTI-2 (magic is not \"n+2\")");

  int64_t dim[8];
  double pixdim[8];
  for (int i = 0; i < 8; ++i) {
    dim[i] = v2 ? i64(16 + 8 * size_t(i)) : i16(40 + 2 * size_t(i));
    pixdim[i] = v2 ? f64(104 + 8 * size_t(i)) : f32(76 + 4 * size_t(i));
  }
  const int datatype = int(v2 ? i16(12) : i16(70));
  const double vox_offset = v2 ? double(i64(168)) : f32(108);
  const int64_t qform_code = v2 ? i32(344) : i16(252), sform_code = v2 ? i32(348) : i16(254);
  const size_t q0 = v2 ? 352 : 256, s0 = v2 ? 400 : 280;
  auto fld = [&](size_t k) { return v2 ? f64(q0 + 8 * k) : f32(q0 + 4 * k); };  // quatern b, c, d, qoffset x, y, z
  auto srow = [&](size_t k) { return v2 ? f64(s0 + 8 * k) : f32(s0 + 4 * k); }; // srow_x, srow_y, srow_z

  const uint64_t nbytes = nifti_data_bytes(path, dim, datatype);
  for (int i = 0; i <= std::min<int64_t>(dim[0], 3); ++i)
    if (!std::isfinite(pixdim[i])) fail(path, fmt::format("pixdim[{}] is {}", i, pixdim[i]));
  // A spacing of 0 (or less) is no spacing: readers that replace it by 1 mm would segment and
  // measure on a made-up grid.
  for (int i = 1; i <= std::min<int64_t>(dim[0], 3); ++i)
    if (!(pixdim[i] > 0)) fail(path, fmt::format("pixdim[{}] is {}: a voxel spacing must be positive", i, pixdim[i]));
  if (qform_code != 0)
    for (size_t k = 0; k < 6; ++k)
      if (!std::isfinite(fld(k))) fail(path, fmt::format("qform (quatern/qoffset field {}) is {}", k, fld(k)));
  if (sform_code != 0) {
    double m[12];
    for (size_t k = 0; k < 12; ++k) {
      m[k] = srow(k);
      if (!std::isfinite(m[k])) fail(path, fmt::format("sform srow_{}[{}] is {}", "xyz"[k / 4], k % 4, m[k]));
    }
    const double det = m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8]) +
                       m[2] * (m[4] * m[9] - m[5] * m[8]);
    if (!(std::fabs(det) > 0)) fail(path, "the sform's 3x3 part is singular (it maps the volume to a plane)");
  }
  if (!std::isfinite(vox_offset) || vox_offset < double(sizeof_hdr) || vox_offset > double(kMaxVolumeBytes))
    fail(path, fmt::format("vox_offset {} is not a byte offset after the header", vox_offset));
  const uint64_t need = uint64_t(vox_offset) + nbytes;
  if (total < need)
    fail(path, fmt::format("truncated: the header promises {} bytes of voxels from byte {}, the {} holds {} bytes",
                           nbytes, uint64_t(vox_offset), gz ? "decompressed stream" : "file", total));
}

// A MetaImage header: "Key = Value" lines up to ElementDataFile.
struct MetaHeader {
  std::string path;
  std::map<std::string, std::string> kv;
  uint64_t size = 0; // bytes up to the data, when it is LOCAL

  // The numbers of a key's value (none when the key is missing); a word that is not a number fails.
  std::vector<double> numbers(const std::string& key) const {
    std::vector<double> v;
    auto it = kv.find(key);
    if (it == kv.end()) return v;
    std::istringstream s(it->second);
    std::string tok;
    while (s >> tok) {
      char* end = nullptr;
      const double x = std::strtod(tok.c_str(), &end);
      if (end == tok.c_str() || *end) fail(path, fmt::format("{}: '{}' is not a number", key, tok));
      v.push_back(x);
    }
    return v;
  }
  std::string value(const std::string& key) const {
    auto it = kv.find(key);
    return it == kv.end() ? std::string() : it->second;
  }
};

MetaHeader read_meta_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  MetaHeader h;
  h.path = path;
  std::string line;
  bool found = false;
  for (int n = 0; n < 200 && std::getline(in, line); ++n) {
    h.size += line.size() + 1;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
      size_t i = 0;
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      return s.substr(i);
    };
    const std::string key = trim(line.substr(0, eq));
    h.kv[key] = trim(line.substr(eq + 1));
    if (key == "ElementDataFile") {
      found = true;
      break;
    }
  }
  if (!found) fail(path, "not a MetaImage header (no ElementDataFile line)");
  return h;
}

// The bytes of voxel data the header describes; checks its geometry on the way.
uint64_t meta_voxel_bytes(const MetaHeader& h) {
  const std::string& path = h.path;
  for (const char* key : {"Offset", "Origin", "Position", "ElementSpacing", "ElementSize", "TransformMatrix",
                          "Rotation", "Orientation", "CenterOfRotation"})
    for (double x : h.numbers(key))
      if (!std::isfinite(x)) fail(path, fmt::format("{} holds {}", key, x));
  const auto ndims = h.numbers("NDims");
  const auto size = h.numbers("DimSize");
  if (ndims.size() != 1 || ndims[0] < 1 || ndims[0] > 16 || ndims[0] != std::floor(ndims[0]))
    fail(path, "NDims is missing or not a number of dimensions");
  if (size.size() < size_t(ndims[0])) fail(path, fmt::format("DimSize gives {} extents for {} dimensions", size.size(), ndims[0]));
  static const std::map<std::string, int> type_bytes = {
      {"MET_UCHAR", 1}, {"MET_CHAR", 1}, {"MET_USHORT", 2}, {"MET_SHORT", 2}, {"MET_UINT", 4}, {"MET_INT", 4},
      {"MET_ULONG", 8}, {"MET_LONG", 8}, {"MET_ULONG_LONG", 8}, {"MET_LONG_LONG", 8}, {"MET_FLOAT", 4}, {"MET_DOUBLE", 8}};
  auto t = type_bytes.find(h.value("ElementType"));
  if (t == type_bytes.end()) fail(path, fmt::format("ElementType '{}' is not a scalar MetaImage type", h.value("ElementType")));
  uint64_t nbytes = uint64_t(t->second);
  const auto channels = h.numbers("ElementNumberOfChannels");
  if (!channels.empty()) {
    if (channels[0] < 1 || channels[0] > 64) fail(path, "ElementNumberOfChannels out of range");
    nbytes *= uint64_t(channels[0]);
  }
  uint64_t voxels = 1;
  for (size_t i = 0; i < size_t(ndims[0]); ++i) {
    if (!(size[i] >= 1) || size[i] != std::floor(size[i]) || size[i] > double(kMaxVolumeBytes) ||
        double(nbytes) * size[i] > double(kMaxVolumeBytes))
      fail(path, fmt::format("DimSize[{}] = {} is not a valid extent", i, size[i]));
    nbytes *= uint64_t(size[i]);
    if (i < 3) voxels *= uint64_t(size[i]);
  }
  if (voxels > uint64_t(kMaxVolumeVoxels)) fail(path, fmt::format("DimSize makes {} voxels (2^30 at most)", voxels));
  for (const char* key : {"ElementSpacing", "ElementSize"}) {
    const auto sp = h.numbers(key);
    for (size_t i = 0; i < sp.size() && i < size_t(ndims[0]); ++i)
      if (!(sp[i] > 0)) fail(path, fmt::format("{}[{}] is {}: a voxel spacing must be positive", key, i, sp[i]));
  }
  return nbytes;
}

// zlib-compressed data from byte `at` of `data`: inflate it all, insisting on a complete stream
// of `nbytes`.
void check_inflates(const std::string& data, uint64_t at, uint64_t nbytes) {
  std::ifstream d(data, std::ios::binary);
  d.seekg(std::streamoff(at));
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) fail(data, "cannot start zlib");
  std::vector<unsigned char> src(1 << 20), dst(1 << 20);
  uint64_t out = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (z.avail_in == 0) {
      d.read(reinterpret_cast<char*>(src.data()), std::streamsize(src.size()));
      z.next_in = src.data();
      z.avail_in = unsigned(d.gcount());
      if (z.avail_in == 0) break;
    }
    z.next_out = dst.data();
    z.avail_out = unsigned(dst.size());
    rc = inflate(&z, Z_NO_FLUSH);
    out += dst.size() - z.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) break;
    if (out > nbytes) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END && rc != Z_OK && rc != Z_BUF_ERROR) fail(data, fmt::format("corrupt compressed voxel data (zlib: {})", z.msg ? z.msg : "error"));
  if (rc != Z_STREAM_END || out != nbytes)
    fail(data, fmt::format("truncated or damaged compressed voxel data: {} bytes decoded, {} expected", out, nbytes));
}

// MetaImage: "Key = Value" lines up to ElementDataFile, then (LOCAL) the data, or a data file.
void check_metaimage(const std::string& path) {
  const MetaHeader h = read_meta_header(path);
  const uint64_t nbytes = meta_voxel_bytes(h);
  uint64_t data_at = h.size;
  const std::string file = h.value("ElementDataFile");
  if (file == "LIST" || file.find('%') != std::string::npos) return; // slice lists: ITK checks each file
  std::string data = path;
  if (file != "LOCAL") {
    if (file.empty()) fail(path, "ElementDataFile is empty");
    data = file[0] == '/' ? file : (path.find('/') == std::string::npos ? file : path.substr(0, path.rfind('/') + 1) + file);
    struct stat a {}, b {};
    if (::stat(data.c_str(), &b) != 0) fail(path, fmt::format("its data file '{}' is missing", data));
    if (::stat(path.c_str(), &a) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
      fail(path, "ElementDataFile names the header file itself");
    data_at = 0;
  }
  const auto header_size = h.numbers("HeaderSize");
  if (!header_size.empty()) {
    if (header_size[0] == -1) return; // data at the end of the file: only its size is known
    if (header_size[0] < 0 || header_size[0] > double(kMaxVolumeBytes)) fail(path, "HeaderSize out of range");
    data_at += uint64_t(header_size[0]);
  }
  const uint64_t have = file_size(data);
  const std::string compressed_data = h.value("CompressedData");
  if (compressed_data != "True" && compressed_data != "true") {
    if (have < data_at || have - data_at < nbytes)
      fail(data, fmt::format("truncated: {} bytes of voxels needed from byte {}, the file has {}", nbytes, data_at, have));
    return;
  }
  check_inflates(data, data_at, nbytes);
}

} // namespace

void check_volume_file(const std::string& path) {
  if (ends_with(path, ".nii") || ends_with(path, ".nii.gz")) check_nifti(path);
  else if (ends_with(path, ".mha") || ends_with(path, ".mhd")) check_metaimage(path);
}

} // namespace dlk
