#include "init.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
const size_t n_forwarded_signals = sizeof forwarded_signals / sizeof forwarded_signals[0];

/* After a forwarded SIGINT/SIGTERM, how long the step may take to stop on its own: an
 * aborted build must be gone within a second. */
#define KILL_GRACE_SECONDS 0.5

void forwarded_signal_set(sigset_t *set, bool with_sigchld) {
  sigemptyset(set);
  for (size_t i = 0; i < n_forwarded_signals; i++)
    sigaddset(set, forwarded_signals[i]);
  if (with_sigchld)
    sigaddset(set, SIGCHLD);
}

_Noreturn void run_init(void (*exec_command)(void *), void *arg, int report_fd) {
  sigset_t set;
  forwarded_signal_set(&set, true);
  /* The signals stay blocked (the monitor blocked them before clone) and are taken with
   * sigwaitinfo, so none is lost between fork and the loop. */
  pid_t command = fork();
  if (command < 0)
    die_errno("fork the command");
  if (command == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    exec_command(arg);
    _exit(EXIT_SETUP);
  }
  /* Nothing may read this process's memory or /proc/1/exe (the helper binary) from inside,
   * and its command line no longer names host paths. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  title_set("tsbuild-init");
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0)
      continue;
    if (sig != SIGCHLD) {
      kill(command, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != command)
        continue;
      if (WIFSIGNALED(status)) {
        dprintf(report_fd, "signal %d\n", WTERMSIG(status));
        _exit(128 + WTERMSIG(status));
      }
      dprintf(report_fd, "exit %d\n", WEXITSTATUS(status));
      _exit(WEXITSTATUS(status));
    }
  }
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int poll_timeout_ms(double deadline, double kill_deadline) {
  double next = deadline;
  if (kill_deadline > 0 && (next == 0 || kill_deadline < next))
    next = kill_deadline;
  if (next == 0)
    return -1;
  double left = next - now_seconds();
  return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

void monitor_child(pid_t child, double timeout_seconds, struct monitor_result *result) {
  memset(result, 0, sizeof *result);
  sigset_t set;
  forwarded_signal_set(&set, true);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0)
    die_errno("signalfd");
  double deadline = timeout_seconds > 0 ? now_seconds() + timeout_seconds : 0;
  double kill_deadline = 0;
  for (;;) {
    int status;
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) {
      result->wait_status = status;
      break;
    }
    struct pollfd pfd = {.fd = sfd, .events = POLLIN};
    int ready = poll(&pfd, 1, poll_timeout_ms(deadline, kill_deadline));
    if (ready < 0 && errno != EINTR)
      die_errno("poll");
    double now = now_seconds();
    if (deadline > 0 && now >= deadline && !result->timed_out) {
      result->timed_out = true;
      kill(child, SIGKILL);
    }
    if (kill_deadline > 0 && now >= kill_deadline) {
      kill(child, SIGKILL);
      kill_deadline = 0;
    }
    if (ready <= 0)
      continue;
    struct signalfd_siginfo info;
    if (read(sfd, &info, sizeof info) != sizeof info)
      continue;
    if (info.ssi_signo == SIGCHLD)
      continue;
    kill(child, (int)info.ssi_signo);
    if ((info.ssi_signo == SIGINT || info.ssi_signo == SIGTERM) && result->interrupted_by == 0) {
      result->interrupted_by = (int)info.ssi_signo;
      kill_deadline = now + KILL_GRACE_SECONDS;
    }
  }
  close(sfd);
}
