#include "dlk/model/model_config.h"
#include "dlk/core/error.h"
#include "dlk/core/json_fields.h"

#include <fmt/format.h>

namespace dlk {

int ModelConfig::depth() const {
  if (variant == "S") return 2;
  if (variant == "M") return 3;
  if (variant == "L") return 4;
  throw UsageError(fmt::format("unknown variant '{}' (S, M or L)", variant));
}

void ModelConfig::validate() const {
  depth();
  auto odd = [](int64_t k) { return k >= 1 && k % 2 == 1 && k <= 31; };
  if (in_channels < 1 || in_channels > 64) throw UsageError(fmt::format("input channels {} (1..64)", in_channels));
  if (classes < 2 || classes > 256) throw UsageError(fmt::format("classes {} (2..256, background included)", classes));
  if (base_channels < 1 || base_channels > 1024) throw UsageError(fmt::format("base channels {} (1..1024)", base_channels));
  if (!odd(dw_kernel)) throw UsageError(fmt::format("depthwise kernel {} (odd, 1..31)", dw_kernel));
  if (!odd(lka_kernel)) throw UsageError(fmt::format("LKA kernel {} (odd, 1..31)", lka_kernel));
  if (!odd(lka_dilated_kernel)) throw UsageError(fmt::format("LKA dilated kernel {} (odd, 1..31)", lka_dilated_kernel));
  if (lka_dilation < 1 || lka_dilation > 16) throw UsageError(fmt::format("LKA dilation {} (1..16)", lka_dilation));
}

namespace {
const json::Fields<ModelConfig>& fields() {
  static const auto f = json::Fields<ModelConfig>("model")
      .add("architecture", [](const ModelConfig&) { return json::Value("DLKUNet"); },
           [](const json::Value& v, ModelConfig&, const char* what) {
             if (v.as_string(what) != "DLKUNet") throw Error("model.architecture is not DLKUNet");
           })
      .add("variant", &ModelConfig::variant)
      .add("in_channels", &ModelConfig::in_channels)
      .add("classes", &ModelConfig::classes)
      .add("base_channels", &ModelConfig::base_channels)
      .add("dw_kernel", &ModelConfig::dw_kernel)
      .add("lka_kernel", &ModelConfig::lka_kernel)
      .add("lka_dilated_kernel", &ModelConfig::lka_dilated_kernel)
      .add("lka_dilation", &ModelConfig::lka_dilation);
  return f;
}
} // namespace

json::Value ModelConfig::to_json() const { return fields().write(*this); }

ModelConfig ModelConfig::from_json(const json::Value& v) {
  ModelConfig c;
  fields().read(v, c);
  try {
    c.validate();
  } catch (const UsageError& e) {
    throw Error(std::string("model: ") + e.what());
  }
  return c;
}

std::string ModelConfig::difference(const ModelConfig& o) const {
  if (variant != o.variant) return fmt::format("variant {} vs {}", variant, o.variant);
  auto num = [](const char* what, int64_t a, int64_t b) {
    return a == b ? std::string() : fmt::format("{} {} vs {}", what, a, b);
  };
  for (auto d : {num("input channels", in_channels, o.in_channels), num("classes", classes, o.classes),
                 num("base channels", base_channels, o.base_channels), num("depthwise kernel", dw_kernel, o.dw_kernel),
                 num("LKA kernel", lka_kernel, o.lka_kernel),
                 num("LKA dilated kernel", lka_dilated_kernel, o.lka_dilated_kernel),
                 num("LKA dilation", lka_dilation, o.lka_dilation)})
    if (!d.empty()) return d;
  return {};
}

} // namespace dlk
