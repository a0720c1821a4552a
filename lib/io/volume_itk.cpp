// Volume I/O through ITK: only the NIfTI, NRRD and MetaImage IO modules are linked and
// registered, so dlk does not drag in ITK's whole IO zoo (DICOM, HDF5, MINC...).
#include "dlk/core/error.h"
#include "dlk/core/link_target.h"
#include "dlk/core/temporary_files.h"
#include "dlk/io/dicom_series.h"
#include "dlk/io/volume.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageIOFactory.h>
#include <itkMetaImageIOFactory.h>
#include <itkNiftiImageIOFactory.h>
#include <itkNrrdImageIOFactory.h>

#include <znzlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlk {

namespace {
using Image3F = itk::Image<float, 3>;

void register_factories() {
  static std::once_flag once;
  std::call_once(once, [] {
    itk::NiftiImageIOFactory::RegisterOneFactory();
    itk::NrrdImageIOFactory::RegisterOneFactory();
    itk::MetaImageIOFactory::RegisterOneFactory();
  });
}

// ITK's messages carry source locations; keep the description only.
std::string itk_message(const itk::ExceptionObject& e) {
  std::string d = e.GetDescription();
  while (!d.empty() && (d.back() == '\n' || d.back() == ' ')) d.pop_back();
  return d;
}

const char* component_name(itk::IOComponentEnum c) {
  using C = itk::IOComponentEnum;
  switch (c) {
  case C::UCHAR: return "uint8";
  case C::CHAR: return "int8";
  case C::USHORT: return "uint16";
  case C::SHORT: return "int16";
  case C::UINT: return "uint32";
  case C::INT: return "int32";
  case C::ULONG: case C::ULONGLONG: return "uint64";
  case C::LONG: case C::LONGLONG: return "int64";
  case C::FLOAT: return "float32";
  case C::DOUBLE: return "float64";
  default: return "unknown";
  }
}

std::string extension_of(const std::string& path) {
  for (const char* ext : {".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"}) {
    std::string e(ext);
    if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) return e;
  }
  return {};
}
// niftilib, inside ITK's NIfTI reader, silently turns NaN and infinite floats into 0. To report
// them instead, floating-point NIfTI-1 voxels are read here (one pass over the gzip stream),
// with the header's scaling applied as ITK would. Returns false where this reader does not
// apply (other types, NIfTI-2, header/image pairs): ITK reads those.
bool read_nifti_float(const std::string& path, int64_t nvox, std::vector<float>& out) {
  znzFile f = znzopen(path.c_str(), "rb", 1);
  if (!f) return false;
  struct Closer {
    znzFile& f;
    ~Closer() { znzclose(f); }
  } closer{f};
  unsigned char h[348];
  if (znzread(h, 1, sizeof h, f) != sizeof h) return false;
  auto u32 = [&](int off, bool swap) {
    uint32_t v;
    std::memcpy(&v, h + off, 4);
    return swap ? __builtin_bswap32(v) : v;
  };
  auto f32 = [&](int off, bool swap) {
    uint32_t u = u32(off, swap);
    float x;
    std::memcpy(&x, &u, 4);
    return x;
  };
  bool swap = false;
  if (u32(0, false) != 348) {
    if (u32(0, true) != 348) return false;
    swap = true;
  }
  if (std::memcmp(h + 344, "n+1", 4) != 0) return false;
  uint16_t dt;
  std::memcpy(&dt, h + 70, 2);
  if (swap) dt = __builtin_bswap16(dt);
  if (dt != 16 && dt != 64) return false; // FLOAT32, FLOAT64
  const float vox_offset = f32(108, swap), slope = f32(112, swap), inter = f32(116, swap);
  if (!(vox_offset >= 348) || znzseek(f, long(vox_offset), SEEK_SET) < 0) return false;
  // niftilib's rule: a non-finite or zero slope means no scaling.
  const bool scale = std::isfinite(slope) && slope != 0 && (slope != 1 || (std::isfinite(inter) && inter != 0));
  const double a = scale ? slope : 1.0, b = scale && std::isfinite(inter) ? inter : 0.0;
  const size_t width = dt == 16 ? 4 : 8;
  out.resize(size_t(nvox));
  std::vector<unsigned char> buf(width * 65536);
  for (int64_t done = 0; done < nvox;) {
    const size_t want = size_t(std::min<int64_t>(65536, nvox - done));
    if (znzread(buf.data(), width, want, f) != want) fail(path, "truncated NIfTI voxel data");
    float* dst = out.data() + done;
    for (size_t k = 0; k < want; ++k) {
      double v;
      if (width == 4) {
        uint32_t u;
        std::memcpy(&u, &buf[k * 4], 4);
        if (swap) u = __builtin_bswap32(u);
        float x;
        std::memcpy(&x, &u, 4);
        v = x;
      } else {
        uint64_t u;
        std::memcpy(&u, &buf[k * 8], 8);
        if (swap) u = __builtin_bswap64(u);
        std::memcpy(&v, &u, 8);
      }
      dst[k] = scale ? float(v * a + b) : float(v);
    }
    done += int64_t(want);
  }
  return true;
}

} // namespace

