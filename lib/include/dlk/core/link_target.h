// Symbolic links as outputs.
#pragma once
#include <string>

namespace dlk {

// Where an output to PATH goes: PATH, or the file it names when it is a symbolic link (outputs
// replace a link's target, never the link itself).
std::string link_target(const std::string& path);

} // namespace dlk
