// The coded terms of DICOM Segmentation segments: SNOMED CT codes as DICOM PS3.16 lists them
// (CID 7166 and the anatomic region groups), found by class name whatever its case, spaces and '_'.
#include "dlk/io/dicom_seg.h"
#include "dlk/io/dicom_series.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace dlk;

TEST_CASE("dicom: segment codes by class name", "[dicom]") {
  CHECK(segment_code("liver").type_code == "10200004");
  CHECK(segment_code("Liver").type_meaning == "Liver");
  CHECK(segment_code("kidney_left").type_code == "18639004");
  CHECK(segment_code("Left Kidney").type_code == "18639004");
  CHECK(segment_code("kidney_right").type_code == "9846003");
  CHECK(segment_code("LV").type_code == "87878005");
  CHECK(segment_code("Myo").type_code == "74281007");
  CHECK(segment_code("liver").category_code == "123037004"); // Anatomical Structure
  const SegmentCode other = segment_code("enhancing tumour");
  CHECK(other.category_code == "85756007"); // Tissue
  CHECK(other.type_code == "85756007");
  CHECK(other.type_scheme == "SCT");
}

TEST_CASE("dicom: directories without DICOM", "[dicom]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "dlk-unit-dicom";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "notes.txt") << "not DICOM";
  CHECK_FALSE(is_dicom_directory(dir.string()));
  CHECK(list_dicom_series(dir.string()).empty());
  CHECK_THROWS_WITH(read_dicom_series(dir.string()), Catch::Contains("no DICOM files"));
  // A file with the Part 10 preamble is recognised by content, whatever its name.
  std::string bytes(128, '\0');
  bytes += "DICM";
  std::ofstream(dir / "IM0001", std::ios::binary) << bytes;
  CHECK(is_dicom_directory(dir.string()));
  CHECK_FALSE(is_dicom_directory((dir / "IM0001").string()));
  fs::remove_all(dir);
}
