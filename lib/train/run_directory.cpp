// A training run's directory (run_directory.h): what the run writes and resumes from.
#include "run_directory.h"

#include "dlk/core/error.h"
#include "dlk/core/whole_file.h"
#include "dlk/model/checkpoint.h"
#include "dlk/train/deep_supervision.h"
#include "dlk/train/train_log.h"
#include "semi_branch.h"
#include "trainer_parts.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <set>

namespace fs = std::filesystem;

namespace dlk {

RunDirectory::RunDirectory(std::string dir, bool writes, Log log)
    : dir_(std::move(dir)), latest_((fs::path(dir_) / "latest.dlkc").string()), writes_(writes), log_(std::move(log)) {}

RunDirectory::~RunDirectory() = default;

namespace {
// What changed between two records of a run's cases: "val: lost pat0003, gained pat0004; ...".
std::string cases_change(const json::Value& was, const json::Value& now) {
  std::vector<std::string> parts;
  for (const char* role : {"train", "unlabelled", "val"}) {
    auto ids = [&](const json::Value& v) {
      const json::Value* x = v.is_object() ? v.find(role) : nullptr;
      const auto list = x && x->is_array() ? x->as_strings(role) : std::vector<std::string>{};
      return std::set<std::string>(list.begin(), list.end());
    };
    const auto a = ids(was), b = ids(now);
    std::vector<std::string> lost, gained;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(lost));
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(gained));
    if (lost.empty() && gained.empty()) continue;
    std::string p = std::string(role) + ":";
    if (!lost.empty()) p += fmt::format(" lost {}", fmt::join(lost, ", "));
    if (!gained.empty()) p += fmt::format("{} gained {}", lost.empty() ? "" : ",", fmt::join(gained, ", "));
    parts.push_back(p);
  }
  return parts.empty() ? std::string("the same cases in another order") : fmt::format("{}", fmt::join(parts, "; "));
}
} // namespace

// The cases of a resumed run are the ones it started with: folds dealt again (--fold-seed, K) or
// edited splits would turn a validation case into training data without a word.
void RunDirectory::check_cases(TrainOptions& o, const json::Value& now) const {
  if (!o.cases.is_null() && o.cases != now) {
    const std::string change = cases_change(o.cases, now);
    if (!o.accept_changed_cases)
      fail((fs::path(dir_) / "config.json").string(),
           fmt::format("the dataset '{}' now gives this run other cases than it started with ({}): its folds were "
                       "dealt again or its splits changed; --accept-changed-cases goes on with these (logged)",
                       o.dataset, change));
    log_(fmt::format("--accept-changed-cases: going on with other cases than the run started with ({})", change));
  }
  o.cases = now;
}

void RunDirectory::create(bool resuming) {
  fs::create_directories(dir_);
  if (!resuming && fs::exists(latest_))
    throw UsageError(fmt::format("'{}' holds a run already: --resume {} continues it, or choose another -o", dir_, dir_));
}

TrainPosition RunDirectory::load_latest(DLKUNet& model, SemiBranch* semi, torch::nn::Module* heads,
                                        torch::optim::Optimizer& optim, const torch::Device& dev) const {
  Checkpoint ck = load_checkpoint(latest_);
  if (semi) semi->load(ck, latest_, model);
  else load_model_tensors(model, ck, latest_);
  if (heads) {
    torch::NoGradGuard no_grad;
    for (auto& item : heads->named_parameters()) {
      const std::string& name = item.key();
      torch::Tensor t = item.value();
      const torch::Tensor* src = ck.find(kDeepSupervisionPrefix + name);
      if (!src || src->sizes() != t.sizes())
        fail(latest_, fmt::format("checkpoint lacks deep supervision's tensor {}{} of shape {}", kDeepSupervisionPrefix,
                                  name, c10::str(t.sizes())));
      t.copy_(*src);
    }
  }
  if (const torch::Tensor* st = ck.find("optim/state")) load_optimizer_blob(optim, *st, dev);
  const TrainPosition p = TrainPosition::from_json(ck.meta.at("state"));
  log_(fmt::format("resuming {} at epoch {}, batch {} (iteration {})", dir_, p.epoch, p.batch, p.iteration));
  return p;
}

void RunDirectory::write_config(const TrainOptions& o, const json::Value& preprocessing) {
  if (writes_) write_file_atomic((fs::path(dir_) / "config.json").string(), o.to_json().dump(2) + "\n");
  extra_.set("preprocessing", preprocessing);
  extra_.set("training", o.to_json());
}

void RunDirectory::save(const std::string& name, const TrainPosition& p, const DLKUNet& model, const SemiBranch* semi,
                        const torch::nn::Module* heads, const std::vector<std::string>& classes,
                        torch::optim::Optimizer* optim) const {
  if (!writes_) return;
  json::Value e = extra_;
  e.set("state", p.to_json());
  e.set("epoch", p.epoch);
  Checkpoint ck = semi ? semi->checkpoint(model, classes, e) : make_checkpoint(model, classes, e);
  if (heads)
    for (auto& item : heads->named_parameters()) ck.tensors.emplace_back(kDeepSupervisionPrefix + item.key(), item.value().detach());
  if (optim) ck.tensors.emplace_back("optim/state", optimizer_blob(*optim));
  save_checkpoint((fs::path(dir_) / name).string(), ck);
}

void RunDirectory::open_log(int epochs_done, bool resuming) {
  if (!writes_) return;
  const std::string path = (fs::path(dir_) / "log.jsonl").string();
  if (const int dropped = trim_train_log(path, epochs_done))
    log_(fmt::format("log.jsonl: dropped {} line(s) for epochs from {} on, which {}", dropped, epochs_done,
                     resuming ? "the checkpoint has not completed" : "belong to an earlier run without a checkpoint"));
  jlog_.open(path, std::ios::app);
}

void RunDirectory::append_log(const json::Value& line) {
  if (!writes_) return;
  jlog_ << line.dump() << "\n";
  jlog_.flush();
}

std::string RunDirectory::last_good() const {
  return fs::exists(latest_) ? "the last good checkpoint is '" + latest_ + "'" : std::string("no checkpoint was written yet");
}

} // namespace dlk
