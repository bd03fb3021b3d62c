/* Paths inside the step's root, resolved and created without ever leaving it: openat2 with
 * RESOLVE_IN_ROOT, never string concatenation. */
#ifndef TSBUILD_SANDBOX_RESOLVE_H
#define TSBUILD_SANDBOX_RESOLVE_H

#include <stdbool.h>

/* openat2 confined to `rootfd` (O_CLOEXEC added); -1 with errno on failure. */
int open_in_root(int rootfd, const char *path, int flags);

/* An O_PATH fd of `path` inside the root, creating what is missing (directories, and the last
 * component as an empty file when `file`). Dies on failure. */
int ensure_in_root(int rootfd, const char *path, bool file);

/* chdir to `path` resolved inside the root (symlinks stay inside, no /proc magic links),
 * creating missing directories as Docker's WORKDIR does. */
void enter_workdir(const char *path);

#endif