Volume read_volume(const std::string& path, const std::string& series) {
  if (std::filesystem::is_directory(path)) {
    if (!is_dicom_directory(path))
      fail(path, "a directory without DICOM files: give a volume file (NIfTI, NRRD, MetaImage) or a DICOM series' directory");
    return read_dicom_series(path, series).volume;
  }
  register_factories();
  if (::access(path.c_str(), R_OK) != 0) fail(path, std::string("cannot read: ") + std::strerror(errno));
  check_volume_file(path);
  auto io = itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::CommonEnums::IOFileMode::ReadMode);
  if (!io) fail(path, "not a NIfTI, NRRD or MetaImage file (or not readable as one)");
  Volume v;
  v.path = path;
  try {
    io->SetFileName(path);
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    std::string msg = itk_message(e);
    if (msg.find("orthonormal") != std::string::npos)
      fail(path, "non-orthonormal direction cosines in the header (" + msg + ")");
    fail(path, "cannot read header: " + msg);
  }
  const unsigned dims = io->GetNumberOfDimensions();
  if (io->GetNumberOfComponents() != 1)
    fail(path, fmt::format("{} components per voxel; dlk reads scalar volumes only", io->GetNumberOfComponents()));
  if (dims < 2) fail(path, fmt::format("{}-D image; dlk reads 2-D and 3-D volumes", dims));
  for (unsigned d = 3; d < dims; ++d)
    if (io->GetDimensions(d) > 1)
      fail(path, fmt::format("{}-D image with {} volumes along axis {}; dlk reads 3-D volumes "
                             "(extract the frame first)", dims, io->GetDimensions(d), d));
  v.pixel_type = component_name(io->GetComponentType());

  // Geometry from the header; 2-D images get a third axis of one slice.
  Geometry& g = v.geometry;
  for (unsigned i = 0; i < 3; ++i) {
    g.size[i] = i < dims ? int64_t(io->GetDimensions(i)) : 1;
    g.spacing[i] = i < dims ? io->GetSpacing(i) : 1.0;
    g.origin[i] = i < dims ? io->GetOrigin(i) : 0.0;
    for (unsigned j = 0; j < 3; ++j) // column j is axis j's direction
      g.direction[i * 3 + j] = (i < dims && j < dims) ? io->GetDirection(j)[i] : (i == j ? 1.0 : 0.0);
  }
  if (!is_orthonormal(g.direction))
    fail(path, fmt::format("non-orthonormal direction cosines ({})", fmt::join(g.direction, ", ")));
  for (int i = 0; i < 3; ++i)
    if (!(g.spacing[i] > 0) || !std::isfinite(g.spacing[i]))
      fail(path, fmt::format("spacing {} along axis {} is not a positive number", g.spacing[i], i));
  // Every format (NRRD's headers are not checked before ITK reads them), before the voxels are read.
  if (double(g.size[0]) * double(g.size[1]) * double(g.size[2]) > double(kMaxVolumeVoxels))
    fail(path, fmt::format("{}x{}x{} voxels (2^30 at most)", g.size[0], g.size[1], g.size[2]));
  for (int i = 0; i < 3; ++i)
    if (!std::isfinite(g.origin[i])) fail(path, fmt::format("origin {} along axis {} is not a number", g.origin[i], i));

  const bool nifti_float = std::string(io->GetNameOfClass()) == "NiftiImageIO" &&
                           (v.pixel_type == "float32" || v.pixel_type == "float64");
  if (nifti_float && read_nifti_float(path, g.voxels(), v.voxels)) return v;

  auto reader = itk::ImageFileReader<Image3F>::New();
  reader->SetImageIO(io);
  reader->SetFileName(path);
  try {
    reader->Update();
  } catch (const itk::ExceptionObject& e) {
    fail(path, "cannot read voxels: " + itk_message(e));
  }
  Image3F::Pointer img = reader->GetOutput();
  if (int64_t(img->GetLargestPossibleRegion().GetNumberOfPixels()) != g.voxels())
    fail(path, "voxel count differs from the header's size");
  const float* p = img->GetBufferPointer();
  v.voxels.assign(p, p + g.voxels());
  return v;
}

