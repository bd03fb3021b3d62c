#include "args.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define SANDBOX_VERSION "0.1.0"

static const char usage_text[] =
    "usage: tsbuild-sandbox [OPTION...] -- COMMAND [ARG...]\n"
    "Runs COMMAND isolated in new namespaces over an overlay root (see native/README.md).\n"
    "\n"
    "Root filesystem:\n"
    "  --lower DIR          overlay lower dir, repeatable, bottom first\n"
    "  --upper DIR          overlay upper dir: receives every change the command makes\n"
    "  --work DIR           overlay work dir (same filesystem as --upper, empty)\n"
    "  --root DIR           use DIR itself as a writable root instead of an overlay\n"
    "  --bind SRC DST       bind-mount host path SRC at DST inside the root\n"
    "  --ro-bind SRC DST    the same, read-only\n"
    "  --tmpfs DST          mount an empty tmpfs at DST\n"
    "  --size BYTES         size limit of the next --tmpfs (as bubblewrap's --size)\n"
    "  --add-host NAME IP   add the line 'IP NAME' to /etc/hosts (repeatable)\n"
    "  --shm-size BYTES     size of the /dev/shm tmpfs (default: 64 MiB, as Docker)\n"
    "Process:\n"
    "  --hostname NAME      hostname inside (default: tsbuild)\n"
    "  --uid N --gid N      user and group the command runs as (default: 0 0)\n"
    "  --groups A,B         supplementary groups (default: none)\n"
    "  --chdir DIR          working directory, created if missing (default: /)\n"
    "  --setenv KEY VALUE   set an environment variable; nothing else is inherited\n"
    "  --env-fd FD          read more variables from FD: NUL-terminated KEY=VALUE entries\n"
    "  --network none|host  none: own namespace with loopback only (default); host: share\n"
    "Limits (each one is applied or the helper fails):\n"
    "  --memory BYTES       memory limit (cgroup), swap included\n"
    "  --pids N             maximum number of processes (cgroup)\n"
    "  --cpus N             CPU time, in CPUs (cgroup quota), e.g. 1.5\n"
    "  --cpuset LIST        pin to these CPUs, e.g. 0-1,3 (cgroup)\n"
    "  --timeout SECONDS    kill every process of the step after SECONDS\n"
    "  --ulimit TYPE SOFT HARD  resource limit of the command (setrlimit), TYPE as Docker's\n"
    "                       --ulimit (nofile, nproc, core, ...), SOFT and HARD a number or\n"
    "                       'unlimited'; repeatable\n"
    "Reporting:\n"
    "  --status-fd FD       write one final status line to FD (see README)\n"
    "  --help, --version\n"
    "\n"
    "Exit status: the command's own, 128+N for signal N, 126 cannot execute, 127 not found,\n"
    "250 setup failed, 251 timeout, 252 memory limit, 253 pids limit.\n";

static const char *need_value(int argc, char **argv, int i, int count) {
  if (i + count >= argc)
    die("%s needs %d argument%s (try --help)", argv[i], count, count > 1 ? "s" : "");
  return argv[i + 1];
}

static unsigned long long parse_count(const char *option, const char *text) {
  char *end = NULL;
  errno = 0;
  if (text[0] == '-' || text[0] == '\0')
    die("%s: '%s' is not a positive whole number", option, text);
  unsigned long long value = strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || value == 0)
    die("%s: '%s' is not a positive whole number", option, text);
  return value;
}

static unsigned long parse_id(const char *option, const char *text) {
  char *end = NULL;
  errno = 0;
  if (text[0] == '-' || text[0] == '\0')
    die("%s: '%s' is not a numeric id", option, text);
  unsigned long value = strtoul(text, &end, 10);
  if (errno != 0 || *end != '\0' || value >= UINT_MAX)
    die("%s: '%s' is not a numeric id", option, text);
  return value;
}

static double parse_positive(const char *option, const char *text) {
  char *end = NULL;
  errno = 0;
  double value = strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(value > 0) || value > 1e9)
    die("%s: '%s' is not a positive number", option, text);
  return value;
}

