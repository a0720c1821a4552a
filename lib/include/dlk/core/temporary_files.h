// Temporary files beside an output, removed when a signal ends the process and, once their
// process is gone, by the next run that writes into their directory.
#pragma once
#include <string>

namespace dlk {

// Temporary names: "NAME.tmp-HOST-PID-XXXXXX" beside PATH (suffix: "NAME.tmp-HOST-PID-XXXXXX.nii.gz"
// for writers that pick a format by extension). Creates the file (mode 0644 less the umask, as
// for a new file) and returns its descriptor; the name goes to `tmp`. The first time a process
// writes into a directory it removes the temporaries that killed runs on this host left there
// (their process is gone) and reports what it removed through notice() (dlk/core/notice.h).
int create_temporary_beside(const std::string& path, const std::string& suffix, std::string& tmp);
// Registers a temporary for removal if a signal ends the process; returns a slot for unregister.
int register_temporary(const std::string& path);
void unregister_temporary(int slot);
// True for a name create_temporary_beside makes (any host): directory readers skip them.
bool is_temporary_name(const std::string& filename);
// Removes stale temporaries of this host's dead processes from dir (once per directory and process).
void sweep_stale_temporaries(const std::string& dir);

// Removes registered temporary files and re-raises on SIGINT, SIGTERM and SIGHUP.
// Tools call it once at start-up; OutputFile registers its temporary names.
void install_cleanup_signal_handlers();

} // namespace dlk
