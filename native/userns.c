#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* The first "name:start:count" (or "uid:start:count") range of the user in a subid file. */
static bool subid_range(const char *file, const char *name, unsigned long id, unsigned long *start,
                        unsigned long *count) {
  cleanup_free char *text = read_file_at(AT_FDCWD, file);
  if (text == NULL)
    return false;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    char owner[256];
    if (sscanf(line, "%255[^:]:%lu:%lu", owner, start, count) != 3)
      continue;
    char *end = NULL;
    unsigned long owner_id = strtoul(owner, &end, 10);
    if ((name != NULL && strcmp(owner, name) == 0) || (*end == '\0' && owner_id == id))
      return *count > 0;
  }
  return false;
}

static bool run_map_tool(const char *tool, pid_t child, unsigned long id, unsigned long start,
                         unsigned long count) {
  char pid_s[16], id_s[24], start_s[24], count_s[24];
  snprintf(pid_s, sizeof pid_s, "%d", (int)child);
  snprintf(id_s, sizeof id_s, "%lu", id);
  snprintf(start_s, sizeof start_s, "%lu", start);
  snprintf(count_s, sizeof count_s, "%lu", count);
  pid_t pid = fork();
  if (pid < 0)
    die_errno("fork %s", tool);
  if (pid == 0) {
    execlp(tool, tool, pid_s, "0", id_s, "1", "1", start_s, count_s, (char *)NULL);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      die_errno("wait for %s", tool);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void write_map(pid_t child, const char *file, const char *content) {
  cleanup_free char *path = xasprintf("/proc/%d/%s", (int)child, file);
  if (!write_file_at(AT_FDCWD, path, content))
    die_errno("write %s '%s'", path, content);
}

bool write_id_maps(pid_t child) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  struct passwd *pw = getpwuid(uid);
  const char *name = pw != NULL ? pw->pw_name : NULL;
  unsigned long ustart, ucount, gstart, gcount;
  if (subid_range("/etc/subuid", name, uid, &ustart, &ucount) &&
      subid_range("/etc/subgid", name, gid, &gstart, &gcount) &&
      run_map_tool("newuidmap", child, uid, ustart, ucount) &&
      run_map_tool("newgidmap", child, gid, gstart, gcount))
    return true;
  char map[64];
  write_map(child, "setgroups", "deny");
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
  write_map(child, "uid_map", map);
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
  write_map(child, "gid_map", map);
  return false;
}
