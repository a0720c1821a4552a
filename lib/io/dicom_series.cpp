#include "dlk/io/dicom_series.h"

#include "dlk/core/error.h"

#include <fmt/format.h>

#include <gdcmImageReader.h>
#include <gdcmScanner.h>
#include <gdcmTrace.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

namespace dlk {

namespace fs = std::filesystem;

namespace {

const gdcm::Tag kSeriesUid(0x0020, 0x000e), kSeriesDescription(0x0008, 0x103e), kModality(0x0008, 0x0060),
    kSopClass(0x0008, 0x0016), kSopInstance(0x0008, 0x0018), kPosition(0x0020, 0x0032), kOrientation(0x0020, 0x0037),
    kPixelSpacing(0x0028, 0x0030), kRows(0x0028, 0x0010), kColumns(0x0028, 0x0011), kFrames(0x0028, 0x0008),
    kStudyUid(0x0020, 0x000d), kFrameOfReference(0x0020, 0x0052);

bool has_dicm(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  char b[132];
  return f.read(b, sizeof b) && std::memcmp(b + 128, "DICM", 4) == 0;
}

// The directory's DICOM Part 10 files, by name (the order only makes messages repeatable).
std::vector<std::string> dicom_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && has_dicm(it->path())) out.push_back(it->path().string());
  if (ec) fail(dir, "cannot list: " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

struct Scan {
  gdcm::Scanner s;
  std::string value(const std::string& f, const gdcm::Tag& t) const {
    const char* v = s.GetValue(f.c_str(), t);
    std::string r = v ? v : "";
    while (!r.empty() && (r.back() == ' ' || r.back() == '\0')) r.pop_back();
    while (!r.empty() && r.front() == ' ') r.erase(r.begin());
    return r;
  }
  // A multi-valued decimal string ("0.5\0.5"); empty when absent or unreadable.
  std::vector<double> numbers(const std::string& f, const gdcm::Tag& t) const {
    std::vector<double> out;
    std::string v = value(f, t);
    size_t at = 0;
    while (at <= v.size() && !v.empty()) {
      const size_t end = std::min(v.find('\\', at), v.size());
      try {
        out.push_back(std::stod(v.substr(at, end - at)));
      } catch (...) {
        return {};
      }
      at = end + 1;
    }
    return out;
  }
};

Scan scan(const std::string& dir, const std::vector<std::string>& files) {
  Scan sc;
  for (const auto& t : {kSeriesUid, kSeriesDescription, kModality, kSopClass, kSopInstance, kPosition, kOrientation,
                        kPixelSpacing, kRows, kColumns, kFrames, kStudyUid, kFrameOfReference})
    sc.s.AddTag(t);
  if (!sc.s.Scan(files)) fail(dir, "cannot read the DICOM files' headers");
  return sc;
}

// Names of the non-image objects that turn up in exports.
std::string sop_class_name(const std::string& uid) {
  if (uid.rfind("1.2.840.10008.5.1.4.1.1.88.", 0) == 0) return "a structured report";
  if (uid == "1.2.840.10008.5.1.4.1.1.481.3") return "an RT structure set";
  if (uid == "1.2.840.10008.5.1.4.1.1.66.4") return "a segmentation";
  if (uid == "1.2.840.10008.5.1.4.1.1.11.1") return "a presentation state";
  if (uid == "1.2.840.10008.5.1.4.1.1.104.1") return "an encapsulated PDF";
  return "SOP class " + uid;
}

std::string series_list(const std::vector<DicomSeriesInfo>& all) {
  std::string s;
  for (const auto& i : all)
    s += fmt::format("\n  {}  \"{}\"  {}  {} file(s)", i.uid, i.description, i.modality.empty() ? "-" : i.modality, i.files);
  return s;
}

std::map<std::string, std::vector<std::string>> by_series(const Scan& sc, const std::vector<std::string>& files) {
  std::map<std::string, std::vector<std::string>> m;
  for (const auto& f : files) m[sc.value(f, kSeriesUid)].push_back(f);
  return m;
}

std::vector<DicomSeriesInfo> infos(const Scan& sc, const std::map<std::string, std::vector<std::string>>& groups) {
  std::vector<DicomSeriesInfo> out;
  for (const auto& [uid, fs] : groups)
    out.push_back({uid, sc.value(fs[0], kSeriesDescription), sc.value(fs[0], kModality), fs.size()});
  return out;
}

// The files of the series `want` (UID or unique description; "" when there is one series).
std::vector<std::string> choose(const std::string& dir, const Scan& sc, const std::vector<std::string>& files,
                                const std::string& want) {
  const auto groups = by_series(sc, files);
  const auto all = infos(sc, groups);
  if (want.empty()) {
    if (groups.size() == 1) return groups.begin()->second;
    throw UsageError(fmt::format("{}: {} DICOM series; choose one with --series UID (or its description):{}", dir,
                                 groups.size(), series_list(all)));
  }
  if (auto it = groups.find(want); it != groups.end()) return it->second;
  std::vector<std::string> hits;
  for (const auto& i : all)
    if (i.description == want) hits.push_back(i.uid);
  if (hits.size() == 1) return groups.at(hits[0]);
  throw UsageError(fmt::format("{}: {} series '{}' (by UID or description); its series:{}", dir,
                               hits.empty() ? "no" : "more than one", want, series_list(all)));
}

std::array<double, 3> cross(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return {{a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]}};
}
double dot(const std::array<double, 3>& a, const std::array<double, 3>& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

struct Placed {
  std::string file;
  std::array<double, 3> position;
  double along = 0; // position . normal
};

// Header checks of every file against the first; the slices in order along the normal.
std::vector<Placed> place_slices(const std::string& dir, const Scan& sc, const std::vector<std::string>& files,
                                 std::array<double, 9>& direction, std::array<double, 2>& pixel) {
  const std::string& f0 = files[0];
  const std::string uid = sc.value(f0, kSeriesUid);
  for (const auto& f : files) {
    const std::string name = fs::path(f).filename().string();
    if (sc.value(f, kRows).empty() || sc.value(f, kColumns).empty())
      fail(dir, fmt::format("{} is not an image: {} (series {})", name, sop_class_name(sc.value(f, kSopClass)), uid));
    if (!sc.value(f, kFrames).empty() && sc.value(f, kFrames) != "1")
      fail(dir, fmt::format("{} is a multi-frame image ({} frames); dlk reads series of one frame per file", name,
                            sc.value(f, kFrames)));
    if (sc.value(f, kRows) != sc.value(f0, kRows) || sc.value(f, kColumns) != sc.value(f0, kColumns))
      fail(dir, fmt::format("series {}: {} is {}x{} pixels, {} is {}x{}", uid, name, sc.value(f, kColumns), sc.value(f, kRows),
                            fs::path(f0).filename().string(), sc.value(f0, kColumns), sc.value(f0, kRows)));
    const auto o = sc.numbers(f, kOrientation), o0 = sc.numbers(f0, kOrientation);
    if (o.size() != 6 || sc.numbers(f, kPosition).size() != 3 || sc.numbers(f, kPixelSpacing).size() != 2)
      fail(dir, fmt::format("{} lacks the image position, orientation or pixel spacing (series {})", name, uid));
    for (size_t i = 0; i < 6; ++i)
      if (std::abs(o[i] - o0[i]) > 1e-4)
        fail(dir, fmt::format("series {}: the slices' orientations differ ({} and {})", uid, fs::path(f0).filename().string(), name));
    if (sc.numbers(f, kPixelSpacing) != sc.numbers(f0, kPixelSpacing))
      fail(dir, fmt::format("series {}: the slices' pixel spacings differ ({} and {})", uid, fs::path(f0).filename().string(), name));
  }
  const auto o = sc.numbers(f0, kOrientation), ps = sc.numbers(f0, kPixelSpacing);
  const std::array<double, 3> row{{o[0], o[1], o[2]}}, col{{o[3], o[4], o[5]}}, normal = cross(row, col);
  for (int i = 0; i < 3; ++i) { // columns: the x (along a row), y (down a column) and slice axes
    direction[size_t(i * 3)] = row[size_t(i)];
    direction[size_t(i * 3 + 1)] = col[size_t(i)];
    direction[size_t(i * 3 + 2)] = normal[size_t(i)];
  }
  if (!is_orthonormal(direction, 1e-3)) fail(dir, fmt::format("series {}: the image orientation is not orthonormal", uid));
  pixel = {{ps[1], ps[0]}}; // DICOM: row spacing (y) first
  std::vector<Placed> out;
  for (const auto& f : files) {
    const auto p = sc.numbers(f, kPosition);
    Placed s{f, {{p[0], p[1], p[2]}}};
    s.along = dot(s.position, normal);
    out.push_back(s);
  }
  std::sort(out.begin(), out.end(), [](const Placed& a, const Placed& b) { return a.along < b.along; });
  return out;
}

// The slice spacing; duplicated or missing slices, uneven spacing and gantry tilt refused.
double slice_spacing(const std::string& dir, const std::string& uid, const std::vector<Placed>& s) {
  std::vector<double> gaps;
  for (size_t i = 1; i < s.size(); ++i) {
    const double g = s[i].along - s[i - 1].along;
    if (g < 1e-3)
      fail(dir, fmt::format("series {}: {} and {} are at the same position ({:.3f} mm along the normal): a duplicated slice", uid,
                            fs::path(s[i - 1].file).filename().string(), fs::path(s[i].file).filename().string(), s[i].along));
    std::array<double, 3> delta{{s[i].position[0] - s[i - 1].position[0], s[i].position[1] - s[i - 1].position[1],
                                 s[i].position[2] - s[i - 1].position[2]}};
    const double inplane = std::sqrt(std::max(0.0, dot(delta, delta) - g * g));
    if (inplane > 0.01 + 1e-3 * g) // DICOM's decimal strings carry about 0.001 mm
      fail(dir, fmt::format("series {}: gantry tilt of {:.2f} degrees (the slices are sheared, not stacked along their "
                            "normal); dlk refuses it rather than resampling: resample the series first", uid,
                            std::atan2(inplane, g) * 180 / M_PI));
    gaps.push_back(g);
  }
  std::vector<double> sorted = gaps;
  std::sort(sorted.begin(), sorted.end());
  const double typical = sorted[sorted.size() / 2];
  for (size_t i = 0; i < gaps.size(); ++i) {
    if (std::abs(gaps[i] - typical) <= 0.01 * typical + 1e-3) continue;
    const double k = gaps[i] / typical;
    if (std::abs(k - std::round(k)) < 0.05 && k > 1.5)
      fail(dir, fmt::format("series {}: {:.0f} slice(s) missing between {:.3f} and {:.3f} mm along the normal (spacing {:g} mm)", uid,
                            std::round(k) - 1, s[i].along, s[i + 1].along, typical));
    fail(dir, fmt::format("series {}: uneven slice spacing ({:g} to {:g} mm); dlk refuses it rather than resampling: resample the "
                          "series first", uid, sorted.front(), sorted.back()));
  }
  double sum = 0;
  for (double g : gaps) sum += g;
  return sum / double(gaps.size());
}

// One file's pixels, rescaled, into `dst` (columns x rows floats, x fastest); returns their stored type.
std::string read_pixels(const std::string& dir, const std::string& file, int64_t cols, int64_t rows, float* dst) {
  const std::string name = fs::path(file).filename().string();
  gdcm::ImageReader r;
  r.SetFileName(file.c_str());
  if (!r.Read()) fail(dir, fmt::format("{}: GDCM cannot read its image", name));
  const gdcm::Image& img = r.GetImage();
  const unsigned* dim = img.GetDimensions();
  if (int64_t(dim[0]) != cols || int64_t(dim[1]) != rows || (img.GetNumberOfDimensions() > 2 && dim[2] > 1))
    fail(dir, fmt::format("{}: its pixel data do not match its header", name));
  const gdcm::PixelFormat& pf = img.GetPixelFormat();
  if (pf.GetSamplesPerPixel() != 1 || img.GetPhotometricInterpretation() != gdcm::PhotometricInterpretation::MONOCHROME2)
    fail(dir, fmt::format("{}: {} with {} samples per pixel; dlk reads greyscale (MONOCHROME2) images", name,
                          gdcm::PhotometricInterpretation::GetPIString(img.GetPhotometricInterpretation()), pf.GetSamplesPerPixel()));
  std::vector<char> buf(img.GetBufferLength());
  if (!img.GetBuffer(buf.data()))
    fail(dir, fmt::format("{}: GDCM cannot decode its pixel data (transfer syntax {})", name,
                          r.GetFile().GetHeader().GetDataSetTransferSyntax().GetString()));
  const double slope = img.GetSlope(), intercept = img.GetIntercept();
  const size_t n = size_t(cols * rows);
  auto convert = [&](auto zero) {
    using T = decltype(zero);
    if (buf.size() < n * sizeof(T)) fail(dir, fmt::format("{}: short pixel data", name));
    for (size_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, buf.data() + i * sizeof(T), sizeof(T));
      dst[i] = float(double(v) * slope + intercept);
    }
  };
  switch (pf.GetScalarType()) {
  case gdcm::PixelFormat::UINT8: convert(uint8_t()); return "uint8";
  case gdcm::PixelFormat::INT8: convert(int8_t()); return "int8";
  case gdcm::PixelFormat::UINT16: convert(uint16_t()); return "uint16";
  case gdcm::PixelFormat::INT16: convert(int16_t()); return "int16";
  case gdcm::PixelFormat::UINT32: convert(uint32_t()); return "uint32";
  case gdcm::PixelFormat::INT32: convert(int32_t()); return "int32";
  case gdcm::PixelFormat::FLOAT32: convert(float()); return "float32";
  case gdcm::PixelFormat::FLOAT64: convert(double()); return "float64";
  default: fail(dir, fmt::format("{}: pixel type {} not supported", name, pf.GetScalarTypeAsString()));
  }
}

} // namespace

