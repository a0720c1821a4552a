// Sizes derived from headers and options are bounded before anything is allocated (issue 25):
// a slice resampled to another spacing, and the target spacings themselves. The expected sizes
// are worked by hand from the rule in dlk-shard(5), "Limits": rows x (row spacing / target), each
// rounded half away from zero, at least 1, at most 4096 per side.
#include "dlk/cli/option_values.h"
#include "dlk/core/error.h"
#include "dlk/io/resampling.h"
#include "dlk/shard/dataset.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace dlk;

TEST_CASE("resampled slice sizes: by hand, and refused past the limit", "[untrusted][limits]") {
  using A = std::array<int64_t, 2>;
  // 512 rows 0.7 mm apart at 1 mm: 358.4 -> 358; 400 columns 0.8 mm apart at 1 mm: 320.
  CHECK(resampled_size(512, 400, {{0.8, 0.7}}, {{1.0, 1.0}}) == A{{358, 320}});
  CHECK(resampled_size(3, 5, {{1.0, 1.0}}, {{2.0, 2.0}}) == A{{2, 3}});   // 1.5 and 2.5 round up
  CHECK(resampled_size(10, 10, {{1e-30, 1e-30}}, {{1.0, 1.0}}) == A{{1, 1}}); // at least one pixel
  CHECK(resampled_size(4096, 4096, {{1.0, 1.0}}, {{1.0, 1.0}}) == A{{4096, 4096}}); // the limit itself
  CHECK_THROWS_WITH(resampled_size(4097, 10, {{1.0, 1.0}}, {{1.0, 1.0}}), Catch::Contains("4096 at most per side"));
  // The adversarial run's spacings: 122 x 101 pixels at 5000, 1e10 and 1e30 mm, the model's 3 mm.
  for (double sp : {5000.0, 1e10, 1e30, std::numeric_limits<double>::max()}) {
    INFO(sp);
    CHECK_THROWS_AS(resampled_size(101, 122, {{sp, sp}}, {{3.0, 3.0}}), Error);
  }
  CHECK_THROWS_WITH(resampled_size(101, 122, {{5000, 5000}}, {{3.0, 3.0}}), Catch::Contains("168333x203333"));
  for (double bad : {0.0, -1.0, std::nan(""), double(INFINITY)}) {
    INFO(bad);
    CHECK_THROWS_WITH(resampled_size(10, 10, {{bad, 1.0}}, {{1.0, 1.0}}), Catch::Contains("cannot be resampled"));
    CHECK_THROWS_WITH(resampled_size(10, 10, {{1.0, 1.0}}, {{1.0, bad}}), Catch::Contains("cannot be resampled"));
  }
}

TEST_CASE("target spacings: 0.01 to 100 mm, in options and in dataset.json", "[untrusted][limits]") {
  for (double ok : {0.01, 0.5, 1.0, 100.0}) CHECK(target_spacing_problem(ok).empty());
  for (double bad : {0.001, 1e-6, 1e-30, 0.0, -1.0, 100.5, 1e30, std::nan(""), double(INFINITY)}) {
    INFO(bad);
    CHECK_FALSE(target_spacing_problem(bad).empty());
  }
  CHECK(cli::spacing_option("0.8,0.8") == json::Value(std::vector<double>{0.8, 0.8}));
  for (const char* bad : {"0.001,0.001", "1e-6,1e-6", "1e-30,1e-30", "1,0", "1,200", "1,nan", "1,inf"}) {
    INFO(bad);
    CHECK_THROWS_AS(cli::spacing_option(bad), UsageError);
  }
  // Read back from a dataset.json (whose checksum a hostile writer can recompute).
  CHECK_FALSE(spacing_problem(json::Value(std::vector<double>{0.001, 1.0})).empty());
  CHECK(spacing_problem(json::Value(std::vector<double>{1.5, 1.5})).empty());
  CHECK(spacing_problem(json::Value("auto")).empty());
}
