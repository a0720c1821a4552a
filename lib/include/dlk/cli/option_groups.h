// The suite's shared option groups: each option that more than one tool takes is defined here
// once, with its spelling, short flag, metavar, help text and check, and spliced into each tool
// that uses it (as samtools' sam_opts.h and MRtrix3's option groups do), so that an option reads
// and means the same in every tool's --help. A tool's own options stay in its driver. The
// vocabulary test (tests/e2e/vocabulary.sh) fails when a name comes to mean two things.
#pragma once
#include "dlk/cli/tool.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace dlk::cli {

// --device, --precision, --depthwise: where and in what arithmetic the network runs
// (dlk-train, dlk-infer).
struct DeviceOptions {
  std::string device = "auto", precision = "bf16", depthwise = "dlk";
  void add(ToolSpec& s, const std::string& section);
  void check() const;
};

// --split, --part: the cases of a dataset (or of a list) a command takes (dlk-infer, dlk-score,
// dlk-report panel).
struct CaseSelection {
  std::string split = "test", part = "1/1";
  void add(ToolSpec& s, const std::string& section, bool with_part);
  void check() const;
  std::array<int, 2> parts() const; // --part K/N as {K, N}
};

// -i/--image FILE (repeatable), -c/--case ID and --series UID: one case given as volumes or DICOM
// series directories (dlk-prep, dlk-infer;
// dlk-report overlay takes one --image).
struct CaseInput {
  std::vector<std::string> images;
  std::string series; // --series UID: of a DICOM directory with several series
  std::optional<std::string> case_id;
  void add(ToolSpec& s, const std::string& section);
  std::optional<std::string> checked_case() const; // not empty when given
};

// --classes NAMES and --channels NAMES: names for a dataset's classes (background first) and
// image channels (dlk-prep; dlk-score --classes).
struct Naming {
  std::optional<std::string> classes, channels;
  void add(ToolSpec& s, const std::string& section, bool with_channels);
  std::vector<std::string> class_names() const;   // checked; empty when not given
  std::vector<std::string> channel_names() const; // checked; empty when not given
};

// -p/--pred LABELS and -t/--truth LABELS: predicted and reference labels (dlk-score, dlk-report
// overlay and panel).
void add_pred(ToolSpec& s, const std::string& section, std::vector<std::string>& preds);
void add_pred(ToolSpec& s, const std::string& section, std::string& pred);
void add_truth(ToolSpec& s, const std::string& section, std::string& truth);

// --network N: which network of a dlk-train --semi checkpoint (dlk-infer, dlk-export).
void add_network(ToolSpec& s, const std::string& section, std::string& network);
void check_network(const std::string& network); // teacher, student or empty

// --keep-largest CLASSES: each class's largest 3-D component (dlk-infer keeps it; dlk-score also
// scores with it kept).
struct KeepLargest {
  std::optional<std::string> value;
  void add(ToolSpec& s, const std::string& section);
  std::optional<std::vector<std::string>> classes() const; // unset: not given; {}: all
};

} // namespace dlk::cli