/* Docker's --ulimit types (go-units), plus "as", which a limit set just before exec can use. */
static const struct {
  const char *type;
  int resource;
} ulimit_types[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},       {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},   {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

static int ulimit_resource(const char *type) {
  for (size_t i = 0; i < sizeof ulimit_types / sizeof ulimit_types[0]; i++)
    if (strcmp(ulimit_types[i].type, type) == 0)
      return ulimit_types[i].resource;
  die("--ulimit: '%s' is not a limit type (nofile, nproc, core, cpu, data, fsize, locks, memlock, "
      "msgqueue, nice, rss, rtprio, rttime, sigpending, stack, as)",
      type);
}

/* A limit value: a whole number (0 included) or "unlimited". */
static rlim_t parse_rlim(const char *type, const char *text) {
  if (strcmp(text, "unlimited") == 0)
    return RLIM_INFINITY;
  char *end = NULL;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0' || value >= RLIM_INFINITY)
    die("--ulimit %s: '%s' is not a whole number or 'unlimited'", type, text);
  return (rlim_t)value;
}

/* A later --ulimit of a type replaces the earlier one: setting both in turn could lower the
 * hard limit below the later one, which only root could raise again. */
static void add_ulimit(struct opts *opts, const char *type, const char *soft, const char *hard) {
  struct ulimit_op limit = {
      .type = type, .resource = ulimit_resource(type), .soft = parse_rlim(type, soft), .hard = parse_rlim(type, hard)};
  for (size_t i = 0; i < opts->n_ulimits; i++)
    if (opts->ulimits[i].resource == limit.resource) {
      opts->ulimits[i] = limit;
      return;
    }
  opts->ulimits = xrealloc(opts->ulimits, (opts->n_ulimits + 1) * sizeof *opts->ulimits);
  opts->ulimits[opts->n_ulimits++] = limit;
}

static void add_extra_host(struct opts *opts, const char *name, const char *ip) {
  opts->extra_hosts = xrealloc(opts->extra_hosts, (opts->n_extra_hosts + 1) * sizeof *opts->extra_hosts);
  opts->extra_hosts[opts->n_extra_hosts++] = (struct extra_host){.name = name, .ip = ip};
}

static void parse_groups(struct opts *opts, const char *text) {
  cleanup_free char *copy = xstrdup(text);
  opts->n_groups = 0;
  free(opts->groups);
  opts->groups = xcalloc(strlen(text) / 2 + 1, sizeof(gid_t));
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
    opts->groups[opts->n_groups++] = (gid_t)parse_id("--groups", tok);
}

static struct mount_op *add_mount(struct opts *opts, struct mount_op ***tail, enum mount_kind kind,
                                  const char *source, const char *target) {
  struct mount_op *op = xcalloc(1, sizeof *op);
  op->kind = kind;
  op->source = source;
  op->target = target;
  op->source_fd = -1;
  **tail = op;
  *tail = &op->next;
  (void)opts;
  return op;
}

static void add_env(struct opts *opts, const char *key, const char *value) {
  if (key[0] == '\0' || strchr(key, '=') != NULL)
    die("--setenv: '%s' is not a valid variable name", key);
  opts->env = xrealloc(opts->env, (opts->n_env + 2) * sizeof(char *));
  opts->env[opts->n_env++] = xasprintf("%s=%s", key, value);
  opts->env[opts->n_env] = NULL;
}

/* --env-fd: NUL-separated KEY=VALUE entries read from a descriptor until EOF, so that values
 * (secrets given as environment variables) never show in the host's /proc/PID/cmdline. */
static void add_env_from_fd(struct opts *opts, const char *value) {
  char *end = NULL;
  long fd = strtol(value, &end, 10);
  if (*end != '\0' || fd < 3 || fd > INT_MAX)
    die("--env-fd: '%s' is not a descriptor above stderr", value);
  size_t size = 0, cap = 4096;
  char *data = xmalloc(cap);
  for (;;) {
    if (size == cap)
      data = xrealloc(data, cap *= 2);
    ssize_t n = read((int)fd, data + size, cap - size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      die_errno("--env-fd %ld: read", fd);
    if (n == 0)
      break;
    size += (size_t)n;
  }
  close((int)fd);
  for (size_t start = 0; start < size;) {
    size_t len = strnlen(data + start, size - start);
    if (start + len == size)
      die("--env-fd: the last entry is not NUL-terminated");
    char *entry = data + start;
    char *eq = strchr(entry, '=');
    if (eq == NULL)
      die("--env-fd: '%s' is not KEY=VALUE", entry);
    *eq = '\0';
    add_env(opts, entry, eq + 1);
    start += len + 1;
  }
  free(data);
}

/* Paths inside the root are absolute and normalised: no "." or ".." components, so a path
 * means one thing before and after it is resolved inside the root. */
static void check_absolute(const char *option, const char *path) {
  if (path[0] != '/')
    die("%s: '%s' must be an absolute path inside the root", option, path);
  cleanup_free char *copy = xstrdup(path);
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save))
    if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0)
      die("%s: '%s' must not contain '.' or '..' components", option, path);
}

