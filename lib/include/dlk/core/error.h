// Errors the library throws. The library never prints or exits: tools catch these,
// print "dlk-TOOL: error: ..." once and map them to an exit status.
#pragma once
#include <stdexcept>
#include <string>

namespace dlk {

// A failure while doing the work (bad file, corrupt data, I/O error): exit status 1.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The command line or configuration is wrong: exit status 2.
class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// "'path': what" — the one way errors name the file they are about.
std::string quoted_path(const std::string& path);
[[noreturn]] void fail(const std::string& path, const std::string& what);
// Rethrows an error about reading `path`, naming the file unless the message already does;
// `context` goes before the message ("checkpoint metadata: ...").
[[noreturn]] void fail_naming(const std::string& path, const Error& e, const std::string& context = {});

} // namespace dlk
