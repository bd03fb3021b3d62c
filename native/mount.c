#include "mount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "resolve.h"
#include "util.h"

/* A private tmpfs, mounted in our own mount namespace, that holds what the helper makes
 * outside the root: the mount-point skeleton and the /etc files. It hides the host's /tmp,
 * so every host path is opened (as an fd) before it is mounted. */
#define STAGING "/tmp"

static const char *const device_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
#define N_DEVICES (sizeof device_nodes / sizeof device_nodes[0])

static const char *const etc_files[] = {"hosts", "hostname", "resolv.conf"};
#define N_ETC_FILES (sizeof etc_files / sizeof etc_files[0])

/* Docker's read-only and masked /proc paths: kernel knobs a step must not turn. */
static const char *const proc_readonly[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};
static const char *const proc_masked_files[] = {"kcore",       "keys",          "timer_list",
                                                "sched_debug", "latency_stats", "timer_stats"};
static const char *const proc_masked_dirs[] = {"acpi", "scsi"};
#define N_OF(a) (sizeof a / sizeof a[0])

/* Host paths, opened while the host view is still there. */
struct inputs {
  int *lowers;
  int upper;
  int work;
  int root;
  int devices[N_DEVICES];
  char *resolv_conf;
};

static int open_host_dir(const char *option, const char *path) {
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    die_errno("%s %s", option, path);
  return fd;
}

static void open_inputs(struct opts *opts, struct inputs *in) {
  in->lowers = xcalloc(opts->n_lowers, sizeof(int));
  for (size_t i = 0; i < opts->n_lowers; i++)
    in->lowers[i] = open_host_dir("--lower", opts->lowers[i]);
  in->upper = opts->upper ? open_host_dir("--upper", opts->upper) : -1;
  in->work = opts->work ? open_host_dir("--work", opts->work) : -1;
  in->root = opts->root ? open_host_dir("--root", opts->root) : -1;
  for (struct mount_op *op = opts->mounts; op != NULL; op = op->next) {
    if (op->kind == MOUNT_TMPFS) {
      op->source_is_dir = true;
      continue;
    }
    op->source_fd = open(op->source, O_PATH | O_CLOEXEC);
    struct stat st;
    if (op->source_fd < 0 || fstat(op->source_fd, &st) < 0)
      die_errno("bind source %s", op->source);
    op->source_is_dir = S_ISDIR(st.st_mode);
  }
  for (size_t i = 0; i < N_DEVICES; i++) {
    cleanup_free char *path = xasprintf("/dev/%s", device_nodes[i]);
    in->devices[i] = open(path, O_PATH | O_CLOEXEC);
    if (in->devices[i] < 0)
      die_errno("open host device %s", path);
  }
  in->resolv_conf = NULL;
  if (opts->network == NETWORK_HOST)
    in->resolv_conf = read_file_at(AT_FDCWD, "/etc/resolv.conf");
  if (in->resolv_conf == NULL)
    in->resolv_conf = xstrdup("");
}

/* Creates `path` (relative to dirfd, all parents) as directories, the last one as an empty
 * file when `file`. Used only in the helper's own staging tmpfs. */
