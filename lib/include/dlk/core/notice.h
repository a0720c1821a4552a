// Notices: what the library tells the user that is no error (temporaries of killed runs it
// removed, stray files it leaves alone, a setting a resumed run keeps). The library never prints:
// tools route notices to their log.
#pragma once
#include <string>

namespace dlk {

// Where the library's notices go; tools route it to their log. Default: none.
void set_notice_hook(void (*hook)(const std::string&));
void notice(const std::string& msg);

} // namespace dlk
