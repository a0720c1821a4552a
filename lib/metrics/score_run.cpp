#include "dlk/metrics/score_run.h"
#include "dlk/core/csv.h"
#include "dlk/core/error.h"
#include "dlk/core/thread_group.h"
#include "dlk/metrics/connected_components.h"
#include "dlk/metrics/label_volumes.h"

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <set>

namespace dlk {

namespace {

void check_same_grid(const LabelVolume& p, const LabelVolume& r) {
  const std::string d = geometry_mismatch(r.geometry, p.geometry);
  if (!d.empty())
    throw Error(fmt::format("case {}: the prediction '{}' and the reference '{}' lie on different grids: {}", p.case_id,
                            p.source, r.source, d));
}

CaseScores score_case(const LabelVolume& p, const LabelVolume& r, const ScoreOptions& o, int n_classes) {
  CaseScores cs;
  cs.case_id = r.case_id;
  if (o.image_spacing) cs.spacing = r.geometry.spacing;
  for (int c = o.include_background ? 0 : 1; c < n_classes; ++c) cs.class_ids.push_back(c);
  cs.scores.resize(cs.class_ids.size());
  std::atomic<size_t> next{0};
  std::string err;
  std::mutex mu;
  auto work = [&] {
    for (size_t k; (k = next++) < cs.class_ids.size();) {
      try {
        const uint16_t c = uint16_t(cs.class_ids[k]);
        std::vector<uint8_t> pm(p.labels.size()), rm(r.labels.size());
        for (size_t i = 0; i < pm.size(); ++i) {
          pm[i] = p.labels[i] == c;
          rm[i] = r.labels[i] == c;
        }
        cs.scores[k] = score_class(pm, rm, r.geometry.size, cs.spacing, o.mode, o.distances);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        err = e.what();
      }
    }
  };
  ThreadGroup pool;
  pool.start(std::max(1, std::min<int>(o.threads, int(cs.class_ids.size()))), work);
  pool.join();
  if (!err.empty()) throw Error(fmt::format("case {}: {}", r.case_id, err));
  return cs;
}

// The classes when nothing names them: 0 .. the largest label of the references, 2 at least. A
// label far above every other is no class but a stray value (one voxel of 200 among organs 1..8,
// a mask of 0 and 255): the classes end below the first run of more than kMaxLabelGap labels that
// no reference holds. (A weak model's prediction used as reference, holding labels 0 and 5 only,
// still gives 6 classes.) Returns their count; `stray` the first label beyond them, or 0.
constexpr int kMaxLabelGap = 32;
int classes_of_labels(const std::vector<bool>& present, int& stray) {
  int n = 2, below = 0; // below: the largest label held so far (background counts)
  stray = 0;
  for (int v = 1; v < int(present.size()) && !stray; ++v) {
    if (!present[size_t(v)]) continue;
    if (v - below - 1 > kMaxLabelGap) stray = v;
    else n = std::max(n, v + 1), below = v;
  }
  return n;
}

// Every label must be one of the n classes: a stray value (200, 65535) would otherwise add as many
// classes to the table, each scored and averaged into the headline number.
void check_labels(const LabelVolume& v, int n, const char* side, const std::string& hint) {
  for (size_t i = 0; i < v.labels.size(); ++i)
    if (v.labels[i] >= n) {
      const auto& s = v.geometry.size;
      fail(v.source, fmt::format("{} of case {}: label {} at voxel ({}, {}, {}) is not one of the {} classes (0..{}){}", side,
                                 v.case_id, v.labels[i], int64_t(i) % s[0], (int64_t(i) / s[0]) % s[1],
                                 int64_t(i) / (s[0] * s[1]), n, n - 1, hint));
    }
}

double mean_of(const std::vector<double>& v, bool skip_nan) {
  double s = 0;
  int n = 0;
  for (double x : v) {
    if (skip_nan && std::isnan(x)) continue;
    s += x;
    ++n;
  }
  return n ? s / n : std::nan("");
}

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

json::Value jnum(double v) { // JSON has no NaN/inf: null, with the CSV spelling them out
  if (!std::isfinite(v)) return std::isnan(v) ? json::Value() : json::Value(v > 0 ? "inf" : "-inf");
  return v;
}

} // namespace

namespace {
// The class names as far as known before any case is read (for --keep-largest's names).
std::vector<std::string> known_class_names(const ScoreOptions& o, const LabelVolumes& refs, const LabelVolumes& preds, int n) {
  std::vector<std::string> names = !o.classes.empty() ? o.classes : !refs.classes().empty() ? refs.classes() : preds.classes();
  for (int c = int(names.size()); c < n; ++c) names.push_back(c ? fmt::format("class{}", c) : "background");
  return names;
}
} // namespace

// The classes, known before any case is scored: --classes, else the names a side gives, else
// the truth label map's, else 0 .. the largest label of any reference. That last reads every
// reference twice (once here, once to score it): holding them all instead would take a volume
// of memory per case, and only plain volumes without --classes come to it. `hint` then says so
// in the messages about labels out of range.
static int scoring_classes(const ScoreOptions& o, LabelVolumes& refs, LabelVolumes& preds,
                           const std::vector<std::string>& ref_ids, std::string& hint) {
  int n_classes = int(o.classes.size());
  if (!n_classes) n_classes = int(refs.classes().size());
  if (!n_classes) n_classes = int(preds.classes().size());
  if (!n_classes && !o.truth_map.empty()) n_classes = o.truth_map.max_class() + 1;
  if (!n_classes) {
    std::vector<bool> present(65536, false);
    for (auto& id : ref_ids)
      for (uint16_t x : refs.load(id).labels) present[x] = true;
    int stray = 0;
    n_classes = classes_of_labels(present, stray);
    // A reference holding a stray label fails below as a prediction would, naming its file.
    hint = stray ? fmt::format("; the references hold no label from {} to {}: give --classes to score more", n_classes, stray - 1)
                 : "; the references hold no larger label: give --classes to score more";
  }
  return n_classes;
}

ScoreReport run_score(const std::string& pred, const std::string& truth, const ScoreOptions& o,
                      const std::function<void(const CaseScores&)>& on_case) {
  ScoreReport rep;
  rep.options = o;
  auto refs = LabelVolumes::open(truth, o.split, o.truth_map);
  auto preds = LabelVolumes::open(pred, o.split, LabelMap{});
  if (!refs->random_access()) throw UsageError("--truth must be a volume, a directory, a dataset or a shard file (not a stream)");
  std::vector<std::string> ref_ids = refs->case_ids();
  std::set<std::string> pending(ref_ids.begin(), ref_ids.end()), seen;
  std::string hint;
  const int n_classes = scoring_classes(o, *refs, *preds, ref_ids, hint);
  const auto keep = keep_largest_classes(o.keep_largest, known_class_names(o, *refs, *preds, n_classes));
  auto classes_from = [&](const LabelVolume& v) {
    if (rep.class_names.empty() && !v.classes.empty()) rep.class_names = v.classes;
    if (!v.classes.empty() && int(v.classes.size()) != n_classes)
      fail(v.source, fmt::format("case {} names {} classes, the scoring {}", v.case_id, v.classes.size(), n_classes));
  };
  auto handle = [&](const LabelVolume& p) {
    if (!seen.insert(p.case_id).second) throw Error(fmt::format("case {} appears twice among the predictions", p.case_id));
    if (!pending.count(p.case_id)) {
      if (o.allow_missing) {
        rep.warnings.push_back(fmt::format("case {}: prediction without reference, skipped", p.case_id));
        return;
      }
      throw Error(fmt::format("case {} is predicted ('{}') but has no reference in '{}'", p.case_id, p.source, truth));
    }
    pending.erase(p.case_id);
    LabelVolume r = refs->load(p.case_id);
    check_same_grid(p, r);
    classes_from(p);
    classes_from(r);
    check_labels(r, n_classes, "reference", hint);
    check_labels(p, n_classes, "prediction", hint);
    CaseScores cs = score_case(p, r, o, n_classes);
    if (keep) { // the same prediction, post-processed
      LabelVolume q = p;
      keep_largest_components(q.labels, q.geometry.size, *keep);
      rep.kept.push_back(score_case(q, r, o, n_classes));
    }
    if (on_case) on_case(cs);
    rep.cases.push_back(std::move(cs));
  };
  LabelVolume p;
  if (preds->random_access()) {
    for (auto& id : preds->case_ids()) handle(preds->load(id));
  } else {
    while (preds->next(p)) handle(p);
  }
  for (auto& id : pending) { // references nobody predicted
    if (!o.allow_missing)
      throw Error(fmt::format("case {} has a reference in '{}' but no prediction in '{}' (--allow-missing scores it as an "
                              "empty prediction)", id, truth, pred));
    LabelVolume r = refs->load(id);
    LabelVolume empty = r;
    std::fill(empty.labels.begin(), empty.labels.end(), 0);
    classes_from(r);
    check_labels(r, n_classes, "reference", hint);
    rep.warnings.push_back(fmt::format("case {}: no prediction, scored as an empty one", id));
    rep.cases.push_back(score_case(empty, r, o, n_classes));
  }
  if (rep.cases.empty()) throw Error("no case to score");
  if (!o.classes.empty()) rep.class_names = o.classes;
  std::sort(rep.cases.begin(), rep.cases.end(), [](auto& a, auto& b) { return a.case_id < b.case_id; });
  int top = 0;
  for (auto& c : rep.cases)
    for (int id : c.class_ids) top = std::max(top, id + 1);
  for (int c = int(rep.class_names.size()); c < top; ++c) rep.class_names.push_back(c == 0 ? "background" : fmt::format("class{}", c));
  return rep;
}

namespace {
// Per class: the mean over `cases` (TransUNet: plain mean; the others: NaN ignored).
std::vector<double> class_means(const std::vector<CaseScores>& cases, size_t n, ScoreMode mode, double ClassScore::*field) {
  std::map<int, std::vector<double>> by;
  for (auto& c : cases)
    for (size_t k = 0; k < c.class_ids.size(); ++k) by[c.class_ids[k]].push_back(c.scores[k].*field);
  std::vector<double> out(n, std::nan(""));
  for (auto& [id, v] : by) out[size_t(id)] = mean_of(v, mode != ScoreMode::TransUNet);
  return out;
}
} // namespace

std::vector<double> ScoreReport::class_mean(double ClassScore::*field) const {
  return class_means(cases, class_names.size(), options.mode, field);
}

double ScoreReport::overall(double ClassScore::*field) const {
  if (options.mode == ScoreMode::Monai) {
    std::vector<double> per_case;
    for (auto& c : cases) {
      std::vector<double> v;
      for (auto& s : c.scores) v.push_back(s.*field);
      per_case.push_back(mean_of(v, true));
    }
    return mean_of(per_case, true);
  }
  std::vector<double> m;
  const auto cm = class_mean(field);
  for (int c = options.include_background ? 0 : 1; c < int(cm.size()); ++c) m.push_back(cm[size_t(c)]);
  return mean_of(m, options.mode != ScoreMode::TransUNet);
}

json::Value ScoreReport::to_json() const {
  json::Value settings;
  settings.set("mode", score_mode_name(options.mode));
  settings.set("spacing", options.image_spacing ? "image (mm)" : "unit (voxels)");
  settings.set("connectivity", "6-neighbourhood (face), outside the volume = background");
  settings.set("percentile", options.mode == ScoreMode::Monai ? "max of the two directed 95th percentiles, linear"
                                                              : "95th percentile of both directions pooled, linear (numpy)");
  settings.set("include_background", options.include_background);
  settings.set("tool", "dlk-score " DLK_VERSION);
  json::Value v;
  v.set("settings", settings);
  v.set("classes", class_names);
  json::Value means;
  const auto d = class_mean(&ClassScore::dsc), h = class_mean(&ClassScore::hd95);
  for (size_t c = options.include_background ? 0 : 1; c < class_names.size(); ++c) {
    json::Value e;
    e.set("dsc", jnum(d[c]));
    e.set("hd95", jnum(h[c]));
    means.set(class_names[c], e);
  }
  v.set("class_mean", means);
  v.set("mean_dsc", jnum(overall(&ClassScore::dsc)));
  v.set("mean_hd95", jnum(overall(&ClassScore::hd95)));
  json::Array per;
  for (auto& c : cases) {
    json::Value e;
    e.set("case", c.case_id);
    e.set("spacing", std::vector<double>(c.spacing.begin(), c.spacing.end()));
    json::Value cls;
    for (size_t k = 0; k < c.class_ids.size(); ++k) {
      const ClassScore& s = c.scores[k];
      json::Value x;
      x.set("dsc", jnum(s.dsc));
      x.set("hd95", jnum(s.hd95));
      x.set("hd", jnum(s.hd));
      x.set("assd", jnum(s.assd));
      x.set("iou", jnum(s.iou));
      x.set("tp", s.tp);
      x.set("fp", s.fp);
      x.set("fn", s.fn);
      x.set("n_pred", s.n_pred);
      x.set("n_ref", s.n_ref);
      x.set("rule", s.rule);
      cls.set(class_names[size_t(c.class_ids[k])], x);
    }
    e.set("classes", cls);
    per.push_back(e);
  }
  v.set("cases", json::Value(per));
  json::Array warn;
  for (auto& w : warnings) warn.push_back(w);
  v.set("warnings", json::Value(warn));
  if (!kept.empty()) { // --keep-largest: per class, the mean Dice as predicted and post-processed
    const auto plain = class_mean(&ClassScore::dsc), post = class_means(kept, class_names.size(), options.mode, &ClassScore::dsc);
    json::Value kl;
    for (size_t c = 1; c < class_names.size(); ++c) {
      json::Value e;
      e.set("dsc", jnum(plain[c]));
      e.set("dsc_kept", jnum(post[c]));
      e.set("helps", post[c] > plain[c]);
      kl.set(class_names[c], e);
    }
    v.set("keep_largest", kl);
  }
  return v;
}

std::string ScoreReport::to_csv() const {
  std::string out = "case,class_id,class,dsc,hd95,hd,assd,iou,tp,fp,fn,n_pred,n_ref,rule\n";
  for (auto& c : cases)
    for (size_t k = 0; k < c.class_ids.size(); ++k) {
      const ClassScore& s = c.scores[k];
      // Text fields quoted as RFC 4180 says and kept from running as spreadsheet formulas, though
      // the readers refuse such names already; numbers as they are (-inf stays a number).
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_text(c.case_id), c.class_ids[k],
                         csv_text(class_names[size_t(c.class_ids[k])]), num(s.dsc), num(s.hd95), num(s.hd), num(s.assd),
                         num(s.iou), s.tp, s.fp, s.fn, s.n_pred, s.n_ref, csv_text(s.rule));
    }
  return out;
}