/* A name /etc/hosts can hold as one field: letters, digits, '-', '_' and '.', not starting
 * with '-' or '.', so that no --add-host can add a field, a comment or a line to the file. */
static void check_host_name(const char *name) {
  static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
  size_t len = strlen(name);
  if (len == 0 || len > 253 || name[0] == '-' || name[0] == '.' || strspn(name, allowed) != len)
    die("--add-host: '%s' is not a host name (letters, digits, '-', '_' and '.')", name);
}

static void check_ip_address(const char *name, const char *ip) {
  unsigned char address[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, ip, address) != 1 && inet_pton(AF_INET6, ip, address) != 1)
    die("--add-host %s: '%s' is not an IPv4 or IPv6 address", name, ip);
}

/* Every rule between options, before anything touches the system. */
static void validate(struct opts *opts) {
  if (opts->argv == NULL || opts->argv[0] == NULL)
    die("no command given (usage: tsbuild-sandbox [OPTION...] -- COMMAND [ARG...])");
  if (opts->root != NULL && (opts->n_lowers > 0 || opts->upper != NULL || opts->work != NULL))
    die("--root cannot be combined with --lower, --upper or --work");
  if (opts->root == NULL && (opts->upper == NULL || opts->work == NULL))
    die("the root needs --upper DIR and --work DIR (with --lower DIR...), or --root DIR");
  if (opts->n_lowers > MAX_LOWERS)
    die("%zu --lower dirs given; at most %d (overlayfs stacks 500 layers, one is the helper's)",
        opts->n_lowers, MAX_LOWERS);
  if (opts->hostname != NULL && (strlen(opts->hostname) == 0 || strlen(opts->hostname) > 64))
    die("--hostname: '%s' must be 1 to 64 characters", opts->hostname);
  if (opts->chdir != NULL)
    check_absolute("--chdir", opts->chdir);
  for (struct mount_op *op = opts->mounts; op != NULL; op = op->next) {
    check_absolute(op->kind == MOUNT_TMPFS ? "--tmpfs" : "--bind", op->target);
    if (strcmp(op->target, "/") == 0)
      die("a mount cannot replace the root itself ('%s')", op->target);
  }
  if (opts->status_fd >= 0 && opts->status_fd <= 2)
    die("--status-fd %d: use a descriptor above 2", opts->status_fd);
  if (opts->status_fd >= 0 && fcntl(opts->status_fd, F_GETFD) < 0)
    die("--status-fd %d is not an open descriptor", opts->status_fd);
  if (opts->cpuset != NULL &&
      (opts->cpuset[0] == '\0' || strspn(opts->cpuset, "0123456789,-") != strlen(opts->cpuset)))
    die("--cpuset: '%s' is not a CPU list such as 0-1,3", opts->cpuset);
  for (size_t i = 0; i < opts->n_extra_hosts; i++) {
    check_host_name(opts->extra_hosts[i].name);
    check_ip_address(opts->extra_hosts[i].name, opts->extra_hosts[i].ip);
  }
  for (size_t i = 0; i < opts->n_ulimits; i++)
    if (opts->ulimits[i].soft > opts->ulimits[i].hard)
      die("--ulimit %s: the soft limit is above the hard limit", opts->ulimits[i].type);
}

int scan_status_fd(int argc, char **argv) {
  for (int i = 1; i + 1 < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--status-fd") != 0)
      continue;
    char *end = NULL;
    long fd = strtol(argv[i + 1], &end, 10);
    if (*end == '\0' && fd > 2 && fd < INT_MAX && fcntl((int)fd, F_GETFD) >= 0)
      return (int)fd;
  }
  return -1;
}

