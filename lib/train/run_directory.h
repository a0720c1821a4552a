// A training run's directory (lib/train only): config.json, log.jsonl and the checkpoints
// latest.dlkc, best.dlkc and final.dlkc; resuming from latest.dlkc and the checks that the run
// goes on as it started. One process writes it (rank 0); the others read latest.dlkc alone.
#pragma once
#include "dlk/core/json.h"
#include "dlk/model/model.h"
#include "dlk/train/train_options.h"
#include "dlk/train/trainer.h"

#include <torch/optim/optimizer.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace dlk {

class SemiBranch;

class RunDirectory {
public:
  using Log = std::function<void(const std::string&)>;
  // The run directory `dir` (absolute); nothing is touched before create(). `writes`: this
  // process writes its files (rank 0). Log lines go to `log`.
  RunDirectory(std::string dir, bool writes, Log log);
  ~RunDirectory();

  const std::string& latest() const { return latest_; } // RUNDIR/latest.dlkc
  // The cases the dataset gives the run now ({"train", "unlabelled", "val"}: their ids) are
  // those it started with (`o.cases`, from config.json), or --accept-changed-cases goes on with
  // them (logged); `o.cases` becomes `now`.
  void check_cases(TrainOptions& o, const json::Value& now) const;
  // Creates the directory; a new run refuses one that holds a run already.
  void create(bool resuming);
  // Resumes from latest.dlkc: the model (and with --semi, the teacher), the optimizer's state;
  // returns where the run stands.
  // `heads`: deep supervision's heads (or null), under kDeepSupervisionPrefix.
  TrainPosition load_latest(DLKUNet& model, SemiBranch* semi, torch::nn::Module* heads, torch::optim::Optimizer& optim,
                            const torch::Device& dev) const;
  // config.json, and what every checkpoint records besides its state: the preprocessing and
  // the training options.
  void write_config(const TrainOptions& o, const json::Value& preprocessing);
  // Writes checkpoint `name` at position `p` (a temporary, then renamed): the model (with --semi,
  // both networks), deep supervision's heads (given) and, given an optimizer, its state.
  void save(const std::string& name, const TrainPosition& p, const DLKUNet& model, const SemiBranch* semi,
            const torch::nn::Module* heads, const std::vector<std::string>& classes, torch::optim::Optimizer* optim) const;

  // log.jsonl, made to agree with the checkpoint resumed from (`epochs_done`): a kill between an
  // epoch's line and its checkpoint (or epochs after the last --save-every) left lines that the
  // resumed run writes again; a new run starts a new log.
  void open_log(int epochs_done, bool resuming);
  void append_log(const json::Value& line);
  // "the last good checkpoint is 'RUNDIR/latest.dlkc'", or that there is none yet.
  std::string last_good() const;

private:
  std::string dir_, latest_;
  bool writes_;
  Log log_;
  json::Value extra_;  // what every checkpoint records besides the state
  std::ofstream jlog_; // log.jsonl
};

} // namespace dlk
