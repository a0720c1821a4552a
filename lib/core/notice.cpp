#include "dlk/core/notice.h"

namespace dlk {

namespace {
void (*g_notice)(const std::string&) = nullptr;
} // namespace

void set_notice_hook(void (*hook)(const std::string&)) { g_notice = hook; }
void notice(const std::string& msg) {
  if (g_notice) g_notice(msg);
}

} // namespace dlk
