// Standard input, output and error closed when a tool starts.
#pragma once
#include <cstdint>

namespace dlk {

// Descriptors 0, 1 and 2 closed at start-up would be taken by the first files a tool opens, and
// data meant for a file would go to "stdout". Tools call this first: a closed descriptor is
// replaced (stdin by /dev/null, stdout and stderr by an anonymous file) and remembered.
void ensure_standard_descriptors();
// Throws when stdout was closed when the tool started: an output "-" has nowhere to go.
void check_stdout_open();
// Bytes written to stdout since then when it was closed when the tool started; 0 otherwise.
uint64_t bytes_lost_to_closed_stdout();

} // namespace dlk
