// Writes seed inputs for the fuzzers with the library's own writers, so that the fuzzers start
// from well-formed files: usage: fuzz-seeds CHECKPOINT_DIR DATASET_DIR
#include "dlk/core/error.h"
#include "dlk/model/checkpoint_format.h"
#include "dlk/shard/dataset.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz-seeds CHECKPOINT_DIR DATASET_DIR\n");
    return 2;
  }
  const std::string ck = argv[1], ds = argv[2];
  try {
    std::filesystem::create_directories(ck);
    std::filesystem::create_directories(ds);
    // A checkpoint shaped like a small model's: metadata, several dtypes, an empty tensor, a scalar.
    std::vector<float> w(2 * 3 * 3 * 3);
    for (size_t i = 0; i < w.size(); ++i) w[i] = float(i) * 0.25f - 3.f;
    const std::vector<float> bias{0.5f, -0.5f};
    const std::vector<int64_t> steps{1234};
    const std::vector<uint16_t> half{0x3C00, 0xC000, 0x0000, 0x7BFF};
    dlk::json::Value meta;
    meta.set("model", dlk::json::Value::parse(R"({"variant":"S","classes":4,"in_channels":1})"));
    meta.set("classes", std::vector<std::string>{"background", "RV", "Myo", "LV"});
    meta.set("epoch", 3);
    dlk::write_checkpoint(ck + "/small.dlkc", meta,
                          {{"stem.conv.weight", "float32", {2, 3, 3, 3}, w.data(), w.size() * 4},
                           {"stem.conv.bias", "float32", {2}, bias.data(), 8},
                           {"stem.bn.num_batches_tracked", "int64", {}, steps.data(), 8},
                           {"empty", "uint8", {0, 4}, nullptr, 0},
                           {"optim/half", "float16", {2, 2}, half.data(), 8}});
    dlk::write_checkpoint(ck + "/empty.dlkc", dlk::json::Value(), {});

    // A dataset.json as dlk-prep writes it (Dataset::save), with two cases and a label map.
    dlk::Dataset d;
    d.name = "seed";
    d.channels = {"t1", "flair"};
    d.classes = {"background", "edema", "tumour"};
    d.normalization = dlk::json::Value::parse(R"({"method":"zscore","nonzero":true})");
    d.label_map = dlk::json::Value::parse(R"({"0":0,"2":1,"4":2})");
    d.axis = 2;
    d.dtype = "float16";
    d.put({"case-001", "train", "case-001.dlks", 155, true, {100000, 2000, 300}}, false);
    d.put({"case-002", "test", "case-002.dlks", 40, false, {}}, false);
    d.save(ds);
  } catch (const dlk::Error& e) {
    std::fprintf(stderr, "fuzz-seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
