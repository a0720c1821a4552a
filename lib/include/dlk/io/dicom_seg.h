// A label volume as a DICOM Segmentation (DCMTK's dcmseg): binary, one segment per foreground class
// that the labels hold, each labelled with its class name and coded (share/dicom/segment-codes.tsv:
// SNOMED CT where a class has a standard code, else a generic tissue code), algorithm type
// AUTOMATIC naming dlk and its version; one frame per segment and source slice where the class is
// present, each referencing its source instance; the patient, study and frame of reference of the
// source series, which the SEG's Referenced Series Sequence names.
#pragma once
#include "dlk/io/dicom_series.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

struct SegmentCode {
  std::string category_code, category_scheme, category_meaning;
  std::string type_code, type_scheme, type_meaning;
};
// The coded terms of a class name (case, spaces and '_' ignored: "kidney_left", "Left kidney");
// a generic tissue code for a name the table lacks.
SegmentCode segment_code(const std::string& class_name);

// Writes `labels` (on the series' grid, x fastest, slices in the series' order) atomically.
// `classes`: the names of label values 0 (background, not a segment), 1, 2, ...
void write_dicom_seg(const std::string& path, const DicomSeries& source, const std::vector<uint16_t>& labels,
                     const std::vector<std::string>& classes, const std::string& version);

} // namespace dlk
