/* Small helpers shared by every part of the sandbox helper: fatal errors with distinct exit
 * statuses, allocation that never returns NULL, scoped cleanup. */
#ifndef TSBUILD_SANDBOX_UTIL_H
#define TSBUILD_SANDBOX_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>

/* Exit statuses of the helper itself. Everything else is the command's own status, or 128+N
 * when a signal N ended it. native/README.md documents this table; src/exec/sandbox-status.ts
 * mirrors it. */
enum {
  EXIT_CANNOT_EXEC = 126, /* the command exists but could not be executed */
  EXIT_NOT_FOUND = 127,   /* the command was not found */
  EXIT_SETUP = 250,       /* the sandbox could not be set up; nothing ran */
  EXIT_TIMEOUT = 251,     /* --timeout reached; every process of the step was killed */
  EXIT_OOM = 252,         /* the memory limit was reached and the kernel killed a process */
  EXIT_PIDS = 253,        /* the pids limit refused a fork and the command failed */
};

/* Where die() also reports its message ("setup MESSAGE\n"), so that the monitor can tell a
 * setup failure from a command that happens to exit with the same status. -1 when unused. */
extern int die_report_fd;
/* Called by die() before exiting, to undo what the process set up on the host (the monitor
 * removes the step's cgroup). NULL when there is nothing to undo. */
extern void (*die_cleanup)(void);

noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* die() with ": strerror(errno)" appended. */
noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes all of buf, retrying on EINTR and short writes. Returns false on error. */
bool write_all(int fd, const void *buf, size_t len);
/* Reads a whole small file into a NUL-terminated buffer; NULL (errno set) on failure. */
char *read_file_at(int dirfd, const char *path);
/* Writes a string to an existing file (cgroup knobs, uid_map). Returns false (errno set). */
bool write_file_at(int dirfd, const char *path, const char *content);
/* "/proc/self/fd/N": a path the kernel resolves to exactly what fd N refers to. */
char *fd_path(int fd);

/* Overwrites the process's command line (/proc/PID/cmdline) in place, so that PID 1 inside the
 * step does not show the host paths it was started with. title_init saves argv's extent. */
void title_init(int argc, char **argv);
void title_set(const char *title);

void cleanup_freep(void *p);
void cleanup_closep(const int *fd);
#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_fd __attribute__((cleanup(cleanup_closep)))

#endif
