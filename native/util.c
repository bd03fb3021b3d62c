#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int die_report_fd = -1;
void (*die_cleanup)(void) = NULL;

static void vreport(const char *fmt, va_list ap, int errnum) {
  char msg[2048];
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  if (n < 0)
    n = 0;
  if (errnum != 0 && (size_t)n < sizeof msg)
    snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(errnum));
  dprintf(STDERR_FILENO, "tsbuild-sandbox: %s\n", msg);
  if (die_report_fd >= 0)
    dprintf(die_report_fd, "setup %s\n", msg);
  if (die_cleanup != NULL)
    die_cleanup();
}

noreturn void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(fmt, ap, 0);
  va_end(ap);
  _exit(EXIT_SETUP);
}

noreturn void die_errno(const char *fmt, ...) {
  int errnum = errno;
  va_list ap;
  va_start(ap, fmt);
  vreport(fmt, ap, errnum);
  va_end(ap);
  _exit(EXIT_SETUP);
}

void warnx_(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dprintf(STDERR_FILENO, "tsbuild-sandbox: warning: %s\n", msg);
}

void *xmalloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (p == NULL)
    die("out of memory");
  return p;
}

void *xcalloc(size_t count, size_t size) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (p == NULL)
    die("out of memory");
  return p;
}

void *xrealloc(void *ptr, size_t size) {
  void *p = realloc(ptr, size ? size : 1);
  if (p == NULL)
    die("out of memory");
  return p;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (p == NULL)
    die("out of memory");
  return p;
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *out = NULL;
  int n = vasprintf(&out, fmt, ap);
  va_end(ap);
  if (n < 0)
    die("out of memory");
  return out;
}

bool write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

char *read_file_at(int dirfd, const char *path) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  size_t cap = 4096, len = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (len + 1 >= cap)
      buf = xrealloc(buf, cap *= 2);
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      free(buf);
      close(fd);
      errno = saved;
      return NULL;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  return buf;
}

bool write_file_at(int dirfd, const char *path, const char *content) {
  int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false;
  bool ok = write_all(fd, content, strlen(content));
  int saved = errno;
  close(fd);
  errno = saved;
  return ok;
}

char *fd_path(int fd) {
  return xasprintf("/proc/self/fd/%d", fd);
}

static char *title_start;
static size_t title_size;

void title_init(int argc, char **argv) {
  if (argc == 0)
    return;
  title_start = argv[0];
  title_size = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
}

void title_set(const char *title) {
  if (title_start == NULL)
    return;
  memset(title_start, 0, title_size);
  snprintf(title_start, title_size, "%s", title);
  prctl(PR_SET_NAME, title, 0, 0, 0);
}

void cleanup_freep(void *p) {
  free(*(void **)p);
}

void cleanup_closep(const int *fd) {
  if (*fd >= 0)
    close(*fd);
}
