/* What the step may do: Docker's default capability set and a seccomp filter in the spirit of
 * Docker's default profile. Both are static tables in policy.c. */
#ifndef TSBUILD_SANDBOX_POLICY_H
#define TSBUILD_SANDBOX_POLICY_H

#include <sys/types.h>

#include "args.h"

/* Switches to uid/gid/groups and leaves only the default capabilities (none for a non-root
 * uid, as Docker does), with no_new_privs set. */
void drop_privileges(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, int setgroups_allowed);
/* Resource limits, so that a step does not inherit whatever the caller's shell had:
 * containerd's open-file default and no core dumps (they would land in the step's layer), then
 * each --ulimit, replacing the default of its type; a limit the kernel refuses is fatal. */
void apply_rlimits(const struct ulimit_op *ulimits, size_t n_ulimits);
/* Installs the seccomp filter: the last step before execve. */
void apply_seccomp(void);

#endif
