// The --device option of the tools that run the network: "auto" (a GPU where LibTorch sees one),
// "cpu", "cuda" or "cuda:N".
#pragma once
#include <string>

namespace dlk {

// "auto" becomes "cuda" or "cpu"; anything but cpu, cuda and cuda:N is a UsageError naming --device.
std::string resolve_device(const std::string& device);
constexpr const char* kDeviceHelp = "cpu, cuda or cuda:N (auto: cuda if present)";

} // namespace dlk
