#include "dlk/prep/layout.h"
#include "dlk/core/error.h"
#include "dlk/core/json.h"
#include "dlk/core/temporary_files.h"
#include "dlk/core/whole_file.h"
#include "dlk/io/dicom_series.h"
#include "dlk/io/volume.h"
#include "dlk/shard/shard_meta.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace dlk {

namespace {

// A directory's volume files and DICOM series directories (a case's or channel's series).
std::vector<fs::path> sorted_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec))
    if ((e.is_regular_file() && !is_temporary_name(e.path().filename().string())) ||
        (e.is_directory() && is_dicom_directory(e.path().string())))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool is_volume_file(const fs::path& p) {
  return strip_volume_extension(p.string()) != p.filename().string() || is_dicom_directory(p.string());
}

Layout synapse(const fs::path& root) {
  fs::path dir = root;
  if (!fs::is_directory(dir / "img") && fs::is_directory(root / "Training" / "img")) dir = root / "Training";
  if (!fs::is_directory(dir / "img"))
    fail(root.string(), "not a Synapse RawData layout: expected img/ and label/ (or Training/img/)");
  Layout l;
  static const std::regex name(R"(img(\d+))");
  for (auto& f : sorted_files(dir / "img")) {
    if (!is_volume_file(f)) continue;
    std::smatch m;
    std::string stem = strip_volume_extension(f.string());
    if (!std::regex_match(stem, m, name)) continue;
    CaseInput c;
    c.id = "case" + m[1].str();
    c.group = c.id;
    c.images = {f.string()};
    std::string ext = f.filename().string().substr(stem.size());
    if (ext.empty()) ext = ".nii.gz"; // a DICOM series' labels as NIfTI
    fs::path label = dir / "label" / ("label" + m[1].str() + ext);
    if (fs::exists(label)) c.label = label.string();
    l.cases.push_back(c);
  }
  if (l.cases.empty()) fail((dir / "img").string(), "no imgNNNN volumes found");
  return l;
}

