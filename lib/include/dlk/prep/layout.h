// Raw dataset layouts (synapse, acdc, nnunet) and split lists: the cases dlk-prep reads.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace dlk {

struct CaseInput {
  std::string id;
  std::string group; // what a split list may name instead of the id (ACDC: the patient)
  std::vector<std::string> images; // one per channel
  std::string label;               // empty: unlabelled
  std::string split = "train";
};

// Raw dataset layouts (see dlk-prep(1)):
//  synapse: img/imgNNNN.nii.gz + label/labelNNNN.nii.gz (or RawData/Training/...), ids caseNNNN
//  acdc:    patientNNN/patientNNN_frameFF.nii.gz + _gt, ED/ES from Info.cfg, ids patientNNN_ED/_ES
//  nnunet:  imagesTr/CASE_0000.nii.gz (+_0001...), labelsTr/CASE.nii.gz, imagesTs/ (test), dataset.json
struct Layout {
  std::vector<CaseInput> cases;
  std::vector<std::string> channels; // when the layout says (nnU-Net dataset.json)
  std::vector<std::string> classes;
};
Layout discover_cases(const std::string& layout, const std::string& dir);

// A split list: one "ID SPLIT" per line (SPLIT: train, val or test; '#' comments). IDs are
// matched against a case's id, then its group.
using SplitList = std::map<std::string, std::string>;
SplitList read_split_list(const std::string& path);
// Applies the list: sets each case's split and drops (returning their ids) cases it omits.
std::vector<std::string> apply_split_list(std::vector<CaseInput>& cases, const SplitList& list,
                                          const std::string& path);
bool valid_split_name(const std::string& s);

} // namespace dlk