bool is_dicom_directory(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return false;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && has_dicm(it->path())) return true;
  return false;
}

std::vector<DicomSeriesInfo> list_dicom_series(const std::string& dir) {
  const auto files = dicom_files(dir);
  if (files.empty()) return {};
  const Scan sc = scan(dir, files);
  return infos(sc, by_series(sc, files));
}

DicomSeries index_dicom_series(const std::string& dir, const std::string& series) {
  gdcm::Trace::SetError(false); // GDCM's and its codecs' own messages: dlk's errors say what failed
  gdcm::Trace::SetWarning(false);
  const auto all = dicom_files(dir);
  if (all.empty()) fail(dir, "no DICOM files (DICOM Part 10, \"DICM\" at byte 128) in this directory");
  const Scan sc = scan(dir, all);
  const std::vector<std::string> files = choose(dir, sc, all, series);
  DicomSeries out;
  out.series_uid = sc.value(files[0], kSeriesUid);
  if (files.size() < 2)
    fail(dir, fmt::format("series {} has one slice; dlk reads volumes (two slices or more)", out.series_uid));
  Geometry& g = out.volume.geometry;
  std::array<double, 2> pixel{};
  const std::vector<Placed> slices = place_slices(dir, sc, files, g.direction, pixel);
  g.spacing = {{pixel[0], pixel[1], slice_spacing(dir, out.series_uid, slices)}};
  g.size = {{std::stoll(sc.value(files[0], kColumns)), std::stoll(sc.value(files[0], kRows)), int64_t(slices.size())}};
  g.origin = slices[0].position;
  if (g.voxels() > kMaxVolumeVoxels) fail(dir, fmt::format("series {}: {} voxels, more than dlk reads", out.series_uid, g.voxels()));
  out.volume.path = dir;
  for (const auto& s : slices) {
    out.files.push_back(s.file);
    out.sop_instance_uids.push_back(sc.value(s.file, kSopInstance));
    out.positions.push_back(s.position);
  }
  out.study_uid = sc.value(files[0], kStudyUid);
  out.frame_of_reference_uid = sc.value(files[0], kFrameOfReference);
  out.sop_class_uid = sc.value(files[0], kSopClass);
  return out;
}

DicomSeries read_dicom_series(const std::string& dir, const std::string& series) {
  DicomSeries out = index_dicom_series(dir, series);
  const Geometry& g = out.volume.geometry;
  out.volume.voxels.resize(size_t(g.voxels()));
  const int64_t plane = g.size[0] * g.size[1];
  for (size_t z = 0; z < out.files.size(); ++z)
    out.volume.pixel_type = read_pixels(dir, out.files[z], g.size[0], g.size[1], out.volume.voxels.data() + int64_t(z) * plane);
  return out;
}

} // namespace dlk
