// Inputs the fuzzers (tests/fuzz) found to misbehave, each kept as a unit test once fixed.
#include "dlk/core/error.h"
#include "dlk/core/json.h"
#include "dlk/shard/dataset.h"

#include <catch2/catch.hpp>

#include <string>

using namespace dlk;

namespace {
// dataset.json with one case whose "slices" is `slices`, repeated `n` times under distinct ids.
std::string dataset_text(const std::string& slices, int n) {
  std::string cases;
  for (int i = 0; i < n; ++i)
    cases += std::string(i ? "," : "") + R"({"id":"c)" + std::to_string(i) + R"(","split":"train","shard":"c.dlks","slices":)" +
             slices + R"(,"has_label":false,"label_counts":[]})";
  return R"({"format":"dlk-dataset","version":1,"name":"x","channels":[],"classes":[],"normalization":null,)"
         R"("label_map":null,"axis":2,"dtype":"float16","cases":[)" +
         cases + "]}";
}
} // namespace

TEST_CASE("fuzz-dataset-json: slice counts beyond a shard's are refused (total_slices overflowed)", "[dataset][fuzz]") {
  // 1100 cases of 2^53 slices each: Dataset::total_slices() overflowed int64 (UBSan).
  CHECK_THROWS_WITH(Dataset::from_json(json::Value::parse(dataset_text("9007199254740992", 1100))),
                    Catch::Contains("case c0: 9007199254740992 slices (a shard holds 0 to 1048576)"));
  CHECK_THROWS_WITH(Dataset::from_json(json::Value::parse(dataset_text("-1", 1))), Catch::Contains("case c0: -1 slices"));
  CHECK(Dataset::from_json(json::Value::parse(dataset_text("1048576", 3))).total_slices() == 3 * 1048576);
}