std::map<std::string, int> read_info_cfg(const fs::path& path) {
  std::map<std::string, int> out;
  std::stringstream ss(read_text_file(path.string()));
  std::string line;
  while (std::getline(ss, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(std::remove_if(key.begin(), key.end(), ::isspace), key.end());
    try {
      out[key] = std::stoi(line.substr(colon + 1));
    } catch (const std::exception&) {
      // non-numeric fields (Group, Height...) are not needed
    }
  }
  return out;
}

Layout acdc(const fs::path& root) {
  Layout l;
  static const std::regex name(R"(patient\d+)");
  std::vector<fs::path> dirs;
  for (auto& e : fs::directory_iterator(root))
    if (e.is_directory() && std::regex_match(e.path().filename().string(), name)) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (auto& d : dirs) {
    const std::string patient = d.filename().string();
    fs::path cfg = d / "Info.cfg";
    if (!fs::exists(cfg)) fail(cfg.string(), "missing (it gives the ED and ES frames)");
    auto info = read_info_cfg(cfg);
    for (const char* phase : {"ED", "ES"}) {
      if (!info.count(phase)) fail(cfg.string(), fmt::format("no {} frame", phase));
      std::string frame = fmt::format("{}_frame{:02d}", patient, info[phase]);
      CaseInput c;
      c.id = patient + "_" + phase;
      c.group = patient;
      c.images = {(d / (frame + ".nii.gz")).string()};
      fs::path gt = d / (frame + "_gt.nii.gz");
      if (fs::exists(gt)) c.label = gt.string();
      l.cases.push_back(c);
    }
  }
  if (l.cases.empty()) fail(root.string(), "not an ACDC layout: no patientNNN folders");
  l.channels = {"MRI"};
  return l;
}

Layout nnunet(const fs::path& root) {
  const fs::path dj = root / "dataset.json";
  if (!fs::exists(dj) || !fs::is_directory(root / "imagesTr"))
    fail(root.string(), "not an nnU-Net raw dataset: expected dataset.json and imagesTr/");
  json::Value meta;
  Layout l;
  std::string ending = ".nii.gz";
  try {
    meta = json::Value::parse(read_text_file(dj.string()));
    if (auto fe = meta.find("file_ending")) ending = fe->as_string("file_ending");
    const auto& ch = meta.at("channel_names").as_object("channel_names");
    l.channels.resize(ch.size());
    for (auto& kv : ch) {
      size_t k = size_t(std::stoul(kv.first));
      if (k >= ch.size()) throw Error("channel_names keys must be 0..N-1");
      l.channels[k] = kv.second.as_string("channel name");
    }
    const auto& labels = meta.at("labels").as_object("labels");
    l.classes.resize(labels.size());
    for (auto& kv : labels) {
      int64_t v = kv.second.as_int("label value (region-based labels are not supported)");
      if (v < 0 || v >= int64_t(labels.size())) throw Error("label values must be consecutive from 0");
      l.classes[size_t(v)] = kv.first;
    }
    // The names go into every shard and score table: dlk's rule for them (dlk-shard(5)).
    if (std::string why = names_problem(l.channels, "channel name", false); !why.empty()) throw Error("channel_names: " + why);
    if (std::string why = names_problem(l.classes, "class name"); !why.empty()) throw Error("labels: " + why);
  } catch (const std::exception& e) {
    fail(dj.string(), e.what());
  }
  auto scan = [&](const fs::path& images, const fs::path& labels, const std::string& split) {
    std::map<std::string, std::vector<std::string>> by_case;
    static const std::regex name(R"((.+)_(\d{4}))");
    for (auto& f : sorted_files(images)) {
      std::string fn = f.filename().string();
      const bool series = is_dicom_directory(f.string()); // CASE_XXXX/: that channel's DICOM series
      if (!series && (fn.size() <= ending.size() || fn.compare(fn.size() - ending.size(), ending.size(), ending) != 0)) continue;
      std::smatch m;
      std::string stem = series ? fn : fn.substr(0, fn.size() - ending.size());
      if (!std::regex_match(stem, m, name)) fail(f.string(), "image name must end in _XXXX (the channel)");
      auto& v = by_case[m[1].str()];
      size_t ch = size_t(std::stoul(m[2].str()));
      if (v.size() <= ch) v.resize(ch + 1);
      v[ch] = f.string();
    }
    for (auto& [id, files] : by_case) {
      for (size_t k = 0; k < std::max(files.size(), l.channels.size()); ++k)
        if (k >= files.size() || files[k].empty() || files.size() != l.channels.size())
          fail((images / fmt::format("{}_{:04d}{}", id, k, ending)).string(),
               fmt::format("missing or extra channel: dataset.json names {} channels", l.channels.size()));
      CaseInput c;
      c.id = c.group = id;
      c.images = files;
      c.split = split;
      fs::path lab = labels / (id + ending);
      if (fs::exists(lab)) c.label = lab.string();
      else if (split == "train") fail(lab.string(), "missing label of a training case");
      l.cases.push_back(c);
    }
  };
  scan(root / "imagesTr", root / "labelsTr", "train");
  if (fs::is_directory(root / "imagesTs")) scan(root / "imagesTs", root / "labelsTs", "test");
  return l;
}

} // namespace

Layout discover_cases(const std::string& layout, const std::string& dir) {
  if (!fs::is_directory(dir)) fail(dir, "not a directory");
  if (layout == "synapse") return synapse(dir);
  if (layout == "acdc") return acdc(dir);
  if (layout == "nnunet") return nnunet(dir);
  throw UsageError(fmt::format("--layout: unknown layout '{}' (synapse, acdc, nnunet)", layout));
}

bool valid_split_name(const std::string& s) { return s == "train" || s == "val" || s == "test"; }

SplitList read_split_list(const std::string& path) {
  SplitList out;
  std::stringstream ss(read_text_file(path));
  std::string line;
  int n = 0;
  while (std::getline(ss, line)) {
    ++n;
    line = line.substr(0, line.find('#'));
    std::stringstream ls(line);
    std::string id, split, extra;
    if (!(ls >> id)) continue;
    if (!(ls >> split) || (ls >> extra) || !valid_split_name(split))
      fail(path, fmt::format("line {}: expected 'ID train|val|test'", n));
    if (!out.emplace(id, split).second) fail(path, fmt::format("line {}: {} listed twice", n, id));
  }
  if (out.empty()) fail(path, "empty split list");
  return out;
}

std::vector<std::string> apply_split_list(std::vector<CaseInput>& cases, const SplitList& list,
                                          const std::string& path) {
  std::vector<std::string> dropped;
  std::set<std::string> used;
  std::vector<CaseInput> kept;
  for (auto& c : cases) {
    auto it = list.find(c.id);
    if (it == list.end()) it = list.find(c.group);
    if (it == list.end()) {
      dropped.push_back(c.id);
      continue;
    }
    used.insert(it->first);
    c.split = it->second;
    kept.push_back(c);
  }
  for (auto& kv : list)
    if (!used.count(kv.first)) fail(path, fmt::format("lists {}, which the dataset does not have", kv.first));
  cases = std::move(kept);
  return dropped;
}

} // namespace dlk
