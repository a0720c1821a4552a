// What every dlk tool shares: option parsing (command line > --config FILE > preset),
// --help and --version, the shared options, error reporting and exit codes.
#pragma once
#include <boost/program_options.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dlk::cli {

namespace po = boost::program_options;

enum ExitCode { kOk = 0, kFailure = 1, kUsage = 2 };

// Shared options, defined once and added to every tool.
struct Common {
  bool quiet = false;
  bool verbose = false;
  bool progress = false; // forced on; otherwise only when stderr is a terminal
  int threads = 0;       // 0 = all cores
  std::string config;

  int resolved_threads() const;
  bool show_progress() const;
};

// A spelling kept working for one release: `old` ("--classes", "-m") is read as `now`
// ("--num-classes", "--mode"), on the command line and as a key of a config file, with a notice
// on stderr. A short flag given up has `now` set to the long option it meant in this tool.
struct Deprecated {
  std::string old, now;
};

struct ToolSpec {
  std::string name;        // "dlk-prep", or "dlk-report panel" for a subcommand
  std::string synopsis;    // lines after "Usage: "
  std::string description; // one paragraph
  std::string examples;    // shown after the options
  // Option groups with their titles (Boost 1.74 keeps a group's caption private).
  std::vector<std::pair<std::string, std::shared_ptr<po::options_description>>> groups;
  // The group titled `title`, made on first use: shared option groups (dlk/cli/option_groups.h)
  // and a tool's own options can share a section of the help.
  po::options_description& section(const std::string& title);
  po::options_description_easy_init group(const std::string& title) { return section(title).add_options(); }
  // Options parsed but not in --help: the operands' option ("inputs").
  std::shared_ptr<po::options_description> hidden = std::make_shared<po::options_description>();
  po::positional_options_description positional;
  std::vector<Deprecated> deprecated;
  bool with_threads = true;
  std::string man_page;    // "See X(1)" [name]
  std::string trailer;     // printed after the options (a subcommand list)
};

// Parses argv, then --config FILE, then the extra config files (lowest priority last).
// --help and --version print and throw Exit(0). Unknown options, bad values and
// conflicting sources throw dlk::UsageError.
po::variables_map parse(const ToolSpec& spec, int argc, char** argv, Common& common,
                        const std::function<std::vector<std::string>(const po::variables_map&)>& more_configs = {});

struct Exit {
  int code;
};

// Runs a tool's body: maps Exit, dlk::UsageError (exit 2, with a pointer to --help),
// dlk::Error and other exceptions (exit 1) to messages "TOOL: error: ..." on stderr,
// installs the temporary-file cleanup on signals, and checks that stdout was written.
int run(const std::string& tool, const std::function<int()>& body);

// "warning: OLD is deprecated and will be removed: use NEW", once per spelling; held back until
// parse() has set the verbosity (-q silences it).
void deprecation_notice(const std::string& old, const std::string& now);

// Formats the help text (exposed for the test that compares --help with the man pages).
std::string help_text(const ToolSpec& spec);
std::string version_text(const std::string& tool);

// Messages on stderr, "TOOL: ..." prefixed; stdout stays for data.
void set_tool_name(const std::string& tool);
void set_verbosity(int level); // 0 quiet (errors only), 1 normal, 2 verbose
int verbosity();
void info(const std::string& msg);    // level >= 1
void verbose(const std::string& msg); // level >= 2
void warn(const std::string& msg);    // level >= 1, "TOOL: warning: ..."
void error(const std::string& msg);   // always, "TOOL: error: ..."

// Keeps freed memory in the process instead of returning it to the system: glibc serves blocks
// over 32 MiB (every activation of a batch) with mmap, and the page faults of re-mapping them took
// half of dlk-infer's time on a CPU. For the tools that run LibTorch on the CPU.
void keep_freed_memory();

// Refuses to write binary data to a terminal (exit 2), as zstd and bgzip do.
void refuse_binary_to_terminal(const std::string& what);

} // namespace dlk::cli
