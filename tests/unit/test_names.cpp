// Names from other people's files in the outputs (issue 25, 6 and 8): class and channel names
// follow one documented rule (dlk-shard(5)), CSV fields are quoted as RFC 4180 says and kept
// from running as spreadsheet formulas, Markdown and LaTeX cells show their text, and a score
// file dlk-score could not have written is refused with the JSON path of the bad value. Every
// expected string is written out by hand from those rules.
#include "dlk/core/csv.h"
#include "dlk/core/error.h"
#include "dlk/metrics/score_run.h"
#include "dlk/report/html_report.h"
#include "dlk/report/result_table.h"
#include "dlk/report/score_file.h"
#include "dlk/report/table_text.h"
#include "dlk/shard/dataset.h"
#include "dlk/shard/shard_meta.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace dlk;

namespace {
// The message of the dlk::Error that f throws ("" when none).
template <class F> std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
} // namespace

TEST_CASE("class names: Synapse, ACDC, MSD and AMOS names pass, markup and separators do not", "[names][untrusted]") {
  for (const char* ok : {"background", "kidney_left", "non-enhancing tumor", "RV", "Myo", "LV", "prostate/uterus",
                         "vertebrae_L1", "GTV (primary)", "C1+C2", "v1.2", "a"})
    CHECK(class_name_problem(ok) == "");
  CHECK(class_name_problem(std::string(64, 'x')) == "");
  const std::vector<std::string> bad{"",
                                     "aorta\nliver",
                                     "aorta,liver",
                                     "aorta|liver",
                                     std::string("aorta\0liver", 11),
                                     std::string(5000, 'a'),
                                     std::string(65, 'a'),
                                     "<script>alert(1)</script>",
                                     "=HYPERLINK(\"http://x\",\"y\")",
                                     "+1",
                                     "-x",
                                     "@SUM(A1)",
                                     " liver",
                                     "liver ",
                                     "_x",
                                     "a\"b",
                                     "a\tb",
                                     "tum\xc3\xa9ur"};
  for (const auto& name : bad) {
    const std::string why = class_name_problem(name);
    CHECK(why != "");
    // Shown printably: no control character and no NUL reaches the message.
    for (unsigned char c : why) CHECK((c >= 32 && c < 127));
  }
  CHECK(class_name_problem("a\nb").find("\\x0a") != std::string::npos);
  CHECK(class_name_problem(std::string(5000, 'a')).find("5000 characters") != std::string::npos);
  CHECK(class_name_problem("a|b", "channel name").rfind("channel name 'a|b'", 0) == 0);
  CHECK(names_problem({"background", "liver", "liver"}) == "class name 'liver' appears twice");
  CHECK(names_problem({"CT", "CT"}, "channel name", false) == "");
  CHECK(names_problem({"CT", "C,T"}, "channel name", false) != "");
}

TEST_CASE("class names: shard metadata and dataset.json refuse names that break the rule", "[names][untrusted]") {
  Geometry g;
  g.size = {8, 8, 2};
  auto c = test::make_case("c1", 1, g, 2, true, ImageDType::Float32, true, 1);
  REQUIRE_NOTHROW(ShardMeta::from_json(c.meta.to_json()));
  ShardMeta bad = c.meta;
  bad.classes[1] = "a|b";
  CHECK(error_of([&] { ShardMeta::from_json(bad.to_json()); }).find("classes: class name 'a|b'") != std::string::npos);
  bad = c.meta;
  bad.classes[2] = "a"; // "a" twice: two rows of dlk-score's JSON would share a key
  CHECK(error_of([&] { ShardMeta::from_json(bad.to_json()); }).find("class name 'a' appears twice") != std::string::npos);
  bad = c.meta;
  bad.channels[0] = "t1\nt2";
  CHECK(error_of([&] { ShardMeta::from_json(bad.to_json()); }).find("channels: channel name 't1\\x0at2'") != std::string::npos);

  test::TempDir dir;
  Dataset d = test::sample_dataset({"case0001"});
  d.classes = {"background", "<b>aorta</b>"};
  d.save(dir.path.string()); // the writer trusts its caller; the reader does not
  const std::string why = error_of([&] { Dataset::load(dir.path.string()); });
  CHECK(why.find(dir / "dataset.json") != std::string::npos);
  CHECK(why.find("classes: class name '<b>aorta</b>'") != std::string::npos);
}

