/* A multi-call payload for the sandbox tests (in the spirit of crun's tests/init.c and
 * bubblewrap's tests/try-syscall.c), built static so it runs in any root:
 *
 *   probe try NAME...        tries each named operation, prints "NAME OK" or "NAME EPERM"...
 *   probe connect IP PORT    TCP connect, prints "connected" or the errno name
 *   probe unix PATH          connects to a unix socket, sends "ping", prints the answer's first
 *                            line (or the errno name)
 *   probe forkbomb           forks until refused, prints how many, exits 1
 *   probe memhog MIB         allocates and touches MIB MiB, prints "survived"
 *   probe spew MIB           MIB MiB of numbered lines, alternating stdout and stderr
 *   probe fds                lists the open descriptors
 *   probe cwd                prints getcwd()
 *   probe threads            starts and joins 8 threads (clone3 is refused, libc falls back)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errno_name(int e) {
  switch (e) {
  case 0: return "OK";
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case ENOSYS: return "ENOSYS";
  case EINVAL: return "EINVAL";
  case ENOENT: return "ENOENT";
  case ESRCH: return "ESRCH";
  case EBADF: return "EBADF";
  case EFAULT: return "EFAULT";
  case ECONNREFUSED: return "ECONNREFUSED";
  case ENETUNREACH: return "ENETUNREACH";
  case EHOSTUNREACH: return "EHOSTUNREACH";
  case ETIMEDOUT: return "ETIMEDOUT";
  case EAGAIN: return "EAGAIN";
  case EROFS: return "EROFS";
  case EBUSY: return "EBUSY";
  default: return strerror(e);
  }
}

static int clone_flags(unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0)
    _exit(0);
  if (pid > 0)
    waitpid((pid_t)pid, NULL, 0);
  return pid < 0 ? -1 : 0;
}

/* Each operation returns -1 with errno set when refused, 0 when it went through. */
static int try_op(const char *name) {
  if (strcmp(name, "mount") == 0)
    return mount("none", "/tmp", "tmpfs", 0, NULL);
  if (strcmp(name, "mount-cgroup") == 0)
    return mount("cgroup", "/tmp", "cgroup2", 0, NULL);
  if (strcmp(name, "mount-proc") == 0)
    return mount("proc", "/tmp", "proc", 0, NULL);
  if (strcmp(name, "umount") == 0)
    return umount2("/proc", MNT_DETACH);
  if (strcmp(name, "unshare-user") == 0)
    return unshare(CLONE_NEWUSER);
  if (strcmp(name, "unshare-mount") == 0)
    return unshare(CLONE_NEWNS);
  if (strcmp(name, "clone-user") == 0)
    return clone_flags(CLONE_NEWUSER);
  if (strcmp(name, "setns") == 0)
    return setns(open("/proc/1/ns/mnt", O_RDONLY), 0);
  if (strcmp(name, "ptrace-init") == 0)
    return (int)ptrace(PTRACE_ATTACH, 1, NULL, NULL);
  if (strcmp(name, "reboot") == 0)
    return (int)syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, 0, NULL);
  if (strcmp(name, "init_module") == 0)
    return (int)syscall(SYS_init_module, NULL, 0, "");
  if (strcmp(name, "finit_module") == 0)
    return (int)syscall(SYS_finit_module, 0, "", 0);
  if (strcmp(name, "delete_module") == 0)
    return (int)syscall(SYS_delete_module, "no_such_module", 0);
  if (strcmp(name, "keyctl") == 0)
    return (int)syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
  if (strcmp(name, "add_key") == 0)
    return (int)syscall(SYS_add_key, "user", "k", "v", 1, -3);
  if (strcmp(name, "bpf") == 0)
    return (int)syscall(SYS_bpf, 0, NULL, 0);
  if (strcmp(name, "perf_event_open") == 0)
    return (int)syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
  if (strcmp(name, "userfaultfd") == 0)
    return (int)syscall(SYS_userfaultfd, 0);
  if (strcmp(name, "open_by_handle_at") == 0)
    return (int)syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0);
  if (strcmp(name, "kexec_load") == 0)
    return (int)syscall(SYS_kexec_load, 0, 0, NULL, 0);
  if (strcmp(name, "pivot_root") == 0)
    return (int)syscall(SYS_pivot_root, "/tmp", "/tmp");
  if (strcmp(name, "sethostname") == 0)
    return sethostname("escaped", 7);
  if (strcmp(name, "chroot") == 0)
    return chroot("/");
  if (strcmp(name, "mknod") == 0)
    return mknod("/tmp/probe-null", S_IFCHR | 0666, makedev(1, 3));
  errno = EINVAL;
  fprintf(stderr, "probe: unknown operation %s\n", name);
  exit(2);
}

