// Tools with subcommands (dlk-report table|panel|...): each subcommand has its own options and
// --help, an option of another subcommand is a usage error that names whose it is, and the tool's
// --help lists the subcommands, as git's and samtools' do.
#pragma once
#include "dlk/cli/tool.h"

#include <functional>
#include <string>
#include <vector>

namespace dlk::cli {

struct Subcommand {
  std::string name;     // "panel"
  std::string synopsis; // "panel DATASET --pred LABELS... -o FILE.png"
  std::string summary;  // one sentence, without its full stop
  std::function<void(ToolSpec&)> options; // adds the subcommand's own options to its spec
  std::function<int()> run;
};

// Finds the subcommand (the first operand; "--command NAME" is its deprecated spelling), parses
// its options with `base` (name, description, examples: the tool's --help) as the template of
// each subcommand's spec (operands into `operands`), calls `checks` after parsing and runs it.
int run_subcommand(const ToolSpec& base, const std::vector<Subcommand>& subs, std::vector<std::string>& operands,
                   int argc, char** argv, Common& common, const std::function<void()>& checks = {});

} // namespace dlk::cli