TEST_CASE("CSV: RFC 4180 quoting and no spreadsheet formulas", "[names][csv]") {
  CHECK(csv_quote("kidney_left") == "kidney_left");
  CHECK(csv_quote("a,b") == "\"a,b\"");
  CHECK(csv_quote("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_quote("two\nlines") == "\"two\nlines\"");
  CHECK(csv_quote("cr\rhere") == "\"cr\rhere\"");
  CHECK(csv_quote("") == "");
  CHECK(csv_text("liver") == "liver");
  CHECK(csv_text("=1+1") == "'=1+1");
  CHECK(csv_text("+1") == "'+1");
  CHECK(csv_text("-x") == "'-x");
  CHECK(csv_text("@x") == "'@x");
  CHECK(csv_text("\tx") == "'\tx");
  CHECK(csv_text("\rx") == "\"'\rx\"");
  CHECK(csv_text("=HYPERLINK(\"http://x\",\"y\")") == "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  CHECK(csv_text("a=b") == "a=b"); // only a leading character starts a formula
}

TEST_CASE("dlk-score's CSV: names quoted and neutralized, numbers left numbers", "[names][csv]") {
  ScoreReport rep;
  rep.class_names = {"background", "a,b", "=cmd|' /C calc'!A0"};
  CaseScores c;
  c.case_id = "c1";
  c.class_ids = {1, 2};
  ClassScore s1;
  s1.dsc = 0.5;
  s1.hd95 = 2.5;
  s1.hd = 3;
  s1.assd = 1.25;
  s1.iou = 0.25;
  s1.tp = 1, s1.fp = 2, s1.fn = 1, s1.n_pred = 3, s1.n_ref = 2, s1.rule = "both";
  ClassScore s2 = s1;
  s2.hd95 = -1.5; // impossible, but a number: it must not be taken for a formula
  s2.hd = -INFINITY;
  c.scores = {s1, s2};
  rep.cases = {c};
  CHECK(rep.to_csv() == "case,class_id,class,dsc,hd95,hd,assd,iou,tp,fp,fn,n_pred,n_ref,rule\n"
                        "c1,1,\"a,b\",0.5,2.5,3,1.25,0.25,1,2,1,3,2,both\n"
                        "c1,2,'=cmd|' /C calc'!A0,0.5,-1.5,-inf,1.25,0.25,1,2,1,3,2,both\n");
}

TEST_CASE("Markdown cells: one cell, the text shown, no markup", "[names][report]") {
  CHECK(markdown_cell("kidney_left") == "kidney_left");
  CHECK(markdown_cell("a|b") == "a\\|b");
  CHECK(markdown_cell("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;");
  CHECK(markdown_cell("x\ny\rz\t.") == "x y z .");
  CHECK(markdown_cell("**9** & `c` \\") == "\\*\\*9\\*\\* &amp; \\`c\\` \\\\");
  CHECK(markdown_cell("say \"x\"") == "say &quot;x&quot;");
  for (const std::string s : {"a|b", "<b>&amp;</b>", "\\|", "**x**", "say \"x\" 'y'", "plain"})
    CHECK(markdown_cell_text(markdown_cell(s)) == s);
  CHECK(markdown_cell_text("a &lt; b &#39;c&#39; \\_d &unknown;") == "a < b 'c' _d &unknown;");
}

TEST_CASE("LaTeX cells: special characters as commands", "[names][report]") {
  CHECK(latex_text("Kid(L)") == "Kid(L)");
  CHECK(latex_text("50% a_b & c#d {x} $y$") == "50\\% a\\_b \\& c\\#d \\{x\\} \\$y\\$");
  CHECK(latex_text("^~\\") == "\\textasciicircum{}\\textasciitilde{}\\textbackslash{}");
  CHECK(latex_text("a<b>|c\nd") == "a\\textless{}b\\textgreater{}\\textbar{}c d");
}

TEST_CASE("result tables: a hostile method name stays in its cell in Markdown, HTML, CSV and LaTeX", "[names][report]") {
  ResultTable t;
  t.with_cost = false;
  t.add_scores("<b>A|B</b>", json::Value::parse(R"({"class_mean": {"aorta": {"dsc": 0.9, "hd95": 4}}, "mean_dsc": 0.8, "mean_hd95": 4})"),
               NAN, NAN);
  const std::string md = t.render("markdown");
  CHECK(md == "| Method | DSC | HD95 | Aorta |\n"
              "|---|---|---|---|\n"
              "| &lt;b&gt;A\\|B&lt;/b&gt; | **80.00** | **4.00** | **90.00** |\n");
  // The HTML table of that Markdown: four cells a row, the name as text.
  CHECK(markdown_table_html(md, "t.md") == "<table>\n"
                                           "<tr><th>Method</th><th>DSC</th><th>HD95</th><th>Aorta</th></tr>\n"
                                           "<tr><td>&lt;b&gt;A|B&lt;/b&gt;</td><td><b>80.00</b></td><td><b>4.00</b></td><td><b>90.00</b></td></tr>\n"
                                           "</table>\n");
  ResultTable f;
  f.with_cost = false;
  f.add_scores("=cmd|' /C calc'!A0", json::Value::parse(R"({"class_mean": {"aorta": {"dsc": 0.9, "hd95": 4}}, "mean_dsc": 0.8, "mean_hd95": 4})"),
               NAN, NAN);
  CHECK(f.render("csv") == "method,DSC,HD95,Aorta\n'=cmd|' /C calc'!A0,80.00,4.00,90.00\n");
  ResultTable l;
  l.with_cost = false;
  l.add_scores("run_1 & 50%", json::Value::parse(R"({"class_mean": {"aorta": {"dsc": 0.9, "hd95": 4}}, "mean_dsc": 0.8, "mean_hd95": 4})"),
               NAN, NAN);
  CHECK(l.render("latex").find("\nrun\\_1 \\& 50\\% & \\textbf{80.00}") != std::string::npos);
  // A table whose rows have other cell counts than its header is refused: values would shift.
  CHECK(error_of([] { markdown_table_html("| a | b |\n|---|---|\n| 1 | 2 | 3 |\n", "t.md"); }).find("line 3 has 3 cells, the header 2") !=
        std::string::npos);
}

namespace {
// A score file as dlk-score writes one (MONAI's conventions: two classes, one case).
json::Value scores(const std::string& text) { return json::Value::parse(text); }
const char* kScores = R"J({
  "settings": {"mode": "monai", "spacing": "unit (voxels)", "include_background": false, "tool": "dlk-score 0.1.0"},
  "classes": ["background", "aorta", "liver"],
  "class_mean": {"aorta": {"dsc": 0.9, "hd95": 4}, "liver": {"dsc": null, "hd95": "inf"}},
  "mean_dsc": 0.9, "mean_hd95": "inf",
  "cases": [{"case": "c1", "spacing": [1, 1, 2.5], "classes": {
    "aorta": {"dsc": 0.9, "hd95": 4, "hd": 5, "assd": 1.5, "iou": 0.8181818181818182, "tp": 9, "fp": 1, "fn": 1, "n_pred": 10, "n_ref": 10, "rule": "both"},
    "liver": {"dsc": null, "hd95": "inf", "hd": "inf", "assd": "inf", "iou": 0, "tp": 0, "fp": 3, "fn": 0, "n_pred": 3, "n_ref": 0, "rule": "pred-only"}}}],
  "warnings": [],
  "keep_largest": {"aorta": {"dsc": 0.9, "dsc_kept": 0.95, "helps": true}}
})J";
std::string refusal(const std::string& from, const std::string& to) {
  std::string text = kScores;
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return error_of([&] { check_score_json(scores(text)); });
}
} // namespace

TEST_CASE("score files: what dlk-score writes passes, in every mode", "[names][report]") {
  CHECK(error_of([] { check_score_json(scores(kScores)); }) == "");
  // The writer's own output, with the special values of each convention (NaN -> null, inf -> "inf").
  for (ScoreMode mode : {ScoreMode::TransUNet, ScoreMode::Medpy, ScoreMode::Monai, ScoreMode::NnUNet}) {
    ScoreReport rep;
    rep.options.mode = mode;
    rep.class_names = {"background", "kidney_left", "non-enhancing tumor"};
    CaseScores c;
    c.case_id = "case0001";
    c.class_ids = {1, 2};
    ClassScore both, empty;
    both.dsc = 0.75, both.hd95 = 2, both.hd = 3, both.assd = 1, both.iou = 0.6;
    both.tp = 3, both.fp = 1, both.fn = 1, both.n_pred = 4, both.n_ref = 4, both.rule = "both";
    empty.dsc = mode == ScoreMode::NnUNet ? NAN : 0, empty.hd95 = empty.hd = empty.assd = mode == ScoreMode::Monai ? INFINITY : NAN;
    empty.iou = 0, empty.fp = 2, empty.n_pred = 2, empty.rule = "pred-only";
    c.scores = {both, empty};
    rep.cases = {c};
    rep.kept = rep.cases;
    rep.warnings = {"case x: prediction without reference, skipped"};
    const json::Value v = json::Value::parse(rep.to_json().dump(2));
    INFO(v.dump(2));
    CHECK(error_of([&] { check_score_json(v); }) == "");
  }
}

TEST_CASE("score files: impossible values are refused with their JSON path", "[names][report]") {
  CHECK(refusal(R"("aorta": {"dsc": 0.9, "hd95": 4})", R"("aorta": {"dsc": -5, "hd95": 4})") ==
        "class_mean.aorta.dsc: -5 is not a number in [0, 1] or null");
  CHECK(refusal(R"("aorta": {"dsc": 0.9, "hd95": 4})", R"("aorta": {"dsc": "abc", "hd95": 4})") ==
        "class_mean.aorta.dsc: \"abc\" is not a number in [0, 1] or null");
  CHECK(refusal(R"("aorta": {"dsc": 0.9, "hd95": 4})", R"("aorta": {"dsc": 1.5, "hd95": 4})") ==
        "class_mean.aorta.dsc: 1.5 is not a number in [0, 1] or null");
  CHECK(refusal(R"("aorta": {"dsc": 0.9, "hd95": 4})", R"("aorta": {"dsc": 0.9, "hd95": -1})") ==
        "class_mean.aorta.hd95: -1 is not a distance (a finite number >= 0, null or \"inf\")");
  CHECK(refusal(R"("aorta": {"dsc": 0.9, "hd95": 4})", R"("aorta": {"dsc": 0.9, "hd95": "-inf"})") ==
        "class_mean.aorta.hd95: \"-inf\" is not a distance (a finite number >= 0, null or \"inf\")");
  CHECK(refusal(R"("aorta": {"dsc": 0.9, "hd95": 4})", R"("aorta": {"hd95": 4})") == "class_mean.aorta: no \"dsc\"");
  CHECK(refusal(R"("mean_dsc": 0.9)", R"("mean_dsc": -500)") == "mean_dsc: -500 is not a number in [0, 1] or null");
  CHECK(refusal(R"("mean_dsc": 0.9, )", "") == "no \"mean_dsc\"");
  CHECK(refusal(R"("class_mean": {"aorta")", R"("class_mean": {"a|b")").rfind("class_mean: class name 'a|b' may hold only", 0) == 0);
  CHECK(refusal(R"("classes": ["background", "aorta", "liver"])", R"("classes": ["background", "aorta"])") ==
        "class_mean.liver: not one of the classes listed in \"classes\"");
  CHECK(refusal(R"("classes": ["background", "aorta", "liver"])", R"("classes": ["background", "aorta", "liver\n"])")
            .rfind("classes[2]: class name 'liver\\x0a' may hold only", 0) == 0);
  CHECK(refusal(R"("mode": "monai")", R"("mode": "dice")") == "settings.mode: \"dice\" is not a mode (transunet, medpy, monai or nnunet)");
  CHECK(refusal(R"("case": "c1")", R"("case": "../c1")").rfind("cases[0].case: case id '../c1'", 0) == 0);
  CHECK(refusal(R"([1, 1, 2.5])", R"([1, 0, 2.5])") == "cases[0].spacing[1]: 0 is not a spacing (a finite number > 0)");
  CHECK(refusal(R"("tp": 9,)", R"("tp": 9.5,)") == "cases[0].classes.aorta.tp: 9.5 is not a voxel count");
  CHECK(refusal(R"("n_pred": 10,)", R"("n_pred": 11,)") == "cases[0].classes.aorta.n_pred: 11 is not tp + fp = 10");
  CHECK(refusal(R"("rule": "both")", R"("rule": "<b>")") ==
        "cases[0].classes.aorta.rule: \"<b>\" is not a rule (both, pred-only, ref-only or both-empty)");
  CHECK(refusal(R"("iou": 0,)", R"("iou": 2,)") == "cases[0].classes.liver.iou: 2 is not a number in [0, 1] or null");
  CHECK(refusal(R"("helps": true)", R"("helps": "yes")") == "keep_largest.aorta.helps: \"yes\" is not true or false");
  CHECK(refusal(R"("warnings": [])", R"("warnings": [1])") == "warnings[0]: 1 is not a string");
  // The file is named, and the table never sees the value.
  test::TempDir dir;
  std::string text = kScores;
  text.replace(text.find(R"("dsc": 0.9, "hd95": 4})"), 22, R"("dsc": -5, "hd95": 4})");
  test::write_bytes(dir / "scores.json", text);
  const std::string why = error_of([&] { read_score_file(dir / "scores.json"); });
  CHECK(why == "'" + dir / "scores.json" + "': class_mean.aorta.dsc: -5 is not a number in [0, 1] or null");
}

TEST_CASE("score files: \"inf\" reads as infinity, null as NaN", "[names][report]") {
  const json::Value v = scores(kScores);
  CHECK(score_value(v.find("mean_dsc")) == 0.9);
  CHECK(std::isinf(score_value(v.find("mean_hd95"))));
  CHECK(std::isnan(score_value(v.at("class_mean").at("liver").find("dsc"))));
  CHECK(std::isnan(score_value(nullptr)));
}
