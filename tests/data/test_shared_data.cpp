// Real volumes from ../shared/data, prepared by the installed dlk-prep and compared voxel by
// voxel with what ITK's own reader (not dlk's) finds in the NIfTI files. Skips (exit 77,
// saying so) when the data is absent.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "dlk/core/half.h"
#include "dlk/core/input_stream.h"
#include "dlk/shard/shard_reader.h"

#include <itkFlipImageFilter.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkMetaImageIOFactory.h>
#include <itkNiftiImageIOFactory.h>
#include <itkNrrdImageIOFactory.h>
#include <itkPermuteAxesImageFilter.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <iostream>
#include <map>

namespace fs = std::filesystem;

namespace {
std::string g_data, g_tool, g_tmp;

template <class T>
std::vector<T> itk_voxels(const std::string& path, std::array<size_t, 3>& size, std::array<double, 9>* direction = nullptr) {
  using Image = itk::Image<T, 3>;
  auto r = itk::ImageFileReader<Image>::New();
  r->SetFileName(path);
  r->Update();
  auto img = r->GetOutput();
  for (int i = 0; i < 3; ++i) size[size_t(i)] = img->GetLargestPossibleRegion().GetSize()[i];
  if (direction)
    for (int i = 0; i < 9; ++i) (*direction)[size_t(i)] = img->GetDirection()[i / 3][i % 3];
  const T* p = img->GetBufferPointer();
  return std::vector<T>(p, p + size[0] * size[1] * size[2]);
}

int sh(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}
} // namespace

TEST_CASE("data: TotalSegmentator CT, Synapse label map, every voxel", "[data]") {
  const std::string ct = g_data + "/totalseg-ct-small/ct.nii.gz", seg = g_data + "/totalseg-ct-small/seg.nii.gz";
  const std::string out = g_tmp + "/totalseg";
  REQUIRE(sh(g_tool + " -q --orientation stored --image " + ct + " --label " + seg + " --case ct01 --label-map totalseg-synapse" +
             " --dtype float32 --classes background,aorta,gallbladder,kidney_left,kidney_right,liver,pancreas,spleen,stomach -o " + out) == 0);
  std::array<size_t, 3> size{};
  auto hu = itk_voxels<short>(ct, size);
  auto lab = itk_voxels<unsigned char>(seg, size);
  // The Synapse order from ../shared/data/README.md: aorta 52, gallbladder 4, kidney L 3,
  // kidney R 2, liver 5, pancreas 7, spleen 1, stomach 6; everything else background.
  const std::map<int, int> synapse = {{52, 1}, {4, 2}, {3, 3}, {2, 4}, {5, 5}, {7, 6}, {1, 7}, {6, 8}};
  dlk::ShardFile f(out + "/ct01.dlks");
  REQUIRE(f.meta().n_slices == int64_t(size[2]));
  for (size_t z = 0; z < size[2]; ++z) {
    dlk::Slice s = f.read_slice(int64_t(z));
    for (size_t i = 0; i < size[0] * size[1]; ++i) {
      const size_t v = z * size[0] * size[1] + i;
      const double expect = (std::min(275.0, std::max(-125.0, double(hu[v]))) + 125.0) / 400.0;
      REQUIRE(s.image[i] == Approx(expect).margin(1e-6));
      auto it = synapse.find(lab[v]);
      REQUIRE(int(s.label[i]) == (it == synapse.end() ? 0 : it->second));
    }
  }
}

