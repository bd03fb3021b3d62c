/* PID 1 of the step's PID namespace, and the monitor that waits for it on the host side. */
#ifndef TSBUILD_SANDBOX_INIT_H
#define TSBUILD_SANDBOX_INIT_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "args.h"

/* Signals forwarded to the step: by the monitor to PID 1, and by PID 1 to the command. */
extern const int forwarded_signals[];
extern const size_t n_forwarded_signals;
void forwarded_signal_set(sigset_t *set, bool with_sigchld);

/* Forks the command (which `exec_command` turns into COMMAND), then reaps every process of
 * the step until the command ends, and reports "exit N" or "signal N" on report_fd. Never
 * returns: when PID 1 exits, the kernel kills whatever the step left running. */
_Noreturn void run_init(void (*exec_command)(void *), void *arg, int report_fd);

/* How the monitor saw the step end. */
struct monitor_result {
  int wait_status; /* PID 1's wait status */
  bool timed_out;
  int interrupted_by; /* a signal the helper received and forwarded, 0 if none */
};

/* Waits for PID 1 (`child`), forwarding signals to it; after `timeout_seconds` (0: never)
 * it SIGKILLs the namespace's PID 1, which kills every process of the step. After a
 * forwarded SIGINT/SIGTERM the step has half a second before the same happens. */
void monitor_child(pid_t child, double timeout_seconds, struct monitor_result *result);

#endif
