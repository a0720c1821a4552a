// Subcommands with their own options: one ToolSpec each, parsed alone.
#include "dlk/cli/subcommands.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <algorithm>

namespace dlk::cli {

namespace {
ToolSpec spec_of(const ToolSpec& base, const Subcommand& c, std::vector<std::string>& operands) {
  ToolSpec s;
  s.name = base.name + " " + c.name;
  s.man_page = base.name;
  s.synopsis = base.name + " " + c.synopsis;
  s.description = fmt::format("{}: {}.", c.name, c.summary);
  s.with_threads = base.with_threads;
  s.deprecated = base.deprecated;
  c.options(s);
  s.hidden->add_options()("inputs", po::value(&operands)->composing(), "the operands");
  s.positional.add("inputs", -1);
  return s;
}

bool takes(const ToolSpec& s, const std::string& name) {
  for (auto& g : s.groups)
    if (g.second->find_nothrow(name, false)) return true;
  return false;
}

// An option of another subcommand is a usage error that says whose it is (Boost's would only
// say that it is unknown).
void refuse_foreign_options(const ToolSpec& base, const std::vector<Subcommand>& subs, const Subcommand& mine,
                            const std::vector<std::string>& args) {
  std::vector<std::string> scratch;
  const ToolSpec own = spec_of(base, mine, scratch);
  for (auto& a : args) {
    if (a.rfind("--", 0) != 0 || a == "--") continue;
    const std::string name = a.substr(2, a.find('=') - 2);
    if (takes(own, name)) continue;
    std::string owners;
    for (auto& c : subs)
      if (takes(spec_of(base, c, scratch), name)) owners += (owners.empty() ? "" : ", ") + c.name;
    if (!owners.empty()) throw UsageError(fmt::format("--{} is not an option of '{}' (it is of: {})", name, mine.name, owners));
  }
}
} // namespace

int run_subcommand(const ToolSpec& base, const std::vector<Subcommand>& subs, std::vector<std::string>& operands,
                   int argc, char** argv, Common& common, const std::function<void()>& checks) {
  std::vector<std::string> args(argv, argv + argc);
  auto named = [&](const std::string& a) { return std::any_of(subs.begin(), subs.end(), [&](auto& c) { return c.name == a; }); };
  auto at = std::find_if(args.begin() + 1, args.end(), named);
  for (auto it = args.begin() + 1; it != args.end(); ++it) // the deprecated --command NAME
    if (*it == "--command" && it + 1 != args.end() && named(*(it + 1))) {
      deprecation_notice("--command", "the command as the first operand");
      at = args.erase(it);
      break;
    }
  std::string names;
  for (auto& c : subs) names += (names.empty() ? "" : ", ") + c.name;
  if (at == args.end()) { // the tool's --help and --version, or a usage error
    ToolSpec overview = base;
    overview.trailer = "Commands:\n";
    for (auto& c : subs) overview.trailer += fmt::format("  {:<8} {}\n", c.name, c.synopsis);
    parse(overview, argc, argv, common);
    throw UsageError("give a command: " + names);
  }
  const Subcommand& c = *std::find_if(subs.begin(), subs.end(), [&](auto& s) { return s.name == *at; });
  args.erase(at);
  refuse_foreign_options(base, subs, c, args);
  std::vector<char*> rest;
  for (auto& a : args) rest.push_back(a.data());
  parse(spec_of(base, c, operands), int(rest.size()), rest.data(), common);
  if (checks) checks();
  return c.run();
}

} // namespace dlk::cli
