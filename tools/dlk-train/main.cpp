// dlk-train: trains DLKUNet on a dlk-prep dataset, or prints the network (--summary).
#include "dlk/cli/option_groups.h"
#include "dlk/cli/option_values.h"
#include "dlk/cli/progress_bar.h"
#include "dlk/cli/tool.h"
#include "dlk/core/error.h"
#include "dlk/core/value_checks.h"
#include "dlk/model/device.h"
#include "dlk/model/model.h"
#include "dlk/model/model_summary.h"
#include "dlk/train/deep_supervision.h"
#include "dlk/train/train_options.h"
#include "dlk/train/trainer.h"

#include <fmt/format.h>

#include <torch/torch.h>

#include <csignal>
#include <iostream>

namespace po = boost::program_options;
using namespace dlk;

namespace {

struct Options {
  bool summary = false;
  TrainOptions t;
  cli::DeviceOptions device;
  std::string size, phases, lr_phases, ignore_labels_of;
};

// --semi and its knobs (config.json's "semi").
void add_semi_options(cli::ToolSpec& s, Options& o) {
  s.group("Semi-supervised")
    ("semi", po::value(&o.t.semi.method)->value_name("M")->default_value("none"), "also learn from the train split's unlabelled cases: mean-teacher or pseudo-label")
    ("ignore-labels-of", po::value(&o.ignore_labels_of)->value_name("CASES"), "train cases (comma-separated ids) to use as unlabelled (without --semi: to leave out)")
    ("semi-weight", po::value<double>()->value_name("W"), "weight of the unlabelled loss after its ramp-up (default: mean teacher 0.1, pseudo-label 1)")
    ("semi-ramp", po::value<double>()->value_name("E"), "epochs of the weight's sigmoid ramp-up (default: epochs/4)")
    ("ema-decay", po::value(&o.t.semi.ema_decay)->value_name("D")->default_value(0.99, "0.99"), "mean teacher: the teacher's EMA decay per step")
    ("pseudo-threshold", po::value(&o.t.semi.threshold)->value_name("P")->default_value(0.9, "0.9"), "pseudo-label: the teacher's least probability of a target")
    ("pseudo-refresh", po::value(&o.t.semi.refresh_every)->value_name("N")->default_value(1), "pseudo-label: the teacher becomes the student every N epochs")
    ("unlabelled-batch", po::value(&o.t.semi.batch)->value_name("B")->default_value(0, "--batch"), "unlabelled slices per step, over all processes")
    ("semi-noise", po::value(&o.t.semi.noise)->value_name("SD")->default_value(0.1, "0.1"), "SD of the Gaussian noise on unlabelled inputs")
    ("semi-network", po::value(&o.t.semi.network)->value_name("N")->default_value("", "teacher or student"), "the network checkpoints hold: teacher (mean teacher's default) or student");
}

cli::ToolSpec spec(Options& o) {
  cli::ToolSpec s;
  s.name = "dlk-train";
  s.synopsis = "dlk-train DATASET -o RUNDIR [options]\n"
               "dlk-train --resume RUNDIR [--device D] [--epochs N]\n"
               "dlk-train --summary [--variant S|M|L] [--num-classes K] [--in-channels N] [--size H[,W]] [model options]";
  s.description =
      "Trains DLKUNet-S/M/L on a dataset made by dlk-prep: the train split for learning, the val split (if\n"
      "any) for the best checkpoint. RUNDIR receives config.json, log.jsonl (one line per epoch) and the\n"
      "checkpoints latest.dlkc, best.dlkc and final.dlkc. SIGTERM, SIGINT or SIGUSR1 finish the step,\n"
      "write latest.dlkc and exit with status 75; --resume RUNDIR continues exactly where it stopped.\n"
      "--summary prints the network stage by stage and exits without touching data.";
  s.group("Data and run")
    ("dataset", po::value(&o.t.dataset)->value_name("DIR"), "dlk-prep dataset (also the first operand)")
    ("output,o", po::value(&o.t.run_dir)->value_name("RUNDIR"), "run directory (created)")
    ("resume", po::value(&o.t.resume)->value_name("RUNDIR"), "continue the run in RUNDIR from its latest.dlkc")
    ("accept-changed-cases", po::bool_switch(&o.t.accept_changed_cases), "with --resume: go on when the dataset now gives the run other cases (folds dealt again, splits edited); logged")
    ("train-split", po::value(&o.t.train_split)->value_name("SPLIT")->default_value("train"), "split to train on")
    ("val-split", po::value(&o.t.val_split)->value_name("SPLIT")->default_value("val"), "split to validate on (if it has cases)")
    ("fold", po::value(&o.t.fold)->value_name("K")->default_value(-1), "cross-validation: train on the other folds of the train split, validate on fold K")
    ("epochs", po::value(&o.t.epochs)->value_name("N")->default_value(150), "epochs (0: write the initial model as final)")
    ("max-steps", po::value(&o.t.max_steps)->value_name("N")->default_value(0), "stop after N iterations in all (0: no limit)")
    ("batch,b", po::value(&o.t.batch)->value_name("B")->default_value(24), "slices per batch, over all processes")
    ("accumulate", po::value(&o.t.accumulate)->value_name("K")->default_value(1), "split each process's batch into K micro-batches")
    ("augment", po::value(&o.t.augment)->value_name("A")->default_value("paper"), "paper, transunet, nnunet, nnunet-elastic or none")
    ("oversample-foreground", po::value(&o.t.oversample_foreground)->value_name("P")->default_value(0, "0"), "share of each batch drawn from slices with foreground (nnU-Net: 0.33)")
    ("val-every", po::value(&o.t.val_every)->value_name("N")->default_value(1), "validate every N epochs")
    ("save-every", po::value(&o.t.save_every)->value_name("N")->default_value(1), "write latest.dlkc every N epochs")
    ("save-minutes", po::value(&o.t.save_minutes)->value_name("M")->default_value(30), "and at least every M minutes");
  s.group("Model")
    ("variant", po::value(&o.t.model.variant)->value_name("V")->default_value("S"), "S, M or L (2, 3 or 4 pooling stages)")
    ("num-classes", po::value(&o.t.model.classes)->value_name("K")->default_value(0, "the dataset's"), "output classes, background included (9 for --summary)")
    ("in-channels", po::value(&o.t.model.in_channels)->value_name("N")->default_value(0, "the dataset's"), "input channels (1 for --summary)")
    ("base-channels", po::value(&o.t.model.base_channels)->value_name("C")->default_value(96), "channels of the first level (doubled per level)")
    ("dw-kernel", po::value(&o.t.model.dw_kernel)->value_name("K")->default_value(3), "depthwise kernel of the separable convs")
    ("lka-kernel", po::value(&o.t.model.lka_kernel)->value_name("K")->default_value(5), "first depthwise kernel of the LKA")
    ("lka-dilated-kernel", po::value(&o.t.model.lka_dilated_kernel)->value_name("K")->default_value(7), "dilated depthwise kernel of the LKA")
    ("lka-dilation", po::value(&o.t.model.lka_dilation)->value_name("D")->default_value(3), "dilation of that kernel")
    ("size", po::value(&o.size)->value_name("H[,W]")->default_value("224"), "model input size")
    ("deep-supervision", po::bool_switch(&o.t.deep_supervision_requested), "heads on the decoder's coarser levels, trained with it (training only)")
    ("supervised-levels", po::value(&o.t.supervised_levels)->value_name("K")->default_value(0, "all"), "deep supervision of levels 0..K-1 (2..S 2, M 3, L 4)");
  s.group("Optimisation")
    ("optimizer", po::value(&o.t.optimizer)->value_name("O")->default_value("adam"), "adam, adamw or sgd")
    ("lr", po::value(&o.t.lr.base)->value_name("LR")->default_value(1e-3, "0.001"), "base learning rate")
    ("weight-decay", po::value(&o.t.weight_decay)->value_name("W")->default_value(1e-5, "1e-05"), "weight decay")
    ("momentum", po::value(&o.t.momentum)->value_name("M")->default_value(0.9, "0.9"), "SGD momentum")
    ("nesterov", po::bool_switch(&o.t.nesterov), "SGD with Nesterov momentum")
    ("optimizer-step", po::value(&o.t.optimizer_step)->value_name("S")->default_value("auto"),
     "Adam's update: fused, foreach (multi-tensor) or loop; auto: fused on a GPU where LibTorch has it, else loop")
    ("schedule", po::value(&o.t.lr.kind)->value_name("S")->default_value("constant"), "step, poly, cosine or constant")
    ("step-epochs", po::value(&o.t.lr.step_epochs)->value_name("N")->default_value(20), "step: epochs between decays")
    ("gamma", po::value(&o.t.lr.gamma)->value_name("G")->default_value(0.9, "0.9"), "step: decay factor")
    ("power", po::value(&o.t.lr.power)->value_name("P")->default_value(0.9, "0.9"), "poly: exponent")
    ("min-lr", po::value(&o.t.lr.min_lr)->value_name("LR")->default_value(0, "0"), "cosine: final learning rate")
    ("warmup", po::value(&o.t.lr.warmup)->value_name("N")->default_value(0), "iterations of linear warm-up")
    ("lr-phases", po::value(&o.lr_phases)->value_name("P")->default_value(""), "UNTIL:LR,...: base rate by epoch (epoch < UNTIL; step restarts)")
    ("loss", po::value(&o.t.loss.strategy)->value_name("S")->default_value("ordinary"), "loss weights: ordinary, phase or dynamic")
    ("alpha", po::value(&o.t.loss.fixed.alpha)->value_name("A")->default_value(0.5, "0.5"), "ordinary: Dice weight")
    ("beta", po::value(&o.t.loss.fixed.beta)->value_name("B")->default_value(0.5, "0.5"), "ordinary: cross-entropy weight")
    ("loss-phases", po::value(&o.phases)->value_name("P")->default_value("200:0.6:0.4,*:0.7:0.3"), "phase: UNTIL:ALPHA:BETA,... (epoch < UNTIL)")
    ("dynamic-a", po::value(&o.t.loss.A)->value_name("A")->default_value(0.3, "0.3"), "dynamic: final Dice weight A")
    ("dynamic-b", po::value(&o.t.loss.B)->value_name("B")->default_value(0.7, "0.7"), "dynamic: initial CE weight B")
    ("dynamic-k", po::value(&o.t.loss.k)->value_name("K")->default_value(0.05, "0.05"), "dynamic: steepness k of the sigmoid");
  add_semi_options(s, o);
  o.device.add(s, "Device and reproducibility");
  s.group("Device and reproducibility")
    ("no-channels-last", "keep NCHW")
    ("deterministic", po::bool_switch(&o.t.deterministic), "deterministic algorithms (slower on GPU)")
    ("seed", po::value(&o.t.seed)->value_name("N")->default_value(1234), "seed of initialisation, order and augmentation");
  s.group("Actions")
    ("summary", po::bool_switch(&o.summary), "print the per-stage table and totals, then exit")
    ("benchmark-loader", po::bool_switch(&o.t.benchmark_loader), "time the slice loader alone over one epoch, then exit");
  s.positional.add("dataset", 1);
  s.deprecated = {{"--classes", "--num-classes"}};
  s.examples = "  dlk-train synapse/ -o runs/L --variant L --config synapse-paper\n"
               "  dlk-train brats/ -o runs/mt --semi mean-teacher --ignore-labels-of pat0004,pat0005\n"
               "  dlk-train --resume runs/L\n"
               "  dlk-train --summary --variant L --size 512\n";
  return s;
}

extern "C" void on_stop_signal(int sig) {
  if (stop_request().exchange(1)) { // a second signal: stop now
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

int run(int argc, char** argv) {
  Options o;
  cli::Common common;
  auto vm = cli::parse(spec(o), argc, argv, common);
  const auto size = cli::size_option(o.size);
  o.t.height = size[0];
  o.t.width = size[1];
  require_at_least("--num-classes", o.t.model.classes, 0);
  require_at_least("--in-channels", o.t.model.in_channels, 0);
  o.t.precision = o.device.precision;
  o.t.depthwise = o.device.depthwise;
  o.t.channels_last = !vm.count("no-channels-last");
  o.t.threads = common.resolved_threads(); // recorded in config.json: they change a CPU run's numbers
  if (vm.count("ignore-labels-of")) o.t.semi.ignore_labels_of = cli::name_list("--ignore-labels-of", o.ignore_labels_of);
  if (vm.count("semi-weight")) o.t.semi.weight = vm["semi-weight"].as<double>(); // unset: the method's default
  if (vm.count("semi-ramp")) o.t.semi.ramp_epochs = vm["semi-ramp"].as<double>();
  if (o.summary) {
    if (o.t.model.classes == 0) o.t.model.classes = 9;
    if (o.t.model.in_channels == 0) o.t.model.in_channels = 1;
    o.t.model.validate();
    DLKUNet model(o.t.model);
    std::cout << format_summary(model, o.t.height, o.t.width);
    if (o.t.deep_supervision_requested) { // training-only heads, not part of the network
      const int levels = resolve_deep_supervision(o.t.supervised_levels, o.t.model, o.t.height, o.t.width);
      DeepSupervision ds(o.t.model, levels);
      std::cout << fmt::format("deep supervision (training only, not in exported models): {} heads, {} parameters\n",
                               levels - 1, parameter_count(*ds));
    }
    return cli::kOk;
  }
  if (!o.t.resume.empty()) // the run's own configuration, with this device and these threads
    o.t = TrainOptions::resumed(o.t, !vm["epochs"].defaulted(), !vm["max-steps"].defaulted(), !vm["threads"].defaulted());
  else {
    o.t.loss.phases = cli::loss_phases_option(o.phases);
    o.t.lr.phases = cli::lr_phases_option(o.lr_phases);
    o.t.check_new_run();
  }
  o.t.set_device(o.device.device);
  torch::set_num_threads(o.t.threads); // the run's (LibTorch alone may use one)
  cli::keep_freed_memory();

  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) std::signal(sig, on_stop_signal);
  constexpr int kStopped = 75; // a signal stopped the run, latest.dlkc written (EX_TEMPFAIL): requeue, --resume
  const TrainOutcome outcome =
      run_training(o.t, [](const std::string& line) { cli::info(line); }, cli::progress_bar(common.show_progress()));
  return outcome == TrainOutcome::Stopped ? kStopped : cli::kOk;
}

} // namespace

int main(int argc, char** argv) {
  return cli::run("dlk-train", [&] { return run(argc, argv); });
}
