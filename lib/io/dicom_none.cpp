// Stand-in when dlk is built without ITK (DLK_WITH_ITK=OFF): GDCM and DCMTK come with it.
#include "dlk/core/error.h"
#include "dlk/io/dicom_seg.h"
#include "dlk/io/dicom_series.h"

namespace dlk {

static const char* kNoDicom = "dlk was built without ITK (DLK_WITH_ITK=OFF): it cannot read DICOM series or write DICOM "
                              "Segmentations";

bool is_dicom_directory(const std::string&) { return false; }
std::vector<DicomSeriesInfo> list_dicom_series(const std::string&) { return {}; }
DicomSeries read_dicom_series(const std::string& dir, const std::string&) { fail(dir, kNoDicom); }
DicomSeries index_dicom_series(const std::string& dir, const std::string&) { fail(dir, kNoDicom); }
SegmentCode segment_code(const std::string&) { return {"85756007", "SCT", "Tissue", "85756007", "SCT", "Tissue"}; }
void write_dicom_seg(const std::string& path, const DicomSeries&, const std::vector<uint16_t>&, const std::vector<std::string>&,
                     const std::string&) {
  fail(path, kNoDicom);
}

} // namespace dlk
