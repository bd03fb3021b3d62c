/* The command line, parsed into plain data. Parsing never touches the system. */
#ifndef TSBUILD_SANDBOX_ARGS_H
#define TSBUILD_SANDBOX_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/* overlayfs stacks at most 500 lower layers; the helper's mount-point skeleton is one. */
#define MAX_LOWERS 499

enum mount_kind { MOUNT_BIND, MOUNT_RO_BIND, MOUNT_TMPFS };

/* One --bind, --ro-bind or --tmpfs, in the order given. */
struct mount_op {
  enum mount_kind kind;
  const char *source; /* host path; NULL for tmpfs */
  const char *target; /* absolute path inside the root */
  int source_fd;      /* O_PATH fd of source, opened before the host view goes away */
  bool source_is_dir;
  unsigned long long size; /* tmpfs size limit in bytes; 0 = the kernel's default */
  struct mount_op *next;
};

enum network_mode { NETWORK_NONE, NETWORK_HOST };

/* One --add-host: the line "IP<tab>NAME" appended to the step's /etc/hosts. */
struct extra_host {
  const char *name;
  const char *ip;
};

/* One --ulimit: a resource limit of the command's process, set just before exec. */
struct ulimit_op {
  const char *type; /* Docker's name: nofile, nproc, core, ... */
  int resource;     /* RLIMIT_* */
  rlim_t soft;
  rlim_t hard;
};

struct opts {
  const char **lowers; /* bottom first, as given */
  size_t n_lowers;
  const char *upper;
  const char *work;
  const char *root;
  struct mount_op *mounts;
  const char *hostname;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t n_groups;
  const char *chdir;
  char **env; /* "K=V", NULL-terminated */
  size_t n_env;
  enum network_mode network;
  struct extra_host *extra_hosts; /* in the order given */
  size_t n_extra_hosts;
  unsigned long long shm_size_bytes; /* 0: Docker's default, 64 MiB */
  struct ulimit_op *ulimits;         /* one per type: a later --ulimit of a type replaces it */
  size_t n_ulimits;
  unsigned long long memory_bytes; /* 0: no limit */
  unsigned long long pids;         /* 0: no limit */
  double cpus;                     /* 0: no limit */
  const char *cpuset;              /* NULL: no pinning */
  double timeout_seconds;          /* 0: none */
  int status_fd;                   /* -1: none */
  char **argv;                     /* the command, NULL-terminated */
};

/* The --status-fd value, looked up before parsing so that parse errors are reported there
 * too; -1 when absent or not an open descriptor above 2. */
int scan_status_fd(int argc, char **argv);

/* Parses argv into opts and checks every rule between options; exits 0 for --help and
 * --version, dies with a message naming the option otherwise. */
void parse_args(int argc, char **argv, struct opts *opts);

#endif
