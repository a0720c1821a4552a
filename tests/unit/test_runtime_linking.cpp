// Needs LibTorch: how a program that links LibTorch binds the C++ standard library at run time.
// PyTorch's pip wheels export copies of libstdc++ functions (std::filesystem among them) whose
// calls into libstdc++ internals go through weak references that a system libstdc++ may not
// define; a program that binds to those copies jumps to address 0 (it crashed three tests on
// LibTorch 2.11). dlk links libstdc++ ahead of LibTorch (CMakeLists.txt), so that the library's
// own definitions win. Debian's LibTorch 1.13 exports no such copies: there this holds anyway.
#include "test_util.h"

#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {
// The shared object that defines the function a call from this program lands in.
std::string defining_object(const void* fn) {
  Dl_info info{};
  if (!dladdr(fn, &info) || !info.dli_fname) return "?";
  return info.dli_fname;
}
} // namespace

TEST_CASE("runtime linking: std::filesystem calls bind to libstdc++, not to LibTorch's copies", "[linking]") {
  // The address of an external function, taken in position-independent code, is the one the
  // dynamic linker bound (through the GOT): the definition every call here reaches.
  const auto remove_all = static_cast<std::uintmax_t (*)(const fs::path&)>(&fs::remove_all);
  const auto temp_dir = static_cast<fs::path (*)()>(&fs::temp_directory_path);
  for (const void* fn : {reinterpret_cast<const void*>(remove_all), reinterpret_cast<const void*>(temp_dir)}) {
    const std::string where = defining_object(fn);
    INFO("defined in " << where);
    CHECK(where.find("libstdc++") != std::string::npos);
  }
  (void)torch::ones({1}); // keep LibTorch a real dependency of this test
}

TEST_CASE("runtime linking: a directory tree is made and removed in a program that links LibTorch", "[linking]") {
  fs::path root;
  {
    dlk::test::TempDir dir;
    root = dir.path;
    fs::create_directories(dir.path / "a" / "b" / "c");
    std::ofstream(dir.path / "a" / "b" / "c" / "f.txt") << "x";
    std::ofstream(dir.path / "a" / "g.txt") << "y";
    CHECK(fs::remove_all(dir.path / "a") == 5); // a, b, c and two files
    CHECK_FALSE(fs::exists(dir.path / "a"));
    fs::create_directories(dir.path / "d" / "e");
  } // ~TempDir removes the rest with remove_all
  CHECK_FALSE(fs::exists(root));
}
