// The shared option groups: one definition of each option that several tools take.
#include "dlk/cli/option_groups.h"
#include "dlk/cli/option_values.h"
#include "dlk/core/error.h"
#include "dlk/core/value_checks.h"
#include "dlk/shard/shard_meta.h"

#include <fmt/format.h>

namespace dlk::cli {

namespace {
// An option whose absence differs from any value it can take.
template <typename T> po::typed_value<std::string>* optional_value(std::optional<T>& into) {
  return po::value<std::string>()->notifier([&into](const std::string& v) { into = v; });
}
constexpr const char* kPredHelp = "predicted labels: a volume, a directory of volumes or shards (- for stdin); repeat where several are taken";
} // namespace

void DeviceOptions::add(ToolSpec& s, const std::string& section) {
  s.group(section)
    ("device", po::value(&device)->value_name("D")->default_value("auto"), "cpu, cuda or cuda:N (auto: cuda if present)")
    ("precision", po::value(&precision)->value_name("P")->default_value("bf16"),
     "bf16, fp16 or fp32: autocast on a GPU (fp16 is for GPUs); a CPU infers in bf16 where it has AMX, else in fp32")
    ("depthwise", po::value(&depthwise)->value_name("IMPL")->default_value("dlk"),
     "depthwise convolutions: dlk's kernels or torch (LibTorch's, for comparisons)");
}

void DeviceOptions::check() const {
  require_precision("--precision", precision);
  require_one_of("--depthwise", depthwise, {"dlk", "torch"});
}

void add_network(ToolSpec& s, const std::string& section, std::string& network) {
  s.group(section)("network", po::value(&network)->value_name("N"),
                   "of a dlk-train --semi checkpoint: teacher or student [the one it holds as its model]");
}

void check_network(const std::string& network) {
  if (!network.empty()) require_one_of("--network", network, {"teacher", "student"});
}

void CaseSelection::add(ToolSpec& s, const std::string& section, bool with_part) {
  s.group(section)("split", po::value(&split)->value_name("SPLIT")->default_value("test"),
                   "cases of a dataset: train, val, test or all");
  if (with_part)
    s.group(section)("part", po::value(&part)->value_name("K/N")->default_value("1/1"),
                     "only the K-th of N equal parts of the cases (job arrays)");
}

void CaseSelection::check() const {
  require_split("--split", split);
  (void)parts();
}

std::array<int, 2> CaseSelection::parts() const { return part_option(part); }

void CaseInput::add(ToolSpec& s, const std::string& section) {
  s.group(section)
    ("image,i", po::value(&images)->value_name("FILE")->composing(),
     "image volume (or DICOM series directory) of one case; repeat for more channels")
    ("case,c", optional_value(case_id)->value_name("ID"), "that case's id [the image's file name]")
    ("series", po::value(&series)->value_name("UID"), "of a DICOM directory that holds several series: its UID or description");
}

std::optional<std::string> CaseInput::checked_case() const {
  if (case_id) require_name("--case", *case_id);
  return case_id;
}

void Naming::add(ToolSpec& s, const std::string& section, bool with_channels) {
  if (with_channels) s.group(section)("channels", optional_value(channels)->value_name("NAMES"), "channel names, comma-separated [channel0,...]");
  s.group(section)("classes", optional_value(classes)->value_name("NAMES"),
                   "class names, background first, comma-separated [the data's, else background,class1,...]");
}

std::vector<std::string> Naming::class_names() const {
  if (!classes) return {};
  return name_list("--classes", *classes, [](auto& n) { return class_name_problem(n); });
}

std::vector<std::string> Naming::channel_names() const {
  if (!channels) return {};
  return name_list("--channels", *channels, [](auto& n) { return class_name_problem(n, "channel name"); });
}

void add_pred(ToolSpec& s, const std::string& section, std::vector<std::string>& preds) {
  s.group(section)("pred,p", po::value(&preds)->value_name("LABELS")->composing(), kPredHelp);
}

void add_pred(ToolSpec& s, const std::string& section, std::string& pred) {
  s.group(section)("pred,p", po::value(&pred)->value_name("LABELS"), kPredHelp);
}

void add_truth(ToolSpec& s, const std::string& section, std::string& truth) {
  s.group(section)("truth,t", po::value(&truth)->value_name("LABELS"), "reference labels: a volume, a directory of volumes, a dlk-prep dataset or a shard file");
}

void KeepLargest::add(ToolSpec& s, const std::string& section) {
  s.group(section)("keep-largest", optional_value(value)->value_name("CLASSES"),
                   "keep each class's largest 3-D component (dlk-score: score with it kept too): all, or classes by name or value");
}

std::optional<std::vector<std::string>> KeepLargest::classes() const {
  if (!value) return std::nullopt;
  return keep_largest_option(*value);
}

} // namespace dlk::cli
