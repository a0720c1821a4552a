#include "dlk/cli/tool.h"
#include "dlk/core/error.h"
#include "dlk/core/notice.h"
#include "dlk/core/share_dir.h"
#include "dlk/core/standard_descriptors.h"
#include "dlk/core/temporary_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <malloc.h>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <set>
#include <thread>
#include <unistd.h>

namespace dlk::cli {

namespace {
std::string g_tool = "dlk";
int g_verbosity = 1;

// "-o, --output FILE" and the default, from Boost's option description.
struct Row {
  std::string flags, help, def;
};
Row describe(const po::option_description& o) {
  Row r;
  const std::string shortname = o.canonical_display_name(po::command_line_style::allow_dash_for_short);
  const std::string longname = o.long_name();
  if (shortname.size() == 2 && shortname[0] == '-' && shortname[1] != '-') r.flags = shortname + ", ";
  else r.flags = "    ";
  r.flags += "--" + longname;
  if (o.semantic()->max_tokens() > 0) {
    std::string name = o.semantic()->name(); // "FILE (=default)" or "FILE"
    auto pos = name.find(" (=");
    if (pos != std::string::npos) {
      r.def = name.substr(pos + 3, name.size() - pos - 4);
      name = name.substr(0, pos);
    }
    r.flags += " " + name;
  }
  r.help = o.description();
  return r;
}

std::string format_group(const std::string& title, const po::options_description& g) {
  std::vector<Row> rows;
  size_t width = 0;
  for (auto& o : g.options()) {
    rows.push_back(describe(*o));
    width = std::max(width, rows.back().flags.size());
  }
  width = std::min<size_t>(width, 30);
  std::string out = title + ":\n";
  for (auto& r : rows) {
    std::string line = "  " + r.flags;
    std::string help = r.help + (r.def.empty() ? "" : " [" + r.def + "]");
    if (r.flags.size() > width) line += "\n" + std::string(width + 4, ' ');
    else line += std::string(width - r.flags.size() + 2, ' ');
    out += line + help + "\n";
  }
  return out;
}

po::options_description common_options(Common& c, bool with_threads) {
  po::options_description g("Common options");
  g.add_options()
    ("help,h", "print this help and exit")
    ("version", "print versions (dlk, LibTorch, ITK, zstd) and exit")
    ("config", po::value<std::string>(&c.config)->value_name("FILE"),
     "read options from an INI file (keys are the long option names; the command line wins)")
    ("quiet,q", po::bool_switch(&c.quiet), "print errors only")
    ("verbose,v", po::bool_switch(&c.verbose), "print more detail")
    ("progress", po::bool_switch(&c.progress), "show progress even when stderr is not a terminal");
  if (with_threads)
    g.add_options()("threads,j", po::value<int>(&c.threads)->default_value(0)->value_name("N"),
                    "worker threads (0 = all cores)");
  return g;
}

// Deprecated spellings on the command line, rewritten to the current ones before Boost reads
// them: "--old", "--old=V", "-o", "-oV" (a short flag with its value attached).
std::vector<std::string> current_spellings(const ToolSpec& spec, int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    std::string& a = args[i];
    if (a == "--") break;
    for (const Deprecated& d : spec.deprecated) {
      const bool is_short = d.old.size() == 2;
      if (a == d.old) {
        deprecation_notice(d.old, d.now);
        a = d.now;
      } else if (!is_short && a.rfind(d.old + "=", 0) == 0) {
        deprecation_notice(d.old, d.now);
        a = d.now + a.substr(d.old.size());
      } else if (is_short && a.size() > 2 && a.rfind(d.old, 0) == 0) {
        deprecation_notice(d.old, d.now);
        a = d.now + "=" + a.substr(2);
      } else {
        continue;
      }
      break;
    }
  }
  return args;
}

// A config file's deprecated keys become the current ones; an unknown key is an error.
void current_keys(const ToolSpec& spec, const std::string& path, po::parsed_options& parsed) {
  for (po::option& o : parsed.options) {
    if (!o.unregistered) continue;
    auto d = std::find_if(spec.deprecated.begin(), spec.deprecated.end(),
                          [&](const Deprecated& x) { return x.old.size() > 2 && x.old.substr(2) == o.string_key; });
    if (d == spec.deprecated.end())
      throw UsageError(fmt::format("config file '{}': unrecognised option '{}'", path, o.string_key));
    deprecation_notice(o.string_key + " (in '" + path + "')", d->now.substr(2));
    o.string_key = d->now.substr(2);
    o.unregistered = false;
  }
}

std::vector<std::string> g_pending_notices;
bool g_parsed = false; // parse() has set the verbosity: notices go out at once
std::set<std::string> g_notified;

void store_config(const ToolSpec& spec, const std::string& path, const po::options_description& all, po::variables_map& vm,
                  const std::set<std::string>& already) {
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::parse_config_file<char>(path.c_str(), all, true);
    current_keys(spec, path, parsed);
  } catch (const po::reading_file&) {
    throw UsageError(fmt::format("cannot read config file '{}'", path));
  } catch (const po::error& e) {
    throw UsageError(fmt::format("config file '{}': {}", path, e.what()));
  }
  // Higher layers win as a whole: a key set on the command line (or an earlier file) is
  // dropped here, so repeated options such as --image never mix two sources.
  auto& opts = parsed.options;
  opts.erase(std::remove_if(opts.begin(), opts.end(), [&](const po::option& o) { return already.count(o.string_key); }),
             opts.end());
  try {
    po::store(parsed, vm);
  } catch (const po::error& e) {
    throw UsageError(fmt::format("config file '{}': {}", path, e.what()));
  }
}

