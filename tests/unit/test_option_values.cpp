// Option values from their text (lib/cli/option_values.cpp): what each spelling means, worked
// out from the options' documented syntax, and the refusals naming the option.
#include "dlk/cli/option_values.h"
#include "dlk/core/error.h"

#include <catch2/catch.hpp>

using namespace dlk;
using Names = std::vector<std::string>;

TEST_CASE("name lists: split on commas, none empty, none twice") {
  CHECK(cli::name_list("--classes", "background,liver") == Names{"background", "liver"});
  CHECK(cli::name_list("--classes", "a") == Names{"a"});
  CHECK_THROWS_WITH(cli::name_list("--classes", ""), Catch::Contains("--classes: an empty list"));
  CHECK_THROWS_WITH(cli::name_list("--classes", "a,,b"), Catch::Contains("has an empty name (item 2)"));
  CHECK_THROWS_WITH(cli::name_list("--classes", "a,b,a"), Catch::Contains("names 'a' twice"));
  auto no_x = [](const std::string& n) { return n == "x" ? std::string("x is not allowed") : std::string(); };
  CHECK_THROWS_WITH(cli::name_list("--channels", "a,x", no_x), Catch::Contains("--channels: x is not allowed"));
}

TEST_CASE("option value --keep-largest: all is every class, else the names or values given") {
  CHECK(cli::keep_largest_option("all").empty());
  CHECK(cli::keep_largest_option("liver,3") == Names{"liver", "3"});
  CHECK_THROWS_WITH(cli::keep_largest_option("liver,,3"), Catch::Contains("--keep-largest"));
}

TEST_CASE("option value --part K/N") {
  CHECK(cli::part_option("1/1") == std::array<int, 2>{1, 1});
  CHECK(cli::part_option("3/8") == std::array<int, 2>{3, 8});
  for (const char* bad : {"", "3", "3/", "/8", "a/b", "3/8x", "3-8"})
    CHECK_THROWS_WITH(cli::part_option(bad), Catch::Contains("--part: '") && Catch::Contains("is not K/N"));
}

TEST_CASE("option value --size H or H,W") {
  CHECK(cli::size_option("224") == std::array<int64_t, 2>{224, 224});
  CHECK(cli::size_option("256,192") == std::array<int64_t, 2>{256, 192});
  for (const char* bad : {"", "x", "224x224", "224,", "224,a", "0", "16385", "-4"})
    CHECK_THROWS_AS(cli::size_option(bad), UsageError);
}

TEST_CASE("option value --axis: anatomical names for canonical volumes, voxel axes always, digits as before") {
  // LPS-canonical volumes: x runs right to left (sagittal slices), y anterior to posterior
  // (coronal), z inferior to superior (axial).
  CHECK(cli::axis_option("sagittal", true) == 0);
  CHECK(cli::axis_option("coronal", true) == 1);
  CHECK(cli::axis_option("axial", true) == 2);
  CHECK(cli::axis_option("x", false) == 0);
  CHECK(cli::axis_option("z", false) == 2);
  CHECK(cli::axis_option("1", false) == 1); // dlk-report's former spelling of y
  CHECK_THROWS_WITH(cli::axis_option("axial", false), Catch::Contains("need --orientation canonical"));
  CHECK_THROWS_AS(cli::axis_option("w", true), UsageError);
}

TEST_CASE("option value --mode names the four conventions") {
  CHECK(cli::score_mode_option("transunet") == ScoreMode::TransUNet);
  CHECK(cli::score_mode_option("medpy") == ScoreMode::Medpy);
  CHECK(cli::score_mode_option("monai") == ScoreMode::Monai);
  CHECK(cli::score_mode_option("nnunet") == ScoreMode::NnUNet);
  CHECK_THROWS_WITH(cli::score_mode_option("MONAI"), Catch::Contains("--mode: 'MONAI'"));
}

TEST_CASE("option value --label-map: inline pairs, or a name in share/dlk/label-maps") {
  const LabelMap m = cli::label_map_option("8:1,4:2,*:0", "label-map");
  CHECK(m.pairs.at(8) == 1);
  CHECK(m.pairs.at(4) == 2);
  CHECK(m.rest == 0);
  CHECK_THROWS_WITH(cli::label_map_option("no-such-map", "label-map"), Catch::Contains("no-such-map"));
}
