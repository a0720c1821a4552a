// Catch2 main for the unit tests. On a crash it prints a backtrace (Catch's own handler only
// says which test case was running), so a fault on a machine without a debugger can be located.
#define CATCH_CONFIG_RUNNER
#define CATCH_CONFIG_NO_POSIX_SIGNALS
#include <catch2/catch.hpp>

#include <csignal>
#include <execinfo.h>
#include <unistd.h>

namespace {
extern "C" void on_fatal_signal(int sig) {
  static const char msg[] = "\nfatal signal in a unit test; backtrace:\n";
  (void)!write(2, msg, sizeof msg - 1);
  void* frames[64];
  backtrace_symbols_fd(frames, backtrace(frames, 64), 2);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}
} // namespace

int main(int argc, char** argv) {
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, on_fatal_signal);
  return Catch::Session().run(argc, argv);
}
