/* Rootless mode: the user namespace's uid/gid maps, written by the parent for the child. */
#ifndef TSBUILD_SANDBOX_USERNS_H
#define TSBUILD_SANDBOX_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

/* Maps root in the child's user namespace to the calling user, plus the user's subordinate
 * ranges (/etc/subuid, /etc/subgid) through newuidmap/newgidmap when it has them. Returns
 * whether setgroups(2) is allowed inside (not with a single-id mapping). */
bool write_id_maps(pid_t child);

#endif