TEST_CASE("data: TotalSegmentator CT reoriented to LPS: stored axes that point R or A come reversed", "[data]") {
  const std::string ct = g_data + "/totalseg-ct-small/ct.nii.gz";
  REQUIRE(sh(g_tool + " -q --image " + ct + " --case ct01 --dtype float32 --normalize none -o " + g_tmp + "/canonical") == 0);
  std::array<size_t, 3> size{};
  std::array<double, 9> dir{};
  auto hu = itk_voxels<short>(ct, size, &dir);
  // The file's affine is RAS (../shared/data/README.md): ITK's direction is diagonal, and an axis
  // whose entry is negative points to R (x) or A (y), so LPS order reverses it.
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) REQUIRE((r == c) == (std::abs(dir[size_t(3 * r + c)]) > 0.5));
  const bool fx = dir[0] < 0, fy = dir[4] < 0, fz = dir[8] < 0;
  CHECK(fx);
  CHECK(fy);
  dlk::ShardFile f(g_tmp + "/canonical/ct01.dlks");
  REQUIRE(f.meta().n_slices == int64_t(size[2]));
  for (size_t z = 0; z < size[2]; ++z) {
    dlk::Slice s = f.read_slice(int64_t(z));
    for (size_t y = 0; y < size[1]; ++y)
      for (size_t x = 0; x < size[0]; ++x) {
        const size_t sx = fx ? size[0] - 1 - x : x, sy = fy ? size[1] - 1 - y : y, sz = fz ? size[2] - 1 - z : z;
        REQUIRE(s.image[y * size[0] + x] == float(hu[(sz * size[1] + sy) * size[0] + sx]));
      }
  }
}

// The slice records of a shard, without its metadata (which names the source) and index.
std::string slice_records(const std::string& path) {
  dlk::ShardFile f(path);
  std::string out;
  for (int64_t s = 0; s < f.meta().n_slices; ++s) {
    dlk::Slice sl = f.read_slice(s);
    out.append(reinterpret_cast<const char*>(sl.image.data()), sl.image.size() * sizeof(float));
    out.append(reinterpret_cast<const char*>(sl.label.data()), sl.label.size());
  }
  return out;
}

TEST_CASE("data: the CT permuted and flipped by ITK's filters, as MetaImage and NRRD, gives the same slices", "[data]") {
  using Image = itk::Image<short, 3>;
  const std::string ct = g_data + "/totalseg-ct-small/ct.nii.gz", seg = g_data + "/totalseg-ct-small/seg.nii.gz";
  auto variant = [&](const std::string& in, const std::string& out) {
    auto r = itk::ImageFileReader<Image>::New();
    r->SetFileName(in);
    auto perm = itk::PermuteAxesImageFilter<Image>::New(); // output axis i is input axis order[i]
    itk::FixedArray<unsigned, 3> order;
    order[0] = 2, order[1] = 0, order[2] = 1;
    perm->SetOrder(order);
    perm->SetInput(r->GetOutput());
    auto flip = itk::FlipImageFilter<Image>::New();
    itk::FixedArray<bool, 3> axes;
    axes[0] = true, axes[1] = false, axes[2] = true;
    flip->SetFlipAxes(axes);
    flip->SetFlipAboutOrigin(false); // the same physical image, its voxels stored the other way
    flip->SetInput(perm->GetOutput());
    auto w = itk::ImageFileWriter<Image>::New();
    w->SetFileName(out);
    w->SetInput(flip->GetOutput());
    w->Update();
    return std::make_pair(Image::Pointer(r->GetOutput()), Image::Pointer(flip->GetOutput())); // outlive the filters
  };
  const std::string mha = g_tmp + "/ct_variant.mha", nrrd = g_tmp + "/seg_variant.nrrd";
  auto [orig, moved] = variant(ct, mha);
  variant(seg, nrrd);
  // ITK's own account: every voxel of the variant sits where a voxel of the original with the same
  // value does (checked on a lattice of voxels).
  const auto size = moved->GetLargestPossibleRegion().GetSize();
  REQUIRE(size[0] == 30);
  for (itk::IndexValueType z = 0; z < itk::IndexValueType(size[2]); z += 7)
    for (itk::IndexValueType y = 0; y < itk::IndexValueType(size[1]); y += 5)
      for (itk::IndexValueType x = 0; x < itk::IndexValueType(size[0]); x += 3) {
        Image::PointType p;
        moved->TransformIndexToPhysicalPoint({{x, y, z}}, p);
        Image::IndexType i;
        REQUIRE(orig->TransformPhysicalPointToIndex(p, i));
        REQUIRE(orig->GetPixel(i) == moved->GetPixel({{x, y, z}}));
      }
  const std::string opts = " -q --dtype float32 --label-map totalseg-synapse -o - > ";
  REQUIRE(sh(g_tool + " --image " + ct + " --label " + seg + " --case a" + opts + g_tmp + "/a.dlks") == 0);
  REQUIRE(sh(g_tool + " --image " + mha + " --label " + nrrd + " --case b" + opts + g_tmp + "/b.dlks") == 0);
  const std::string a = slice_records(g_tmp + "/a.dlks"), b = slice_records(g_tmp + "/b.dlks");
  CHECK(a.size() == size_t(122 * 101 * 30) * 5);
  CHECK(a == b);
}

