// Writes seed inputs for the fuzzers with the library's own writers, so that the fuzzers start
// from well-formed files: usage: fuzz-seeds CHECKPOINT_DIR DATASET_DIR [SCORES_DIR]
#include "dlk/core/error.h"
#include "dlk/core/whole_file.h"
#include "dlk/metrics/score_run.h"
#include "dlk/model/checkpoint_format.h"
#include "dlk/shard/dataset.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: fuzz-seeds CHECKPOINT_DIR DATASET_DIR [SCORES_DIR]\n");
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

    // dlk-score --json files, one per mode, with each convention's special values (NaN, inf) and
    // --keep-largest's table: the writer is dlk-score's own (ScoreReport::to_json).
    if (argc == 4) {
      std::filesystem::create_directories(argv[3]);
      for (auto mode : {dlk::ScoreMode::TransUNet, dlk::ScoreMode::Medpy, dlk::ScoreMode::Monai, dlk::ScoreMode::NnUNet}) {
        dlk::ScoreReport rep;
        rep.options.mode = mode;
        rep.class_names = {"background", "kidney_left", "non-enhancing tumor", "RV"};
        dlk::CaseScores c;
        c.case_id = "case0001";
        c.spacing = {0.75, 0.75, 3};
        c.class_ids = {1, 2, 3};
        dlk::ClassScore both, pred_only, none;
        both.dsc = 0.8, both.hd95 = 4.5, both.hd = 9, both.assd = 1.25, both.iou = 2.0 / 3;
        both.tp = 4, both.fp = 1, both.fn = 1, both.n_pred = 5, both.n_ref = 5, both.rule = "both";
        pred_only.fp = pred_only.n_pred = 7, pred_only.rule = "pred-only";
        pred_only.dsc = mode == dlk::ScoreMode::Monai ? NAN : mode == dlk::ScoreMode::TransUNet ? 1 : 0;
        pred_only.hd95 = pred_only.hd = pred_only.assd = mode == dlk::ScoreMode::Monai ? INFINITY : mode == dlk::ScoreMode::TransUNet ? 0 : NAN;
        none.rule = "both-empty", none.iou = NAN, none.dsc = mode == dlk::ScoreMode::TransUNet ? 0 : mode == dlk::ScoreMode::Medpy ? 1 : NAN;
        none.hd95 = none.hd = none.assd = mode == dlk::ScoreMode::TransUNet ? 0 : NAN;
        c.scores = {both, pred_only, none};
        rep.cases = {c};
        rep.kept = rep.cases;
        rep.warnings = {"case0002: no prediction, scored as an empty one"};
        dlk::write_text(std::string(argv[3]) + "/" + dlk::score_mode_name(mode) + ".json", rep.to_json().dump(2) + "\n");
      }
    }
  } catch (const dlk::Error& e) {
    std::fprintf(stderr, "fuzz-seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