static void make_path(int dirfd, const char *path, bool file) {
  cleanup_free char *copy = xstrdup(path);
  for (char *slash = strchr(copy + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    if (mkdirat(dirfd, copy, 0755) < 0 && errno != EEXIST)
      die_errno("staging: mkdir %s", copy);
    *slash = '/';
  }
  if (file) {
    int fd = openat(dirfd, copy, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
      die_errno("mount point %s", path);
    close(fd);
  } else if (mkdirat(dirfd, copy, 0755) < 0 && errno != EEXIST) {
    die_errno("mount point %s", path);
  }
}

/* The first lower (from the top) that has `path` decides a skeleton directory's mode, owner and
 * times, so that a directory copied up into the step's layer looks as it does in the image,
 * not like the helper's skeleton. Rootless, an owner that is not mapped stays as it is. */
static void dress_like_lowers(int skel, const char *path, const struct opts *opts, const struct inputs *in) {
  for (size_t i = opts->n_lowers; i-- > 0;) {
    struct stat st;
    if (fstatat(in->lowers[i], path, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (!S_ISDIR(st.st_mode))
      return;
    if (fchownat(skel, path, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL &&
        errno != EPERM)
      die_errno("skeleton: chown %s", path);
    if (fchmodat(skel, path, st.st_mode & 07777, 0) < 0)
      die_errno("skeleton: chmod %s", path);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (utimensat(skel, path, times, AT_SYMLINK_NOFOLLOW) < 0)
      die_errno("skeleton: set times of %s", path);
    return;
  }
}

/* Applies dress_like_lowers to every directory under `path` in the skeleton, children first
 * (so that their creation no longer changes the parent's times). */
static void dress_skeleton(int skel, const char *path, const struct opts *opts, const struct inputs *in) {
  int fd = openat(skel, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    die_errno("skeleton: open %s", path);
  DIR *dir = fdopendir(fd);
  if (dir == NULL)
    die_errno("skeleton: read %s", path);
  for (struct dirent *e; (e = readdir(dir)) != NULL;) {
    if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    cleanup_free char *child =
        strcmp(path, ".") == 0 ? xstrdup(e->d_name) : xasprintf("%s/%s", path, e->d_name);
    dress_skeleton(skel, child, opts, in);
  }
  closedir(dir);
  if (strcmp(path, ".") != 0)
    dress_like_lowers(skel, path, opts, in);
}

/* /etc/hosts: localhost and the step's hostname, then one line per --add-host in the order
 * given, as BuildKit appends its extra hosts. */
static char *hosts_text(const struct opts *opts) {
  char *text = xasprintf("127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", opts->hostname);
  for (size_t i = 0; i < opts->n_extra_hosts; i++) {
    char *longer = xasprintf("%s%s\t%s\n", text, opts->extra_hosts[i].ip, opts->extra_hosts[i].name);
    free(text);
    text = longer;
  }
  return text;
}

static void write_staging_file(int dirfd, const char *name, const char *content) {
  int fd = openat(dirfd, name, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 || !write_all(fd, content, strlen(content)))
    die_errno("staging: write %s", name);
  close(fd);
}

/* The staging tmpfs: skel/ is the top overlay layer with every mount point the step needs, so
 * mount points are never created in the upper dir (the step's layer) and an image's symlink at
 * /proc, /dev or a mount target is shadowed by a real directory. files/ holds /etc files. */
static void make_staging(const struct opts *opts, const struct inputs *in) {
  if (mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=1m") < 0)
    die_errno("mount staging tmpfs on %s", STAGING);
  int staging = open(STAGING, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (staging < 0)
    die_errno("open %s", STAGING);
  make_path(staging, "root", false);
  make_path(staging, "files", false);
  make_path(staging, "skel/proc", false);
  make_path(staging, "skel/dev", false);
  make_path(staging, "skel/sys", false);
  for (size_t i = 0; i < N_ETC_FILES; i++) {
    cleanup_free char *path = xasprintf("skel/etc/%s", etc_files[i]);
    make_path(staging, path, true);
  }
  for (struct mount_op *op = opts->mounts; op != NULL; op = op->next) {
    cleanup_free char *path = xasprintf("skel%s", op->target);
    make_path(staging, path, !op->source_is_dir);
  }
  int skel = openat(staging, "skel", O_PATH | O_DIRECTORY | O_CLOEXEC);
  dress_skeleton(skel, ".", opts, in);
  close(skel);
  int files = openat(staging, "files", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *hosts = hosts_text(opts);
  cleanup_free char *hostname = xasprintf("%s\n", opts->hostname);
  write_staging_file(files, "hosts", hosts);
  write_staging_file(files, "hostname", hostname);
  write_staging_file(files, "resolv.conf", in->resolv_conf);
  close(files);
  close(staging);
}

/* The upper dir must be the step's whole diff, whatever the host's overlay defaults: no
 * redirects (a renamed directory is copied, not recorded as an xattr pointing into a lower),
 * no metadata-only copy-ups (a chown copies the data too), no index. */
#define OVERLAY_DIFF_OPTIONS "redirect_dir=nofollow,metacopy=off,index=off"

/* overlay with lowerdir given as /proc/self/fd numbers relative to that directory: a few
 * bytes per layer, so hundreds of lowers fit the one-page limit of mount data. */
static void mount_overlay(const struct opts *opts, const struct inputs *in, bool rootless) {
  size_t cap = 160 + opts->n_lowers * 12; /* fixed options + ":%d" per lower */
  cleanup_free char *data = xmalloc(cap);
  int n = snprintf(data, cap, "lowerdir=%s/skel", STAGING);
  for (size_t i = opts->n_lowers; i-- > 0;)
    n += snprintf(data + n, cap - (size_t)n, ":%d", in->lowers[i]);
  n += snprintf(data + n, cap - (size_t)n, ",upperdir=%d,workdir=%d," OVERLAY_DIFF_OPTIONS "%s", in->upper,
                in->work, rootless ? ",userxattr" : "");
  if ((size_t)n >= 4096)
    die("%zu lower dirs do not fit in one overlay mount", opts->n_lowers);
  if (chdir("/proc/self/fd") < 0)
    die_errno("chdir /proc/self/fd");
  if (mount("overlay", STAGING "/root", "overlay", MS_NODEV, data) < 0)
    die_errno("mount overlay (%zu lower dirs, upper %s, work %s)", opts->n_lowers, opts->upper, opts->work);
  if (chdir("/") < 0)
    die_errno("chdir /");
}

/* Device nodes are usable only through the helper's own /dev binds: every other mount of the
 * step is nodev, so a node the step makes with CAP_MKNOD (say, the host's disk) cannot be
 * opened. (Docker gets the same from the devices cgroup.) */
#define MOUNT_ATTR_STEP (MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID)

/* Clones the mount at srcfd and attaches it at dstfd, with `attrs` (MOUNT_ATTR_*) set on the
 * whole cloned tree. */
static void bind_fd(int srcfd, int dstfd, unsigned long long attrs, const char *what) {
  int tree = open_tree(srcfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (tree < 0)
    die_errno("bind %s: clone", what);
  if (attrs != 0) {
    struct mount_attr attr = {.attr_set = attrs};
    if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
      die_errno("bind %s: set mount attributes", what);
  }
  if (move_mount(tree, "", dstfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die_errno("bind %s: attach", what);
  close(tree);
}

static void mount_plain_root(const struct inputs *in, const char *path) {
  cleanup_fd int target = open(STAGING "/root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (target < 0)
    die_errno("open %s/root", STAGING);
  bind_fd(in->root, target, MOUNT_ATTR_NODEV, path);
}

static void mount_at_fd(const char *source, int dstfd, const char *fstype, unsigned long flags,
                        const char *data, const char *what) {
  cleanup_free char *target = fd_path(dstfd);
  if (mount(source, target, fstype, flags, data) < 0)
    die_errno("mount %s on %s", fstype, what);
}

static void mount_proc(int rootfd) {
  cleanup_fd int target = ensure_in_root(rootfd, "/proc", false);
  mount_at_fd("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "/proc");
  cleanup_fd int proc = open_in_root(rootfd, "/proc", O_PATH | O_DIRECTORY);
  if (proc < 0)
    die_errno("open new /proc");
  for (size_t i = 0; i < N_OF(proc_readonly); i++) {
    cleanup_fd int t = openat(proc, proc_readonly[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (t >= 0)
      bind_fd(t, t, MOUNT_ATTR_RDONLY, proc_readonly[i]);
  }
  cleanup_fd int null = openat(rootfd, "dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  for (size_t i = 0; i < N_OF(proc_masked_files); i++) {
    cleanup_fd int t = openat(proc, proc_masked_files[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (t >= 0)
      bind_fd(null, t, MOUNT_ATTR_RDONLY, proc_masked_files[i]);
  }
  for (size_t i = 0; i < N_OF(proc_masked_dirs); i++) {
    cleanup_fd int t = openat(proc, proc_masked_dirs[i], O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (t >= 0)
      mount_at_fd("tmpfs", t, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0",
                  proc_masked_dirs[i]);
  }
}

/* Docker's /dev/shm when no --shm-size is given. */
#define DEFAULT_SHM_BYTES (64ULL * 1024 * 1024)

/* A fresh tmpfs /dev holding bind mounts of the host's harmless device nodes (works rootless,
 * where mknod does not), a private devpts instance and /dev/shm. */
static void mount_dev(int rootfd, const struct inputs *in, const struct opts *opts, bool rootless) {
  cleanup_fd int target = ensure_in_root(rootfd, "/dev", false);
  mount_at_fd("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k", "/dev");
  cleanup_fd int dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
  if (dev < 0)
    die_errno("open new /dev");
  for (size_t i = 0; i < N_DEVICES; i++) {
    int fd = openat(dev, device_nodes[i], O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0)
      die_errno("create /dev/%s", device_nodes[i]);
    close(fd);
    cleanup_fd int node = openat(dev, device_nodes[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    bind_fd(in->devices[i], node, 0, device_nodes[i]);
  }
  static const char *const links[][2] = {{"pts/ptmx", "ptmx"},
                                         {"/proc/self/fd", "fd"},
                                         {"/proc/self/fd/0", "stdin"},
                                         {"/proc/self/fd/1", "stdout"},
                                         {"/proc/self/fd/2", "stderr"}};
  for (size_t i = 0; i < N_OF(links); i++)
    if (symlinkat(links[i][0], dev, links[i][1]) < 0)
      die_errno("symlink /dev/%s", links[i][1]);
  if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0)
    die_errno("mkdir /dev/pts, /dev/shm");
  cleanup_fd int pts = openat(dev, "pts", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  mount_at_fd("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC,
              rootless ? "newinstance,ptmxmode=0666,mode=0620" : "newinstance,ptmxmode=0666,mode=0620,gid=5",
              "/dev/pts");
  cleanup_fd int shm = openat(dev, "shm", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  cleanup_free char *shm_data =
      xasprintf("mode=1777,size=%llu", opts->shm_size_bytes != 0 ? opts->shm_size_bytes : DEFAULT_SHM_BYTES);
  mount_at_fd("tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm_data, "/dev/shm");
}

/* A read-only sysfs, as Docker mounts it, with /sys/firmware masked. sysfs shows the network
 * devices of the mounter's network namespace, so it can be mounted only in one we own: rootless
 * with --network host, /sys stays an empty directory. */
static void mount_sys(int rootfd, bool rootless, enum network_mode network) {
  if (rootless && network == NETWORK_HOST)
    return;
  cleanup_fd int target = ensure_in_root(rootfd, "/sys", false);
  mount_at_fd("sysfs", target, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "/sys");
  cleanup_fd int firmware = open_in_root(rootfd, "/sys/firmware", O_PATH | O_DIRECTORY | O_NOFOLLOW);
  if (firmware >= 0)
    mount_at_fd("tmpfs", firmware, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0",
                "/sys/firmware");
}

static void mount_etc_files(int rootfd) {
  cleanup_fd int files = open(STAGING "/files", O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (size_t i = 0; i < N_ETC_FILES; i++) {
    cleanup_free char *path = xasprintf("/etc/%s", etc_files[i]);
    cleanup_fd int src = openat(files, etc_files[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    cleanup_fd int dst = ensure_in_root(rootfd, path, true);
    bind_fd(src, dst, MOUNT_ATTR_RDONLY | MOUNT_ATTR_STEP | MOUNT_ATTR_NOEXEC, path);
  }
}

static void mount_requested(int rootfd, const struct opts *opts) {
  for (struct mount_op *op = opts->mounts; op != NULL; op = op->next) {
    cleanup_fd int dst = ensure_in_root(rootfd, op->target, !op->source_is_dir);
    switch (op->kind) {
    case MOUNT_TMPFS: {
      cleanup_free char *data =
          op->size != 0 ? xasprintf("mode=0755,size=%llu", op->size) : xstrdup("mode=0755");
      mount_at_fd("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, data, op->target);
      break;
    }
    case MOUNT_BIND:
    case MOUNT_RO_BIND:
      bind_fd(op->source_fd, dst, MOUNT_ATTR_STEP | (op->kind == MOUNT_RO_BIND ? MOUNT_ATTR_RDONLY : 0),
              op->target);
      break;
    default: die("unknown mount kind %d", (int)op->kind);
    }
  }
}

/* pivot_root(".", ".") as crun does: the old root ends up stacked on the new one, and is
 * then detached, so nothing of the host's tree stays reachable. */
static void pivot_into(int rootfd) {
  if (fchdir(rootfd) < 0)
    die_errno("chdir into the new root");
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    die_errno("pivot_root");
  if (mount(NULL, ".", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    die_errno("make the old root a slave");
  if (umount2(".", MNT_DETACH) < 0)
    die_errno("detach the old root");
  if (chdir("/") < 0)
    die_errno("chdir /");
}

static void close_inputs(const struct opts *opts, struct inputs *in) {
  for (size_t i = 0; i < opts->n_lowers; i++)
    close(in->lowers[i]);
  free(in->lowers);
  int singles[] = {in->upper, in->work, in->root};
  for (size_t i = 0; i < N_OF(singles); i++)
    if (singles[i] >= 0)
      close(singles[i]);
  for (size_t i = 0; i < N_DEVICES; i++)
    close(in->devices[i]);
  for (struct mount_op *op = opts->mounts; op != NULL; op = op->next)
    if (op->source_fd >= 0)
      close(op->source_fd);
  free(in->resolv_conf);
}

void setup_root(struct opts *opts, bool rootless) {
  struct inputs in;
  open_inputs(opts, &in);
  /* Nothing we mount from here on propagates back to the host. */
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    die_errno("make / a slave mount");
  make_staging(opts, &in);
  if (opts->root != NULL)
    mount_plain_root(&in, opts->root);
  else
    mount_overlay(opts, &in, rootless);
  cleanup_fd int rootfd = open(STAGING "/root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    die_errno("open the new root");
  mount_dev(rootfd, &in, opts, rootless);
  mount_proc(rootfd);
  mount_sys(rootfd, rootless, opts->network);
  mount_etc_files(rootfd);
  mount_requested(rootfd, opts);
  close_inputs(opts, &in);
  pivot_into(rootfd);
}