void parse_args(int argc, char **argv, struct opts *opts) {
  memset(opts, 0, sizeof *opts);
  opts->status_fd = -1;
  opts->env = xcalloc(1, sizeof(char *));
  struct mount_op **tail = &opts->mounts;
  unsigned long long next_tmpfs_size = 0;

  int i = 1;
  for (; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--") == 0) {
      i++;
      break;
    } else if (strcmp(arg, "--help") == 0) {
      fputs(usage_text, stdout);
      exit(0);
    } else if (strcmp(arg, "--version") == 0) {
      puts("tsbuild-sandbox " SANDBOX_VERSION);
      exit(0);
    } else if (strcmp(arg, "--lower") == 0) {
      opts->lowers = xrealloc(opts->lowers, (opts->n_lowers + 1) * sizeof(char *));
      opts->lowers[opts->n_lowers++] = need_value(argc, argv, i++, 1);
    } else if (strcmp(arg, "--upper") == 0) {
      opts->upper = need_value(argc, argv, i++, 1);
    } else if (strcmp(arg, "--work") == 0) {
      opts->work = need_value(argc, argv, i++, 1);
    } else if (strcmp(arg, "--root") == 0) {
      opts->root = need_value(argc, argv, i++, 1);
    } else if (strcmp(arg, "--bind") == 0 || strcmp(arg, "--ro-bind") == 0) {
      need_value(argc, argv, i, 2);
      add_mount(opts, &tail, arg[2] == 'r' ? MOUNT_RO_BIND : MOUNT_BIND, argv[i + 1], argv[i + 2]);
      i += 2;
    } else if (strcmp(arg, "--tmpfs") == 0) {
      add_mount(opts, &tail, MOUNT_TMPFS, NULL, need_value(argc, argv, i++, 1))->size = next_tmpfs_size;
      next_tmpfs_size = 0;
    } else if (strcmp(arg, "--size") == 0) {
      next_tmpfs_size = parse_count(arg, need_value(argc, argv, i++, 1));
    } else if (strcmp(arg, "--add-host") == 0) {
      need_value(argc, argv, i, 2);
      add_extra_host(opts, argv[i + 1], argv[i + 2]);
      i += 2;
    } else if (strcmp(arg, "--shm-size") == 0) {
      opts->shm_size_bytes = parse_count(arg, need_value(argc, argv, i++, 1));
    } else if (strcmp(arg, "--hostname") == 0) {
      opts->hostname = need_value(argc, argv, i++, 1);
    } else if (strcmp(arg, "--uid") == 0) {
      opts->uid = (uid_t)parse_id(arg, need_value(argc, argv, i++, 1));
    } else if (strcmp(arg, "--gid") == 0) {
      opts->gid = (gid_t)parse_id(arg, need_value(argc, argv, i++, 1));
    } else if (strcmp(arg, "--groups") == 0) {
      parse_groups(opts, need_value(argc, argv, i++, 1));
    } else if (strcmp(arg, "--chdir") == 0) {
      opts->chdir = need_value(argc, argv, i++, 1);
    } else if (strcmp(arg, "--env-fd") == 0) {
      add_env_from_fd(opts, need_value(argc, argv, i++, 1));
    } else if (strcmp(arg, "--setenv") == 0) {
      need_value(argc, argv, i, 2);
      add_env(opts, argv[i + 1], argv[i + 2]);
      i += 2;
    } else if (strcmp(arg, "--network") == 0) {
      const char *mode = need_value(argc, argv, i++, 1);
      if (strcmp(mode, "none") == 0)
        opts->network = NETWORK_NONE;
      else if (strcmp(mode, "host") == 0)
        opts->network = NETWORK_HOST;
      else
        die("--network: '%s' is not one of none, host", mode);
    } else if (strcmp(arg, "--memory") == 0) {
      opts->memory_bytes = parse_count(arg, need_value(argc, argv, i++, 1));
    } else if (strcmp(arg, "--pids") == 0) {
      opts->pids = parse_count(arg, need_value(argc, argv, i++, 1));
    } else if (strcmp(arg, "--cpus") == 0) {
      opts->cpus = parse_positive(arg, need_value(argc, argv, i++, 1));
    } else if (strcmp(arg, "--cpuset") == 0) {
      opts->cpuset = need_value(argc, argv, i++, 1);
    } else if (strcmp(arg, "--timeout") == 0) {
      opts->timeout_seconds = parse_positive(arg, need_value(argc, argv, i++, 1));
    } else if (strcmp(arg, "--ulimit") == 0) {
      need_value(argc, argv, i, 3);
      add_ulimit(opts, argv[i + 1], argv[i + 2], argv[i + 3]);
      i += 3;
    } else if (strcmp(arg, "--status-fd") == 0) {
      opts->status_fd = (int)parse_id(arg, need_value(argc, argv, i++, 1));
    } else {
      die("unknown option '%s' (try --help; put the command after --)", arg);
    }
  }
  if (next_tmpfs_size != 0)
    die("--size must come before the --tmpfs it limits");
  opts->argv = argv + i;
  if (opts->hostname == NULL)
    opts->hostname = "tsbuild";
  if (opts->chdir == NULL)
    opts->chdir = "/";
  validate(opts);
}