std::set<std::string> explicitly_set(const po::variables_map& vm) {
  std::set<std::string> s;
  for (auto& kv : vm)
    if (!kv.second.defaulted()) s.insert(kv.first);
  return s;
}
} // namespace

po::options_description& ToolSpec::section(const std::string& title) {
  for (auto& g : groups)
    if (g.first == title) return *g.second;
  groups.emplace_back(title, std::make_shared<po::options_description>(title));
  return *groups.back().second;
}

void deprecation_notice(const std::string& old, const std::string& now) {
  if (!g_notified.insert(old).second) return;
  const std::string msg = fmt::format("{} is deprecated and will be removed: use {}", old, now);
  if (g_parsed) warn(msg);
  else g_pending_notices.push_back(msg);
}

int Common::resolved_threads() const {
  if (threads > 0) return threads;
  unsigned n = std::thread::hardware_concurrency();
  return n ? int(n) : 1;
}

bool Common::show_progress() const {
  return !quiet && (progress || isatty(2));
}

std::string help_text(const ToolSpec& spec) {
  std::string out = "Usage: ";
  std::string pad;
  for (size_t i = 0, start = 0; start < spec.synopsis.size(); ++i) {
    size_t end = spec.synopsis.find('\n', start);
    if (end == std::string::npos) end = spec.synopsis.size();
    out += (i ? "       " : "") + spec.synopsis.substr(start, end - start) + "\n";
    start = end + 1;
  }
  out += "\n" + spec.description + "\n";
  Common dummy;
  for (auto& g : spec.groups) out += "\n" + format_group(g.first, *g.second);
  out += "\n" + format_group("Common options", common_options(dummy, spec.with_threads));
  if (!spec.trailer.empty()) out += "\n" + spec.trailer;
  if (!spec.examples.empty()) out += "\nExamples:\n" + spec.examples;
  out += "\nExit status: 0 success, 1 failure, 2 usage error. See " + (spec.man_page.empty() ? spec.name : spec.man_page) + "(1).\n";
  return out;
}

