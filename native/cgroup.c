#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#define CPU_PERIOD_US 100000

/* Our own cgroup path for `controller` ("" = the v2 line) from /proc/self/cgroup. */
static char *own_cgroup_path(const char *controller) {
  cleanup_free char *text = read_file_at(AT_FDCWD, "/proc/self/cgroup");
  if (text == NULL)
    die_errno("read /proc/self/cgroup");
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    char *list = strchr(line, ':');
    char *path = list ? strchr(list + 1, ':') : NULL;
    if (path == NULL)
      continue;
    *path++ = '\0';
    list++;
    if (controller[0] == '\0' ? list[0] == '\0' : false)
      return xstrdup(path);
    char *save2 = NULL;
    for (char *c = strtok_r(list, ",", &save2); c != NULL && controller[0] != '\0';
         c = strtok_r(NULL, ",", &save2))
      if (strcmp(c, controller) == 0)
        return xstrdup(path);
  }
  return NULL;
}

static void set_knob(const char *dir, const char *knob, const char *value, const char *option) {
  cleanup_free char *path = xasprintf("%s/%s", dir, knob);
  if (!write_file_at(AT_FDCWD, path, value))
    die_errno("cannot apply %s: write '%s' to %s", option, value, path);
}

static char *make_dir(struct cgroup *cg, const char *base, const char *option) {
  char *dir = xasprintf("%s/tsbuild-sandbox-%d", base, (int)getpid());
  if (mkdir(dir, 0755) < 0)
    die_errno("cannot apply %s: create cgroup %s%s", option, dir,
              geteuid() != 0 ? " (rootless: the cgroup tree is not delegated to this user)" : "");
  cg->dirs[cg->n_dirs++] = dir;
  return dir;
}

static char *v1_dir(struct cgroup *cg, const char *controller, const char *option) {
  cleanup_free char *own = own_cgroup_path(controller);
  if (own == NULL)
    die("cannot apply %s: no cgroup v1 '%s' controller on this machine", option, controller);
  cleanup_free char *base = xasprintf("%s/%s%s", CGROUP_ROOT, controller, own);
  return make_dir(cg, base, option);
}

static void create_v1(struct cgroup *cg, const struct opts *opts) {
  if (opts->memory_bytes > 0) {
    char *dir = v1_dir(cg, "memory", "--memory");
    cleanup_free char *value = xasprintf("%llu", opts->memory_bytes);
    set_knob(dir, "memory.limit_in_bytes", value, "--memory");
    cleanup_free char *memsw = xasprintf("%s/memory.memsw.limit_in_bytes", dir);
    if (access(memsw, F_OK) == 0)
      set_knob(dir, "memory.memsw.limit_in_bytes", value, "--memory");
    set_knob(dir, "memory.swappiness", "0", "--memory");
    cg->memory_dir = dir;
  }
  if (opts->pids > 0) {
    char *dir = v1_dir(cg, "pids", "--pids");
    cleanup_free char *value = xasprintf("%llu", opts->pids);
    set_knob(dir, "pids.max", value, "--pids");
    cg->pids_dir = dir;
  }
  if (opts->cpus > 0) {
    char *dir = v1_dir(cg, "cpu", "--cpus");
    cleanup_free char *quota = xasprintf("%lld", (long long)(opts->cpus * CPU_PERIOD_US));
    set_knob(dir, "cpu.cfs_period_us", "100000", "--cpus");
    set_knob(dir, "cpu.cfs_quota_us", quota, "--cpus");
  }
  if (opts->cpuset != NULL) {
    char *dir = v1_dir(cg, "cpuset", "--cpuset");
    /* A v1 cpuset takes no task until both cpus and mems are set; mems come from the parent. */
    cleanup_free char *parent_mems_path = xasprintf("%s/../cpuset.mems", dir);
    cleanup_free char *mems = read_file_at(AT_FDCWD, parent_mems_path);
    if (mems == NULL)
      die_errno("cannot apply --cpuset: read %s", parent_mems_path);
    set_knob(dir, "cpuset.mems", mems, "--cpuset");
    set_knob(dir, "cpuset.cpus", opts->cpuset, "--cpuset");
  }
}

/* Enables in `dir`'s cgroup.subtree_control the controllers the limits need. */
static void enable_controllers(const char *dir, const struct opts *opts) {
  cleanup_free char *subtree = xasprintf("%s/cgroup.subtree_control", dir);
  const char *wanted[][2] = {
      {"+memory", "--memory"}, {"+pids", "--pids"}, {"+cpu", "--cpus"}, {"+cpuset", "--cpuset"}};
  bool asked[] = {opts->memory_bytes > 0, opts->pids > 0, opts->cpus > 0, opts->cpuset != NULL};
  for (size_t i = 0; i < 4; i++)
    if (asked[i] && !write_file_at(AT_FDCWD, subtree, wanted[i][0]))
      die_errno("cannot apply %s: enable the %s controller in %s", wanted[i][1], wanted[i][0] + 1, subtree);
}

