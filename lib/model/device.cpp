#include "dlk/model/device.h"
#include "dlk/core/error.h"

#include <fmt/format.h>
#include <torch/cuda.h>

namespace dlk {

std::string resolve_device(const std::string& device) {
  if (device == "auto") return torch::cuda::is_available() ? "cuda" : "cpu";
  const bool ok = device == "cpu" || device == "cuda" ||
                  (device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
                   device.find_first_not_of("0123456789", 5) == std::string::npos);
  if (!ok) throw UsageError(fmt::format("--device: '{}' (cpu, cuda, cuda:N or auto)", device));
  return device;
}

} // namespace dlk
