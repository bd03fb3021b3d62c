/* The step's root filesystem: overlay (or a plain directory), /proc, /dev, /etc files, the
 * requested mounts, then pivot_root. Runs in the child, inside its new mount namespace. */
#ifndef TSBUILD_SANDBOX_MOUNT_H
#define TSBUILD_SANDBOX_MOUNT_H

#include <stdbool.h>

#include "args.h"

/* Builds the new root and pivots into it; on return "/" is the step's root and the host's
 * root is detached. `rootless` selects overlay's userxattr mode. */
void setup_root(struct opts *opts, bool rootless);

#endif