static int cmd_try(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    errno = 0;
    int r = try_op(argv[i]);
    printf("%s %s\n", argv[i], r < 0 ? errno_name(errno) : "OK");
  }
  return 0;
}

static int cmd_connect(const char *ip, const char *port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
  inet_pton(AF_INET, ip, &addr.sin_addr);
  int r = connect(s, (struct sockaddr *)&addr, sizeof addr);
  printf("%s\n", r == 0 ? "connected" : errno_name(errno));
  return 0;
}

static int cmd_unix(const char *path) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    printf("%s\n", errno_name(errno));
    return 0;
  }
  if (write(s, "ping", 4) != 4) {
    printf("write: %s\n", errno_name(errno));
    return 0;
  }
  char buf[256];
  ssize_t n = read(s, buf, sizeof buf - 1);
  if (n < 0) {
    printf("read: %s\n", errno_name(errno));
    return 0;
  }
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  printf("%s\n", buf);
  return 0;
}

static int cmd_forkbomb(void) {
  int forked = 0;
  for (;;) {
    pid_t pid = fork();
    if (pid == 0) {
      pause();
      _exit(0);
    }
    if (pid < 0) {
      printf("fork refused after %d: %s\n", forked, errno_name(errno));
      fflush(stdout);
      return 1;
    }
    forked++;
  }
}

static int cmd_memhog(long mib) {
  for (long i = 0; i < mib; i++) {
    char *chunk = malloc(1 << 20);
    if (chunk == NULL) {
      printf("malloc failed at %ld MiB\n", i);
      return 1;
    }
    memset(chunk, (int)i, 1 << 20);
  }
  printf("survived %ld MiB\n", mib);
  return 0;
}

/* Lines "o 000000000\n" / "e 000000000\n", numbered per stream, 4096 lines per write,
 * alternating streams: test/sandbox checks every line arrives, in order. */
static int cmd_spew(long mib) {
  enum { LINE = 12, LINES = 4096 };
  static char buf[LINE * LINES + 1];
  long total_lines = mib * 1024 * 1024 / LINE / 2;
  long next[2] = {0, 0};
  for (int stream = 0; next[0] < total_lines || next[1] < total_lines; stream ^= 1) {
    size_t len = 0;
    for (int i = 0; i < LINES && next[stream] < total_lines; i++)
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%c %09ld\n", stream ? 'e' : 'o', next[stream]++);
    for (size_t off = 0; off < len;) {
      ssize_t n = write(stream ? 2 : 1, buf + off, len - off);
      if (n < 0)
        return 3;
      off += (size_t)n;
    }
  }
  return 0;
}

static int cmd_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return 1;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
      printf("%s\n", e->d_name);
  return 0;
}

static void *thread_body(void *arg) {
  return arg;
}

static int cmd_threads(void) {
  pthread_t threads[8];
  for (int i = 0; i < 8; i++)
    if (pthread_create(&threads[i], NULL, thread_body, NULL) != 0) {
      printf("pthread_create failed\n");
      return 1;
    }
  for (int i = 0; i < 8; i++)
    pthread_join(threads[i], NULL);
  printf("threads ok\n");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    fprintf(stderr, "usage: probe try|connect|unix|forkbomb|memhog|spew|fds|cwd|threads ...\n");
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "try") == 0)
    return cmd_try(argc - 2, argv + 2);
  if (strcmp(cmd, "connect") == 0 && argc == 4)
    return cmd_connect(argv[2], argv[3]);
  if (strcmp(cmd, "unix") == 0 && argc == 3)
    return cmd_unix(argv[2]);
  if (strcmp(cmd, "forkbomb") == 0)
    return cmd_forkbomb();
  if (strcmp(cmd, "memhog") == 0 && argc == 3)
    return cmd_memhog(atol(argv[2]));
  if (strcmp(cmd, "spew") == 0 && argc == 3)
    return cmd_spew(atol(argv[2]));
  if (strcmp(cmd, "fds") == 0)
    return cmd_fds();
  if (strcmp(cmd, "threads") == 0)
    return cmd_threads();
  if (strcmp(cmd, "cwd") == 0) {
    char buf[4096];
    printf("%s\n", getcwd(buf, sizeof buf) ? buf : errno_name(errno));
    return 0;
  }
  fprintf(stderr, "probe: unknown command %s\n", cmd);
  return 2;
}
