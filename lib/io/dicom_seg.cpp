#include "dlk/io/dicom_seg.h"

#include "dlk/core/error.h"
#include "dlk/core/share_dir.h"
#include "dlk/core/temporary_files.h"

#include <fmt/format.h>

#include <dcmtk/config/osconfig.h> // first, as DCMTK wants
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <unistd.h>

namespace dlk {

namespace {

std::string key(const std::string& name) {
  std::string k;
  for (char c : name)
    if (c != ' ' && c != '_') k += char(std::tolower(static_cast<unsigned char>(c)));
  return k;
}

void check(const OFCondition& c, const std::string& path, const std::string& what) {
  if (c.bad()) fail(path, fmt::format("DICOM Segmentation: {}: {}", what, c.text()));
}

std::string ds(double v) { return fmt::format("{:.6f}", v); }

// The per-frame groups of a slice: its position, its place in the dimensions, its source image.
struct FrameGroups {
  std::unique_ptr<FGPlanePosPatient> position;
  FGFrameContent content;
  std::unique_ptr<FGDerivationImage> derivation;
};

FrameGroups frame_groups(const DicomSeries& src, size_t z, Uint16 segment) {
  FrameGroups f;
  const auto& p = src.positions[z];
  f.position.reset(FGPlanePosPatient::createMinimal(ds(p[0]).c_str(), ds(p[1]).c_str(), ds(p[2]).c_str()));
  f.content.setDimensionIndexValues(segment, 0);
  f.content.setDimensionIndexValues(Uint32(z + 1), 1);
  ImageSOPInstanceReferenceMacro ref;
  ref.setReferencedSOPClassUID(src.sop_class_uid.c_str());
  ref.setReferencedSOPInstanceUID(src.sop_instance_uids[z].c_str());
  OFVector<ImageSOPInstanceReferenceMacro> refs(1, ref);
  f.derivation.reset(FGDerivationImage::createMinimal(refs, "Segmentation by dlk", CodeSequenceMacro("113076", "DCM", "Segmentation"),
                                                      CodeSequenceMacro("121322", "DCM", "Source image for image processing operation")));
  return f;
}

void shared_groups(DcmSegmentation& seg, const Geometry& g, const std::string& path) {
  FGPixelMeasures pm;
  check(pm.setPixelSpacing(fmt::format("{}\\{}", ds(g.spacing[1]), ds(g.spacing[0])).c_str()), path, "pixel spacing");
  check(pm.setSliceThickness(ds(g.spacing[2]).c_str()), path, "slice thickness");
  check(pm.setSpacingBetweenSlices(ds(g.spacing[2]).c_str()), path, "spacing between slices");
  check(seg.addForAllFrames(pm), path, "pixel measures");
  const auto& d = g.direction; // columns: x (along a row), y (down a column)
  std::unique_ptr<FGPlaneOrientationPatient> po(FGPlaneOrientationPatient::createMinimal(
      ds(d[0]).c_str(), ds(d[3]).c_str(), ds(d[6]).c_str(), ds(d[1]).c_str(), ds(d[4]).c_str(), ds(d[7]).c_str()));
  check(seg.addForAllFrames(*po), path, "plane orientation");
}

// One segment for a class, and a frame for each slice that holds it; the frames' pixels are also
// appended to `frames` (one byte per pixel).
void add_class(DcmSegmentation& seg, const DicomSeries& src, const std::vector<uint16_t>& labels, uint16_t value,
               const std::string& name, const std::string& version, const std::string& path, std::vector<Uint8>& frames) {
  const Geometry& g = src.volume.geometry;
  const size_t plane = size_t(g.size[0] * g.size[1]);
  const SegmentCode code = segment_code(name);
  DcmSegment* segment = nullptr;
  check(DcmSegment::create(segment, name.c_str(), CodeSequenceMacro(code.category_code.c_str(), "SCT", code.category_meaning.c_str()),
                           CodeSequenceMacro(code.type_code.c_str(), "SCT", code.type_meaning.c_str()), DcmSegTypes::SAT_AUTOMATIC,
                           ("dlk " + version).c_str()),
        path, "segment " + name);
  Uint16 number = 0;
  check(seg.addSegment(segment, number), path, "segment " + name);
  std::vector<Uint8> mask(plane);
  for (size_t z = 0; z < size_t(g.size[2]); ++z) {
    bool any = false;
    for (size_t i = 0; i < plane; ++i) any |= (mask[i] = labels[z * plane + i] == value) != 0;
    if (!any) continue; // binary frames only where the class is
    FrameGroups f = frame_groups(src, z, number);
    OFVector<FGBase*> groups;
    groups.push_back(f.position.get());
    groups.push_back(&f.content);
    groups.push_back(f.derivation.get());
    check(seg.addFrame(mask.data(), number, groups), path, fmt::format("frame of {} on slice {}", name, z));
    frames.insert(frames.end(), mask.begin(), mask.end());
  }
}

// The frames' bits packed as PS3.5 8.1.1 says for Bits Allocated 1: one after the other with no
// padding between frames, the first pixel in a byte's lowest bit, the whole padded to an even
// length. (DCMTK 3.6.7 drops the last bits when the total is not a multiple of 8.)
std::vector<Uint8> pack_bits(const std::vector<Uint8>& pixels) {
  std::vector<Uint8> out((pixels.size() + 7) / 8 + ((pixels.size() + 7) / 8) % 2, 0);
  for (size_t i = 0; i < pixels.size(); ++i)
    if (pixels[i]) out[i / 8] = Uint8(out[i / 8] | (1u << (i % 8)));
  return out;
}

} // namespace

SegmentCode segment_code(const std::string& class_name) {
  SegmentCode code{"85756007", "SCT", "Tissue", "85756007", "SCT", "Tissue"};
  const std::string file = find_share_file("segment-codes", "dicom", ".tsv", "--format dicom-seg");
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    size_t at = 0;
    for (size_t tab; (tab = line.find('\t', at)) != std::string::npos; at = tab + 1) f.push_back(line.substr(at, tab - at));
    f.push_back(line.substr(at));
    if (f.size() != 5) fail(file, "a line of segment codes needs 5 tab-separated fields: " + line);
    size_t from = 0;
    while (from <= f[0].size()) {
      const size_t comma = std::min(f[0].find(',', from), f[0].size());
      if (key(f[0].substr(from, comma - from)) == key(class_name)) return {f[1], "SCT", f[2], f[3], "SCT", f[4]};
      from = comma + 1;
    }
  }
  return code;
}