po::variables_map parse(const ToolSpec& spec, int argc, char** argv, Common& common,
                        const std::function<std::vector<std::string>(const po::variables_map&)>& more_configs) {
  po::options_description all;
  for (auto& g : spec.groups) all.add(*g.second);
  all.add(*spec.hidden);
  all.add(common_options(common, spec.with_threads));
  po::variables_map vm;
  try {
    const std::vector<std::string> args = current_spellings(spec, argc, argv);
    po::store(po::command_line_parser(std::vector<std::string>(args.begin() + 1, args.end()))
                  .options(all).positional(spec.positional).run(), vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) {
    std::cout << help_text(spec);
    throw Exit{kOk};
  }
  if (vm.count("version")) {
    std::cout << version_text(spec.name.substr(0, spec.name.find(" ")));
    throw Exit{kOk};
  }
  std::vector<std::string> files;
  // --config takes a file, or the name of a preset in share/dlk/presets ("synapse-paper").
  if (vm.count("config")) files.push_back(find_share_file(vm["config"].as<std::string>(), "presets", ".ini", "config"));
  // Files named by the command line or the config file (a preset) come last.
  if (more_configs) {
    po::variables_map probe = vm;
    if (!files.empty()) store_config(spec, files[0], all, probe, explicitly_set(vm));
    for (auto& f : more_configs(probe)) files.push_back(f);
  }
  for (auto& f : files) store_config(spec, f, all, vm, explicitly_set(vm));
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  set_verbosity(common.quiet ? 0 : common.verbose ? 2 : 1);
  for (auto& n : g_pending_notices) warn(n);
  g_pending_notices.clear();
  g_parsed = true;
  if (common.quiet && common.verbose) throw UsageError("--quiet and --verbose exclude each other");
  if (common.threads < 0) throw UsageError("--threads must be 0 (all cores) or positive");
  return vm;
}

int run(const std::string& tool, const std::function<int()>& body) {
  ensure_standard_descriptors(); // before anything opens a file
  set_tool_name(tool);
  set_notice_hook([](const std::string& msg) { info(msg); });
  install_cleanup_signal_handlers();
  int code = kOk;
  try {
    code = body();
  } catch (const Exit& e) {
    code = e.code;
  } catch (const UsageError& e) {
    error(e.what());
    std::cerr << "Try '" << tool << " --help' for more information.\n";
    code = kUsage;
  } catch (const Error& e) {
    error(e.what());
    code = kFailure;
  } catch (const std::bad_alloc&) {
    error("out of memory");
    code = kFailure;
  } catch (const std::exception& e) {
    error(std::string("unexpected: ") + e.what());
    code = kFailure;
  }
  // A full disk may only show when stdout is closed (samtools does the same check).
  std::cout.flush();
  std::fflush(stdout);
  if (const uint64_t lost = bytes_lost_to_closed_stdout()) {
    std::fprintf(stderr, "%s: error: standard output is closed: %llu bytes of output lost\n", tool.c_str(),
                 static_cast<unsigned long long>(lost));
    if (code == kOk) code = kFailure;
  }
  if (std::fflush(stdout) != 0 || std::fclose(stdout) != 0 || !std::cout.good()) {
    if (errno != EPIPE) {
      std::fprintf(stderr, "%s: error: writing to standard output: %s\n", tool.c_str(), std::strerror(errno));
      if (code == kOk) code = kFailure;
    }
  }
  return code;
}

void set_tool_name(const std::string& tool) { g_tool = tool; }
void set_verbosity(int level) { g_verbosity = level; }
int verbosity() { return g_verbosity; }

static void emit(const std::string& prefix, const std::string& msg) {
  std::cout.flush(); // keep stdout and stderr in order on a terminal
  std::string line = g_tool + ": " + prefix + msg + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}
void info(const std::string& msg) {
  if (g_verbosity >= 1) emit("", msg);
}
void verbose(const std::string& msg) {
  if (g_verbosity >= 2) emit("", msg);
}
void warn(const std::string& msg) {
  if (g_verbosity >= 1) emit("warning: ", msg);
}
void error(const std::string& msg) { emit("error: ", msg); }

void keep_freed_memory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_MAX, 0);               // no mmap: large blocks come from the heap and are reused
  mallopt(M_TRIM_THRESHOLD, INT32_MAX); // and freed ones stay there
#endif
}

void refuse_binary_to_terminal(const std::string& what) {
  if (isatty(1)) throw UsageError("refusing to write " + what + " to a terminal (redirect stdout or use -o FILE)");
}

} // namespace dlk::cli
