/* tsbuild-sandbox: runs one build step isolated in new namespaces over an overlay root.
 *
 * The flow, top to bottom (native/README.md lists the same steps):
 *   parse and validate the arguments            (args.c; nothing touched yet)
 *   create the step's cgroup with its limits    (cgroup.c)
 *   clone into new mount, PID, UTS, IPC, cgroup and (--network none) network namespaces,
 *     plus a user namespace when not root
 *   parent: write the id maps, move the child into the cgroup, let it go, then monitor it
 *     (signals, timeout), remove the cgroup and report the outcome
 *   child (PID 1 inside): hostname, loopback, the root filesystem and pivot_root (mount.c),
 *     close inherited fds, chdir, then fork the command and reap until it ends (init.c)
 *   command: new session, rlimits (defaults, then --ulimit), drop to uid/gid and Docker's default capabilities, no_new_privs,
 *     the exact environment, seccomp last (policy.c), execvp
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "cgroup.h"
#include "init.h"
#include "mount.h"
#include "policy.h"
#include "resolve.h"
#include "userns.h"
#include "util.h"

extern char **environ;

struct child {
  struct opts *opts;
  bool rootless;
  bool setgroups_allowed;
  int sync_fd;   /* read end: one byte from the parent once maps and cgroup are in place */
  int report_fd; /* write end, O_CLOEXEC: "setup MSG", "exec ERRNO", "exit N", "signal N" */
};

static void loopback_up(void) {
  cleanup_fd int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
    die_errno("read loopback flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
    die_errno("bring loopback up");
}

/* In the command's process, forked by PID 1: the last steps before COMMAND runs. */
static void exec_command(void *arg) {
  struct child *c = arg;
  struct opts *opts = c->opts;
  if (setsid() < 0)
    die_errno("setsid");
  apply_rlimits(opts->ulimits, opts->n_ulimits);
  drop_privileges(opts->uid, opts->gid, opts->groups, opts->n_groups, c->setgroups_allowed);
  environ = opts->env;
  apply_seccomp();
  execvp(opts->argv[0], opts->argv);
  int err = errno;
  dprintf(STDERR_FILENO, "tsbuild-sandbox: exec %s: %s\n", opts->argv[0], strerror(err));
  dprintf(c->report_fd, "exec %d\n", err);
  _exit(err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

/* What the monitor undoes if it dies: the step (killed with its PID 1) and its cgroup. */
static struct cgroup step_cgroup;
static pid_t step_pid = -1;

static void undo_step(void) {
  if (step_pid > 0) {
    kill(step_pid, SIGKILL);
    waitpid(step_pid, NULL, 0);
  }
  cgroup_remove(&step_cgroup);
}

static _Noreturn void child_main(struct child *c) {
  die_report_fd = c->report_fd;
  die_cleanup = NULL;
  /* If the monitor dies, so does the step (PID 1 takes every process with it). */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  char go;
  if (read(c->sync_fd, &go, 1) != 1)
    _exit(EXIT_SETUP);
  close(c->sync_fd);
  c->setgroups_allowed = go == '1';
  /* The cgroup namespace is rooted at the step's cgroup, which the parent has moved us into. */
  if (unshare(CLONE_NEWCGROUP) < 0)
    die_errno("unshare the cgroup namespace");
  if (sethostname(c->opts->hostname, strlen(c->opts->hostname)) < 0)
    die_errno("--hostname %s", c->opts->hostname);
  if (c->opts->network == NETWORK_NONE)
    loopback_up();
  setup_root(c->opts, c->rootless);
  /* No descriptor of the host reaches the step; only the report pipe stays (O_CLOEXEC). */
  if (c->report_fd > 3)
    close_range(3, (unsigned)c->report_fd - 1, 0);
  close_range((unsigned)c->report_fd + 1, ~0U, 0);
  enter_workdir(c->opts->chdir);
  run_init(exec_command, c, c->report_fd);
}

/* What the step's processes reported through the report pipe. */
struct report {
  char setup[2048]; /* first setup error, "" if none */
  int exec_errno;   /* errno of a failed execvp, 0 if none */
  bool ended;
  bool signaled;
  int value; /* exit status or signal number */
};

static void read_report(int fd, struct report *r) {
  memset(r, 0, sizeof *r);
  char buf[8192];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || (len += (size_t)n) == sizeof buf - 1)
      break;
  }
  buf[len] = '\0';
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "setup ", 6) == 0 && r->setup[0] == '\0')
      snprintf(r->setup, sizeof r->setup, "%s", line + 6);
    else if (sscanf(line, "exec %d", &r->exec_errno) == 1)
      continue;
    else if (sscanf(line, "exit %d", &r->value) == 1)
      r->ended = true;
    else if (sscanf(line, "signal %d", &r->value) == 1)
      r->ended = r->signaled = true;
  }
}

