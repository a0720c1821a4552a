#include "dlk/cli/option_values.h"
#include "dlk/core/error.h"
#include "dlk/prep/normalize.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

using namespace dlk;

TEST_CASE("normalize: window clips and maps to [0, 1]", "[normalize]") {
  std::vector<float> v = {-1000, -125, 75, 275, 3000, 0};
  auto rec = normalize(v, cli::normalize_option("window", "-125,275", ""));
  CHECK(v == std::vector<float>{0, 0, 0.5f, 1, 1, 125.0f / 400.0f});
  CHECK(rec.dump() == R"({"method":"window","window":[-125,275]})");
}

TEST_CASE("normalize: zscore uses the population standard deviation", "[normalize]") {
  std::vector<float> v = {1, 2, 3, 4};
  auto rec = normalize(v, cli::normalize_option("zscore", "", ""));
  const double sd = std::sqrt(1.25); // mean 2.5, squared deviations 2.25+0.25+0.25+2.25 over 4
  CHECK(rec.at("mean").as_number() == 2.5);
  CHECK(rec.at("std").as_number() == Approx(sd).epsilon(1e-15));
  CHECK(v[0] == Approx(-1.5 / sd));
  CHECK(v[3] == Approx(1.5 / sd));
  std::vector<float> flat = {7, 7, 7};
  normalize(flat, cli::normalize_option("zscore", "", ""));
  CHECK(flat == std::vector<float>{0, 0, 0}); // no division by zero
}

TEST_CASE("normalize: minmax and none", "[normalize]") {
  std::vector<float> v = {-4, 0, 12};
  auto rec = normalize(v, cli::normalize_option("minmax", "", ""));
  CHECK(v == std::vector<float>{0, 0.25f, 1});
  CHECK(rec.at("min").as_number() == -4);
  CHECK(rec.at("max").as_number() == 12);
  std::vector<float> w = {-4, 0, 12};
  normalize(w, cli::normalize_option("none", "", ""));
  CHECK(w == std::vector<float>{-4, 0, 12});
}

TEST_CASE("normalize: percentile is numpy's linear interpolation", "[normalize]") {
  std::vector<float> v = {7, 1, 10, 3, 5, 2, 9, 4, 8, 6}; // 1..10 shuffled
  // numpy.percentile(1..10, q) = 1 + q/100 * 9 (rank r = q/100 * (n-1)).
  CHECK(percentile(v, 50) == Approx(5.5));
  CHECK(percentile(v, 0.5) == Approx(1.045));
  CHECK(percentile(v, 99.5) == Approx(9.955));
  CHECK(percentile(v, 0) == 1);
  CHECK(percentile(v, 100) == 10);
  auto rec = normalize(v, cli::normalize_option("percentile", "", "10,90"));
  CHECK(rec.at("values").as_numbers()[0] == Approx(1.9)); // 1 + 0.1 * 9
  CHECK(rec.at("values").as_numbers()[1] == Approx(9.1));
  CHECK(*std::min_element(v.begin(), v.end()) == 0);
  CHECK(*std::max_element(v.begin(), v.end()) == 1);
}

TEST_CASE("normalize: a recording re-applies to the same values", "[normalize]") {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(40, 300);
  std::vector<float> src(1000);
  for (auto& x : src) x = nd(rng);
  for (const char* m : {"window", "zscore", "minmax", "percentile", "none"}) {
    std::vector<float> a = src, b = src;
    auto rec = normalize(a, cli::normalize_option(m, "", ""));
    apply_normalization(b, json::Value::parse(rec.dump()));
    INFO(m);
    CHECK(a == b);
  }
}

TEST_CASE("normalize: bad options are usage errors", "[normalize]") {
  CHECK_THROWS_AS(cli::normalize_option("gamma", "", ""), UsageError);
  CHECK_THROWS_WITH(cli::normalize_option("window", "275,-125", ""), Catch::Contains("LO < HI"));
  CHECK_THROWS_WITH(cli::normalize_option("window", "a,b", ""), Catch::Contains("'a' is not a number"));
  CHECK_THROWS_WITH(cli::normalize_option("percentile", "", "1,101"), Catch::Contains("0..100"));
}