void write_dicom_seg(const std::string& path, const DicomSeries& src, const std::vector<uint16_t>& labels,
                     const std::vector<std::string>& classes, const std::string& version) {
  OFLog::configure(OFLogger::FATAL_LOG_LEVEL); // DCMTK's warnings on stderr: dlk's errors say what failed
  const Geometry& g = src.volume.geometry;
  if (labels.size() != size_t(g.voxels()) || src.files.size() != size_t(g.size[2]))
    throw Error("write_dicom_seg: labels and series differ in size");
  DcmSegmentation* raw = nullptr;
  check(DcmSegmentation::createBinarySegmentation(raw, Uint16(g.size[1]), Uint16(g.size[0]),
                                                  IODGeneralEquipmentModule::EquipmentInfo("dlk", "dlk", "0", version.c_str()),
                                                  ContentIdentificationMacro("1", "DLK_SEGMENTATION", "dlk segmentation", "")),
        path, "create");
  std::unique_ptr<DcmSegmentation> seg(raw);
  check(seg->importFromSourceImage(src.files[0].c_str(), OFTrue), path, "patient, study and frame of reference of " + src.files[0]);
  char uid[100];
  check(seg->getSeries().setSeriesInstanceUID(dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT)), path, "series UID");
  check(seg->getSeries().setSeriesNumber("9001"), path, "series number");
  check(seg->getSeries().setSeriesDescription(("dlk " + version + " segmentation").c_str()), path, "series description");
  char org[100];
  dcmGenerateUniqueIdentifier(org);
  check(seg->getDimensions().addDimensionIndex(DCM_ReferencedSegmentNumber, org, DCM_SegmentIdentificationSequence,
                                               "ReferencedSegmentNumber"), path, "dimensions");
  check(seg->getDimensions().addDimensionIndex(DCM_ImagePositionPatient, org, DCM_PlanePositionSequence, "ImagePositionPatient"),
        path, "dimensions");
  shared_groups(*seg, g, path);
  std::vector<bool> present(classes.size());
  for (uint16_t v : labels)
    if (v < present.size()) present[v] = true;
  if (std::find(present.begin() + 1, present.end(), true) == present.end())
    fail(path, "no foreground class in the labels: a DICOM Segmentation needs at least one segment (write NIfTI instead)");
  std::vector<Uint8> frames;
  for (size_t k = 1; k < classes.size(); ++k)
    if (present[k]) add_class(*seg, src, labels, uint16_t(k), classes[k], version, path, frames);
  IODReferences refs;
  for (size_t z = 0; z < src.files.size(); ++z)
    refs.add(new IODImageReference("", src.study_uid.c_str(), src.series_uid.c_str(), src.sop_instance_uids[z].c_str(),
                                   src.sop_class_uid.c_str()));
  seg->getCommonInstanceReference().addReferences(refs, src.study_uid.c_str());
  DcmFileFormat file;
  check(seg->writeDataset(*file.getDataset()), path, "dataset");
  const std::vector<Uint8> packed = pack_bits(frames);
  check(file.getDataset()->putAndInsertUint8Array(DCM_PixelData, packed.data(), Uint32(packed.size())), path, "pixel data");
  std::string tmp;
  ::close(create_temporary_beside(path, ".dcm", tmp));
  const int slot = register_temporary(tmp);
  const OFCondition saved = file.saveFile(tmp.c_str(), EXS_LittleEndianExplicit);
  if (saved.bad() || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    unregister_temporary(slot);
    fail(path, fmt::format("cannot write the DICOM Segmentation: {}", saved.bad() ? saved.text() : "rename failed"));
  }
  unregister_temporary(slot);
}

} // namespace dlk
