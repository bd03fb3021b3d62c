#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* openat2 confined to the root: ".." and absolute symlinks stop at `rootfd`, and /proc magic
 * links (CVE-2024-21626 style) are refused. */
int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {
      .flags = (unsigned long long)(flags | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Creates the missing components of `path` one by one. Returns an fd of the result, or -1
 * with *rewritten set when a component is a dangling symlink: the path to try instead, with
 * the symlink replaced by its target. */
static int create_in_root(int rootfd, const char *path, bool file, char **rewritten) {
  cleanup_free char *prefix = xstrdup(path);
  int parent = open_in_root(rootfd, "/", O_PATH);
  if (parent < 0)
    die_errno("open the new root");
  char *cursor = prefix;
  while (*cursor != '\0') {
    while (*cursor == '/')
      cursor++;
    if (*cursor == '\0')
      break;
    char *end = strchrnul(cursor, '/');
    bool last = end[strspn(end, "/")] == '\0';
    char saved = *end;
    *end = '\0';
    int next = open_in_root(rootfd, prefix, O_PATH);
    if (next < 0 && errno == ENOENT) {
      char target[PATH_MAX];
      ssize_t len = readlinkat(parent, cursor, target, sizeof target - 1);
      if (len >= 0) {
        target[len] = '\0';
        *end = saved;
        cursor[-1] = '\0';
        *rewritten =
            target[0] == '/' ? xasprintf("%s%s", target, end) : xasprintf("%s/%s%s", prefix, target, end);
        close(parent);
        return -1;
      }
      if (last && file) {
        int created = openat(parent, cursor, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (created < 0)
          die_errno("create %s inside the root", prefix);
        close(created);
      } else if (mkdirat(parent, cursor, 0755) < 0) {
        die_errno("create directory %s inside the root", prefix);
      }
      next = open_in_root(rootfd, prefix, O_PATH);
    }
    if (next < 0)
      die_errno("resolve %s inside the root", prefix);
    close(parent);
    parent = next;
    *end = saved;
    cursor = end;
  }
  return parent;
}

/* How many dangling symlinks ensure_in_root follows before giving up, as Linux's MAXSYMLINKS. */
#define MAX_SYMLINKS 40

/* Resolves `path` inside the root, creating what is missing (directories, and the last
 * component as an empty file when `file`), as Docker's WORKDIR does. Each new entry is made in
 * its parent as resolved inside the root, so nothing is ever created outside; a dangling
 * symlink on the way is followed inside the root (its target is created there). */
int ensure_in_root(int rootfd, const char *path, bool file) {
  cleanup_free char *wanted = xstrdup(path);
  for (int links = 0; links <= MAX_SYMLINKS; links++) {
    int fd = open_in_root(rootfd, wanted, O_PATH);
    if (fd >= 0)
      return fd;
    if (errno != ENOENT)
      die_errno("resolve %s inside the root", wanted);
    char *rewritten = NULL;
    fd = create_in_root(rootfd, wanted, file, &rewritten);
    if (fd >= 0)
      return fd;
    free(wanted);
    wanted = rewritten;
  }
  die("resolve %s inside the root: too many levels of symbolic links", path);
}

void enter_workdir(const char *path) {
  cleanup_fd int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    die_errno("open /");
  cleanup_fd int dir = ensure_in_root(root, path, false);
  if (fchdir(dir) < 0)
    die_errno("--chdir %s", path);
}
