// Versions of dlk and of the libraries it was built with, for --version.
#include "dlk/cli/tool.h"

#include <fmt/format.h>
#include <zstd.h>

#include <boost/version.hpp>

#ifndef DLK_VERSION
#define DLK_VERSION "unknown"
#endif

namespace dlk::cli {

std::string version_text(const std::string& tool) {
#ifdef DLK_TORCH_VERSION
  const std::string torch = DLK_TORCH_VERSION;
#else
  const std::string torch = "none (built without LibTorch)";
#endif
#ifdef DLK_GPU_TEXT
  const std::string gpu = DLK_GPU_TEXT;
#else
  const std::string gpu = "none";
#endif
#ifdef DLK_ITK_VERSION
  const std::string itk = DLK_ITK_VERSION;
#else
  const std::string itk = "none (built without ITK: no NIfTI/NRRD/MHA)";
#endif
  return fmt::format("{} (dlk) {}\nLibTorch {}\nGPU {}\nITK {}\nzstd {}\nBoost {}.{}\nfmt {}.{}.{}\n", tool, DLK_VERSION, torch,
                     gpu, itk, ZSTD_versionString(), BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
                     FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100);
}

} // namespace dlk::cli