/* Turns what happened into the helper's exit status and the --status-fd line. */
static int conclude(const struct opts *opts, const struct monitor_result *m, const struct report *r,
                    const struct cgroup *cg, char *line, size_t size) {
  bool failed = !r->ended || r->signaled || r->value != 0;
  if (m->timed_out) {
    snprintf(line, size, "timeout %g", opts->timeout_seconds);
    return EXIT_TIMEOUT;
  }
  if (r->setup[0] != '\0') {
    snprintf(line, size, "setup %s", r->setup);
    return EXIT_SETUP;
  }
  if (r->exec_errno != 0) {
    snprintf(line, size, "setup exec %s: %s", opts->argv[0], strerror(r->exec_errno));
    return r->exec_errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
  }
  if (failed && cgroup_oom_killed(cg)) {
    snprintf(line, size, "oom %llu", opts->memory_bytes);
    return EXIT_OOM;
  }
  if (failed && cgroup_pids_refused(cg)) {
    snprintf(line, size, "pids %llu", opts->pids);
    return EXIT_PIDS;
  }
  int signal_number =
      r->ended ? (r->signaled ? r->value : 0) : (WIFSIGNALED(m->wait_status) ? WTERMSIG(m->wait_status) : 0);
  if (signal_number != 0) {
    snprintf(line, size, "signal %d", signal_number);
    return 128 + signal_number;
  }
  if (!r->ended) {
    snprintf(line, size, "setup the sandbox's PID 1 ended without a report (wait status %d)", m->wait_status);
    return EXIT_SETUP;
  }
  snprintf(line, size, "exit %d", r->value);
  return r->value;
}

int main(int argc, char **argv) {
  struct opts opts;
  title_init(argc, argv);
  die_report_fd = scan_status_fd(argc, argv);
  parse_args(argc, argv, &opts);
  if (opts.status_fd >= 0 && fcntl(opts.status_fd, F_SETFD, FD_CLOEXEC) < 0)
    die_errno("--status-fd %d", opts.status_fd);
  /* If tsbuild goes away, stop the step as if it had been interrupted. */
  prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
  bool rootless = geteuid() != 0;

  /* Blocked before clone so that no signal is lost: the monitor reads them from a signalfd,
   * PID 1 with sigwaitinfo. */
  sigset_t set;
  forwarded_signal_set(&set, true);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    die_errno("block signals");

  struct cgroup *cg = &step_cgroup;
  die_cleanup = undo_step;
  cgroup_create(cg, &opts);

  int sync_pipe[2], report_pipe[2];
  if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(report_pipe, O_CLOEXEC) < 0)
    die_errno("pipe");

  unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  if (opts.network == NETWORK_NONE)
    flags |= CLONE_NEWNET;
  if (rootless)
    flags |= CLONE_NEWUSER;
  pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0)
    die_errno("clone into new namespaces%s", rootless ? " (are unprivileged user namespaces allowed?)" : "");
  if (pid == 0) {
    close(sync_pipe[1]);
    close(report_pipe[0]);
    struct child c = {
        .opts = &opts, .rootless = rootless, .sync_fd = sync_pipe[0], .report_fd = report_pipe[1]};
    child_main(&c);
  }

  step_pid = pid;
  close(sync_pipe[0]);
  close(report_pipe[1]);
  bool setgroups_allowed = rootless ? write_id_maps(pid) : true;
  cgroup_enter(cg, pid);
  if (!write_all(sync_pipe[1], setgroups_allowed ? "1" : "0", 1))
    die_errno("start the sandbox");
  close(sync_pipe[1]);

  struct monitor_result m;
  monitor_child(pid, opts.timeout_seconds, &m);
  struct report r;
  read_report(report_pipe[0], &r);
  char line[2200];
  int status = conclude(&opts, &m, &r, cg, line, sizeof line);
  step_pid = -1;
  cgroup_remove(cg);
  if (opts.status_fd >= 0)
    dprintf(opts.status_fd, "%s\n", line);
  return status;
}