TEST_CASE("data: BraTS case with two channels as a stream, every voxel", "[data]") {
  const std::string dir = g_data + "/brats/brats_2013_pat0003_1";
  const std::string stream = g_tmp + "/brats.dlks";
  REQUIRE(sh(g_tool + " -q --image " + dir + "/Flair_subtrMeanDivStd.nii.gz --image " + dir +
             "/T1c_subtrMeanDivStd.nii.gz --channels flair,t1c --normalize none --label " + dir +
             "/OTMultiClass.nii.gz --classes background,necrosis,edema,nonenhancing,enhancing --case pat0003 -o - > " + stream) == 0);
  std::array<size_t, 3> size{};
  auto flair = itk_voxels<float>(dir + "/Flair_subtrMeanDivStd.nii.gz", size);
  auto t1c = itk_voxels<float>(dir + "/T1c_subtrMeanDivStd.nii.gz", size);
  auto lab = itk_voxels<unsigned char>(dir + "/OTMultiClass.nii.gz", size);
  dlk::InputStream in(stream);
  dlk::ShardStreamReader r(in);
  REQUIRE(r.next_shard());
  CHECK(r.meta().channels == std::vector<std::string>{"flair", "t1c"});
  REQUIRE(r.meta().n_slices == int64_t(size[2]));
  const size_t plane = size[0] * size[1];
  dlk::Slice s;
  std::vector<int64_t> counts(5, 0);
  for (size_t z = 0; z < size[2]; ++z) {
    REQUIRE(r.next_slice(s));
    for (size_t i = 0; i < plane; ++i) {
      const size_t v = z * plane + i;
      REQUIRE(s.image[i] == dlk::half_to_float(dlk::float_to_half(flair[v])));
      REQUIRE(s.image[plane + i] == dlk::half_to_float(dlk::float_to_half(t1c[v])));
      REQUIRE(s.label[i] == lab[v]);
      ++counts[lab[v]];
    }
  }
  CHECK(r.meta().label_counts == counts);
  CHECK_FALSE(r.next_slice(s));
  CHECK_FALSE(r.next_shard());
}

int main(int argc, char** argv) {
  const char* data = std::getenv("DLK_TEST_DATA");
  const char* tool = std::getenv("DLK_PREP");
  g_data = data ? data : "";
  if (g_data.empty() || !fs::is_directory(g_data + "/totalseg-ct-small") || !fs::is_directory(g_data + "/brats")) {
    std::cout << "SKIP: shared test data not found at '" << g_data << "' (set DLK_TEST_DATA)\n";
    return 77;
  }
  g_tool = tool ? tool : "dlk-prep";
  char tmpl[] = "/tmp/dlk-data-XXXXXX";
  g_tmp = mkdtemp(tmpl);
  itk::NiftiImageIOFactory::RegisterOneFactory();
  itk::MetaImageIOFactory::RegisterOneFactory();
  itk::NrrdImageIOFactory::RegisterOneFactory();
  int rc = Catch::Session().run(argc, argv);
  fs::remove_all(g_tmp);
  return rc;
}
