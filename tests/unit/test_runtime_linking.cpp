// Needs LibTorch: how a program that links LibTorch binds the C++ standard library.
// PyTorch's pip wheels export copies of libstdc++ functions (std::filesystem among them) whose
// calls into libstdc++ internals go through weak references that a system libstdc++ may not
// define; a program that binds to those copies jumps to address 0 (it crashed three tests on
// LibTorch 2.11). dlk names libstdc++ before LibTorch on its link lines (lib/CMakeLists.txt), so
// that these functions come from libstdc++: the shared library, or the program's own copy where
// the toolchain links libstdc++ statically (the GPU machine's does). Debian's LibTorch 1.13
// exports no such copies: there this holds anyway.
#include "test_util.h"

#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <dlfcn.h>
#include <sys/stat.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {
// The object (shared library or this program) that defines the function a call from here lands in.
std::string defining_object(const void* fn) {
  Dl_info info{};
  if (!dladdr(fn, &info) || !info.dli_fname) return "?";
  return info.dli_fname;
}
bool is_this_program(const std::string& path) {
  struct stat a {}, b {};
  return ::stat(path.c_str(), &a) == 0 && ::stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}
} // namespace

TEST_CASE("runtime linking: std::filesystem calls bind to libstdc++ (shared or static), not to LibTorch's copies", "[linking]") {
  // The address of an external function, taken in position-independent code, is the one the
  // dynamic linker bound (through the GOT): the definition every call here reaches.
  const auto remove_all = static_cast<std::uintmax_t (*)(const fs::path&)>(&fs::remove_all);
  const auto temp_dir = static_cast<fs::path (*)()>(&fs::temp_directory_path);
  for (const void* fn : {reinterpret_cast<const void*>(remove_all), reinterpret_cast<const void*>(temp_dir)}) {
    const std::string where = defining_object(fn);
    INFO("defined in " << where);
    CHECK((where.find("libstdc++") != std::string::npos || is_this_program(where)));
    CHECK(where.find("libtorch") == std::string::npos);
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