std::string ScoreReport::table() const {
  const auto d = class_mean(&ClassScore::dsc), h = class_mean(&ClassScore::hd95);
  std::string out = fmt::format("{:<20} {:>8} {:>9}\n", "class", "DSC", "HD95");
  for (size_t c = options.include_background ? 0 : 1; c < class_names.size(); ++c)
    out += fmt::format("{:<20} {:>8.4f} {:>9.4f}\n", class_names[c], d[c], h[c]);
  out += fmt::format("{:<20} {:>8.4f} {:>9.4f}\n", "mean", overall(&ClassScore::dsc), overall(&ClassScore::hd95));
  std::map<std::string, int> rules;
  for (auto& c : cases)
    for (auto& s : c.scores) ++rules[s.rule];
  std::string r;
  for (auto& [k, n] : rules) r += fmt::format("{}{} {}", r.empty() ? "" : ", ", n, k);
  out += fmt::format("{} case(s), mode {}, spacing {}; cells by rule: {}\n", cases.size(), score_mode_name(options.mode),
                     options.image_spacing ? "image" : "unit", r);
  if (!kept.empty()) { // as nnU-Net decides its post-processing: per class, on these cases
    const auto post = class_means(kept, class_names.size(), options.mode, &ClassScore::dsc);
    out += "keeping the largest component (--keep-largest):\n";
    for (size_t c = 1; c < class_names.size(); ++c)
      out += fmt::format("{:<20} DSC {:.4f} -> {:.4f}  {}\n", class_names[c], d[c], post[c],
                         post[c] > d[c] ? "helps" : post[c] == d[c] ? "no change" : "hurts");
  }
  return out;
}

} // namespace dlk
