/* The step's cgroup: limits for memory, pids and CPU, on cgroup v2 or v1, removed afterwards. */
#ifndef TSBUILD_SANDBOX_CGROUP_H
#define TSBUILD_SANDBOX_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "args.h"

#define CGROUP_MAX_DIRS 4

struct cgroup {
  bool v2;
  int n_dirs;
  char *dirs[CGROUP_MAX_DIRS]; /* one per v1 controller used, or the single v2 dir */
  char *memory_dir;            /* where memory.events / memory.oom_control live */
  char *pids_dir;              /* where pids.events lives */
};

/* Creates the step's cgroup and applies every limit in opts, or dies naming the limit that
 * could not be applied. Does nothing when no limit is asked for. */
void cgroup_create(struct cgroup *cg, const struct opts *opts);
/* Moves pid into the cgroup (before it runs anything). */
void cgroup_enter(const struct cgroup *cg, pid_t pid);
bool cgroup_oom_killed(const struct cgroup *cg);
bool cgroup_pids_refused(const struct cgroup *cg);
/* Removes the cgroup once every process in it is gone. */
void cgroup_remove(struct cgroup *cg);

#endif