StagedVolume::StagedVolume(const std::string& path, const Geometry& g, const float* voxels, VoxelType type)
    : path_(path), target_(link_target(path)) {
  register_factories();
  const std::string ext = extension_of(path);
  // Single-file formats only: a detached header names its data file, which a rename would break.
  if (ext.empty() || ext == ".mhd" || ext == ".nhdr")
    fail(path, "cannot write this format: use .nii.gz, .nii, .nrrd or .mha");
  // What the rename would fail on, found now, before any volume staged beside this one is committed.
  struct stat st {};
  if (::stat(target_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    fail(path, S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file (volumes are written to files)");
  // A temporary name with the same extension, so ITK picks the same writer; registered, so that
  // a signal removes it, and named so that the next run removes it after a kill.
  ::close(create_temporary_beside(target_, ext, tmp_));
  slot_ = register_temporary(tmp_);
  try {
    write_and_check(g, voxels, type);
  } catch (...) { // no destructor runs for a constructor that throws
    ::unlink(tmp_.c_str());
    unregister_temporary(slot_);
    tmp_.clear();
    throw;
  }
}

void StagedVolume::write_and_check(const Geometry& g, const float* voxels, VoxelType type) {
  const std::string& path = path_;
  auto write_as = [&](auto tag) {
    using T = decltype(tag);
    using Image = itk::Image<T, 3>;
    typename Image::Pointer img = Image::New();
    typename Image::RegionType region;
    typename Image::SpacingType sp;
    typename Image::PointType org;
    typename Image::DirectionType dir;
    for (int i = 0; i < 3; ++i) {
      region.SetSize(i, itk::SizeValueType(g.size[i]));
      sp[i] = g.spacing[i];
      org[i] = g.origin[i];
      for (int j = 0; j < 3; ++j) dir[i][j] = g.direction[i * 3 + j];
    }
    img->SetRegions(region);
    img->SetSpacing(sp);
    img->SetOrigin(org);
    img->SetDirection(dir);
    img->Allocate();
    T* dst = img->GetBufferPointer();
    for (int64_t i = 0, n = g.voxels(); i < n; ++i) dst[i] = T(voxels[i]);
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetFileName(tmp_);
    writer->SetInput(img);
    writer->SetUseCompression(true);
    writer->Update();
  };
  try {
    switch (type) {
    case VoxelType::UInt8: write_as(uint8_t{}); break;
    case VoxelType::UInt16: write_as(uint16_t{}); break;
    case VoxelType::Float32: write_as(float{}); break;
    }
  } catch (const itk::ExceptionObject& e) {
    fail(path, "cannot write: " + itk_message(e));
  }
  // ITK's NIfTI writer ignores failed writes (a full disk gives a cut-off .nii.gz and no error):
  // flush the file to the disk, then read it back to its end.
  const int fd = ::open(tmp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    fail(path, "cannot write: " + why);
  }
  ::close(fd);
  try {
    check_volume_file(tmp_);
  } catch (const Error&) {
    fail(path, "cannot write: the file written is incomplete (disk full or a write error)");
  }
}

StagedVolume::~StagedVolume() {
  if (tmp_.empty()) return;
  if (!committed_) ::unlink(tmp_.c_str());
  unregister_temporary(slot_);
}

void StagedVolume::commit() {
  if (std::rename(tmp_.c_str(), target_.c_str()) != 0)
    fail(path_, std::string("cannot rename the temporary file into place: ") + std::strerror(errno));
  committed_ = true;
}

void write_volume(const std::string& path, const Geometry& g, const float* voxels, VoxelType type) {
  StagedVolume(path, g, voxels, type).commit();
}

} // namespace dlk
