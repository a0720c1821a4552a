// A DICOM series as a volume (GDCM): recognised by content (a directory holding DICOM Part 10
// files), slices ordered by their position along the slice normal (never by file name or instance
// number), the rescale slope and intercept applied, the geometry (origin, direction, spacing) from
// the image position and orientation, as ITK gives a NIfTI's. What dlk cannot take as a volume is
// refused, naming the directory and the reason: no DICOM, non-image objects (SR, RTSTRUCT),
// multi-frame or undecodable images, a single slice, orientations or sizes that differ, duplicated
// or missing slices (uneven spacing), gantry tilt. Messages name UIDs, never patient tags.
#pragma once
#include "dlk/io/volume.h"

#include <array>
#include <string>
#include <vector>

namespace dlk {

// Whether `path` is a directory with at least one DICOM Part 10 file ("DICM" at byte 128).
bool is_dicom_directory(const std::string& path);

struct DicomSeriesInfo {
  std::string uid, description, modality;
  size_t files = 0;
};
// The series of a directory's DICOM files, in the order of their UIDs.
std::vector<DicomSeriesInfo> list_dicom_series(const std::string& dir);

// What a DICOM Segmentation of the series must reference (dlk-infer --format dicom-seg).
struct DicomSeries {
  Volume volume;
  std::string series_uid, study_uid, frame_of_reference_uid, sop_class_uid;
  std::vector<std::string> files;             // in slice order (the volume's z)
  std::vector<std::string> sop_instance_uids; // the same order
  std::vector<std::array<double, 3>> positions; // each slice's Image Position (Patient), the same order
};

// Reads one series of `dir`: `series` is its UID or its description (unique in the directory);
// empty when the directory holds one series. Several series and no choice is a dlk::UsageError
// listing each one's UID, description, modality and slice count.
DicomSeries read_dicom_series(const std::string& dir, const std::string& series = "");
// The same without the pixels (volume.voxels empty): what a Segmentation of it must reference.
DicomSeries index_dicom_series(const std::string& dir, const std::string& series = "");

} // namespace dlk