/* Where step cgroups go on v2. As root: /sys/fs/cgroup/tsbuild, a parent without processes of
 * its own, because a cgroup holding processes (ours usually holds tsbuild too) may not enable
 * controllers for its children. Rootless: our own cgroup, which must be delegated to the user. */
static char *v2_parent(const struct opts *opts) {
  if (geteuid() == 0) {
    enable_controllers(CGROUP_ROOT, opts);
    char *base = xstrdup(CGROUP_ROOT "/tsbuild");
    if (mkdir(base, 0755) < 0 && errno != EEXIST)
      die_errno("cannot apply limits: create %s", base);
    enable_controllers(base, opts);
    return base;
  }
  cleanup_free char *own = own_cgroup_path("");
  if (own == NULL)
    die("cannot apply limits: no cgroup v2 entry in /proc/self/cgroup");
  char *base = xasprintf("%s%s", CGROUP_ROOT, own);
  enable_controllers(base, opts);
  return base;
}

static void create_v2(struct cgroup *cg, const struct opts *opts) {
  cleanup_free char *base = v2_parent(opts);
  char *dir = make_dir(cg, base, "limits");
  if (opts->memory_bytes > 0) {
    cleanup_free char *value = xasprintf("%llu", opts->memory_bytes);
    set_knob(dir, "memory.max", value, "--memory");
    cleanup_free char *swap = xasprintf("%s/memory.swap.max", dir);
    if (access(swap, F_OK) == 0)
      set_knob(dir, "memory.swap.max", "0", "--memory");
    cg->memory_dir = dir;
  }
  if (opts->pids > 0) {
    cleanup_free char *value = xasprintf("%llu", opts->pids);
    set_knob(dir, "pids.max", value, "--pids");
    cg->pids_dir = dir;
  }
  if (opts->cpus > 0) {
    cleanup_free char *value = xasprintf("%lld %d", (long long)(opts->cpus * CPU_PERIOD_US), CPU_PERIOD_US);
    set_knob(dir, "cpu.max", value, "--cpus");
  }
  if (opts->cpuset != NULL)
    set_knob(dir, "cpuset.cpus", opts->cpuset, "--cpuset");
}

void cgroup_create(struct cgroup *cg, const struct opts *opts) {
  memset(cg, 0, sizeof *cg);
  if (opts->memory_bytes == 0 && opts->pids == 0 && opts->cpus == 0 && opts->cpuset == NULL)
    return;
  struct statfs fs;
  if (statfs(CGROUP_ROOT, &fs) < 0)
    die_errno("cannot apply limits: %s", CGROUP_ROOT);
  cg->v2 = fs.f_type == CGROUP2_SUPER_MAGIC;
  if (cg->v2)
    create_v2(cg, opts);
  else
    create_v1(cg, opts);
}

void cgroup_enter(const struct cgroup *cg, pid_t pid) {
  char value[32];
  snprintf(value, sizeof value, "%d", (int)pid);
  for (int i = 0; i < cg->n_dirs; i++)
    set_knob(cg->dirs[i], "cgroup.procs", value, "limits");
}

/* The number after `key` in a "key value" lines file, 0 when absent. */
static unsigned long long read_counter(const char *dir, const char *file, const char *key) {
  if (dir == NULL)
    return 0;
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  cleanup_free char *text = read_file_at(AT_FDCWD, path);
  if (text == NULL)
    return 0;
  size_t keylen = strlen(key);
  for (char *line = text; line != NULL && *line != '\0';) {
    if (strncmp(line, key, keylen) == 0 && line[keylen] == ' ')
      return strtoull(line + keylen + 1, NULL, 10);
    line = strchr(line, '\n');
    if (line != NULL)
      line++;
  }
  return 0;
}

bool cgroup_oom_killed(const struct cgroup *cg) {
  return read_counter(cg->memory_dir, cg->v2 ? "memory.events" : "memory.oom_control", "oom_kill") > 0;
}

bool cgroup_pids_refused(const struct cgroup *cg) {
  return read_counter(cg->pids_dir, "pids.events", "max") > 0;
}

/* SIGKILLs every process still listed in the cgroup: a straggler must not keep it alive. */
static void kill_members(const char *dir) {
  cleanup_free char *procs = xasprintf("%s/cgroup.procs", dir);
  cleanup_free char *text = read_file_at(AT_FDCWD, procs);
  if (text == NULL)
    return;
  for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    pid_t pid = (pid_t)strtol(line, NULL, 10);
    if (pid > 0)
      kill(pid, SIGKILL);
  }
}

void cgroup_remove(struct cgroup *cg) {
  for (int i = cg->n_dirs; i-- > 0;) {
    /* The last processes of the step may still be leaving the cgroup; on a loaded machine that
     * can take seconds, so stragglers are killed again now and then, for up to 10 s. */
    for (int attempt = 0; rmdir(cg->dirs[i]) < 0; attempt++) {
      int error = errno;
      if (error != EBUSY || attempt == 2000) {
        warnx_("could not remove cgroup %s: %s", cg->dirs[i], strerror(error));
        break;
      }
      if (attempt % 50 == 49)
        kill_members(cg->dirs[i]);
      nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
    }
    free(cg->dirs[i]);
  }
  cg->n_dirs = 0;
}
