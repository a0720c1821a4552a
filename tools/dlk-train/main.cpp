// dlk-train: trains DLKUNet on a dlk-prep dataset. This version prints the model (--summary);
// training itself follows.
#include "dlk/cli.h"
#include "dlk/error.h"
#include "dlk/model.h"

#include <fmt/format.h>

#include <iostream>

namespace po = boost::program_options;
using namespace dlk;

namespace {

struct Options {
  bool summary = false;
  ModelConfig model;
  std::string size;
};

cli::ToolSpec spec(Options& o) {
  cli::ToolSpec s;
  s.name = "dlk-train";
  s.synopsis = "dlk-train --summary [--variant S|M|L] [--classes K] [--in-channels N] [--size H[,W]] [model options]";
  s.description =
      "Trains DLKUNet-S/M/L on a dlk-prep dataset. This version implements --summary: it prints the\n"
      "network stage by stage (output shape, parameters, true MACs and MACs in the paper's\n"
      "convention) and exits without touching data.";
  s.group("Model")
    ("variant", po::value(&o.model.variant)->value_name("V")->default_value("S"), "S, M or L (2, 3 or 4 pooling stages)")
    ("classes", po::value(&o.model.classes)->value_name("K")->default_value(9), "output classes, background included")
    ("in-channels", po::value(&o.model.in_channels)->value_name("N")->default_value(1), "input channels")
    ("base-channels", po::value(&o.model.base_channels)->value_name("C")->default_value(96), "channels of the first level (doubled per level)")
    ("dw-kernel", po::value(&o.model.dw_kernel)->value_name("K")->default_value(3), "depthwise kernel of the separable convs")
    ("lka-kernel", po::value(&o.model.lka_kernel)->value_name("K")->default_value(5), "first depthwise kernel of the LKA")
    ("lka-dilated-kernel", po::value(&o.model.lka_dilated_kernel)->value_name("K")->default_value(7), "dilated depthwise kernel of the LKA")
    ("lka-dilation", po::value(&o.model.lka_dilation)->value_name("D")->default_value(3), "dilation of that kernel")
    ("size", po::value(&o.size)->value_name("H[,W]")->default_value("224"), "model input size");
  s.group("Actions")
    ("summary", po::bool_switch(&o.summary), "print the per-stage table and totals, then exit");
  s.with_threads = false;
  s.examples = "  dlk-train --summary --variant L\n"
               "  dlk-train --summary --variant L --size 512\n"
               "  dlk-train --summary --variant M --classes 4 --base-channels 64\n";
  return s;
}

void parse_size(const std::string& s, int64_t& h, int64_t& w) {
  try {
    size_t used = 0;
    h = std::stoll(s, &used);
    w = h;
    if (used < s.size()) {
      if (s[used] != ',') throw std::invalid_argument(s);
      std::string rest = s.substr(used + 1);
      w = std::stoll(rest, &used);
      if (used != rest.size()) throw std::invalid_argument(s);
    }
  } catch (const std::exception&) {
    throw UsageError(fmt::format("--size: '{}' is not H or H,W", s));
  }
  if (h < 1 || w < 1 || h > 16384 || w > 16384) throw UsageError(fmt::format("--size: {}x{} out of range", h, w));
}

int run(int argc, char** argv) {
  Options o;
  cli::Common common;
  cli::parse(spec(o), argc, argv, common);
  o.model.validate();
  int64_t h = 0, w = 0;
  parse_size(o.size, h, w);
  if (!o.summary)
    throw UsageError("training is not implemented in this version: use --summary to print the model");
  DLKUNet model(o.model);
  std::cout << format_summary(model, h, w);
  return cli::kOk;
}

} // namespace

int main(int argc, char** argv) {
  return cli::run("dlk-train", [&] { return run(argc, argv); });
}
