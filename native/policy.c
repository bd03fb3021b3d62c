#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stdnoreturn.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Docker's default capabilities (moby oci/caps/defaults.go). */
static const int default_caps[] = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

/* Syscalls refused with EPERM: changing mounts or namespaces, tracing, kernel keyrings,
 * modules, reboot, BPF and perf, clocks, swap, accounting, handles that bypass paths. */
static const int denied_syscalls[] = {
    SYS_mount,
    SYS_umount2,
    SYS_pivot_root,
    SYS_unshare,
    SYS_setns,
    SYS_fsopen,
    SYS_fsconfig,
    SYS_fsmount,
    SYS_fspick,
    SYS_move_mount,
    SYS_open_tree,
    SYS_mount_setattr,
    SYS_ptrace,
    SYS_process_vm_readv,
    SYS_process_vm_writev,
    SYS_kcmp,
    SYS_pidfd_getfd,
    SYS_reboot,
    SYS_kexec_load,
    SYS_kexec_file_load,
    SYS_init_module,
    SYS_finit_module,
    SYS_delete_module,
    SYS_keyctl,
    SYS_add_key,
    SYS_request_key,
    SYS_bpf,
    SYS_perf_event_open,
    SYS_userfaultfd,
    SYS_open_by_handle_at,
    SYS_name_to_handle_at,
    SYS_acct,
    SYS_swapon,
    SYS_swapoff,
    SYS_syslog,
    SYS_quotactl,
    SYS_settimeofday,
    SYS_clock_settime,
    SYS_clock_adjtime,
    SYS_adjtimex,
    SYS_iopl,
    SYS_ioperm,
    SYS_lookup_dcookie,
    SYS_uselib,
    SYS_io_uring_setup,
    SYS_io_uring_enter,
    SYS_io_uring_register,
    SYS_vhangup,
    SYS_nfsservctl,
};

/* clone() flags that would create namespaces: refused, so a step cannot nest a user namespace
 * and gain a fresh set of capabilities there. */
#define CLONE_NAMESPACE_FLAGS                                                                                \
  (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |                 \
   CLONE_NEWCGROUP | CLONE_NEWTIME)

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#define X32_SYSCALL_BIT 0x40000000
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp policy: unsupported architecture"
#endif

#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | ((e)&SECCOMP_RET_DATA))

void apply_seccomp(void) {
  size_t max = 16 + 2 * (sizeof denied_syscalls / sizeof denied_syscalls[0]);
  struct sock_filter *prog = xcalloc(max, sizeof *prog);
  size_t n = 0;
#define EMIT(stmt) (prog[n++] = (struct sock_filter)stmt)
  /* Other architectures (e.g. i386 via int 0x80) would have other syscall numbers: kill. */
  EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0));
  EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
#ifdef X32_SYSCALL_BIT
  EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1));
  EMIT(BPF_STMT(BPF_RET | BPF_K, RET_ERRNO(EPERM)));
#endif
  for (size_t i = 0; i < sizeof denied_syscalls / sizeof denied_syscalls[0]; i++) {
    EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied_syscalls[i], 0, 1));
    EMIT(BPF_STMT(BPF_RET | BPF_K, RET_ERRNO(EPERM)));
  }
  /* clone3 passes its flags in memory the filter cannot read: ENOSYS makes libc fall back to
   * clone, whose flags it can. */
  EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1));
  EMIT(BPF_STMT(BPF_RET | BPF_K, RET_ERRNO(ENOSYS)));
  EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 1, 0));
  EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
  EMIT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NAMESPACE_FLAGS, 0, 1));
  EMIT(BPF_STMT(BPF_RET | BPF_K, RET_ERRNO(EPERM)));
  EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#undef EMIT
  struct sock_fprog fprog = {.len = (unsigned short)n, .filter = prog};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
    die_errno("install seccomp filter");
  free(prog);
}

/* containerd's default RLIMIT_NOFILE (soft, hard), the hard one clamped to what we may set. */
#define NOFILE_SOFT 1024
#define NOFILE_HARD 524288

static bool ulimit_given(const struct ulimit_op *ulimits, size_t n_ulimits, int resource) {
  for (size_t i = 0; i < n_ulimits; i++)
    if (ulimits[i].resource == resource)
      return true;
  return false;
}

static void set_default_nofile(void) {
  struct rlimit current;
  if (getrlimit(RLIMIT_NOFILE, &current) < 0)
    die_errno("get RLIMIT_NOFILE");
  struct rlimit nofile = {NOFILE_SOFT, NOFILE_HARD};
  if (setrlimit(RLIMIT_NOFILE, &nofile) < 0) {
    nofile.rlim_max = current.rlim_max;
    nofile.rlim_cur = current.rlim_max < NOFILE_SOFT ? current.rlim_max : NOFILE_SOFT;
    if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
      die_errno("set RLIMIT_NOFILE");
  }
}

static const char *rlim_text(rlim_t value, char *buf, size_t size) {
  if (value == RLIM_INFINITY)
    return "unlimited";
  snprintf(buf, size, "%llu", (unsigned long long)value);
  return buf;
}

/* A --ulimit the kernel refused, and why: nofile cannot exceed fs.nr_open whoever asks, and a
 * hard limit above the sandbox's own needs CAP_SYS_RESOURCE on the host, which a rootless
 * sandbox never has (nor root in a container that dropped it). */
static noreturn void die_ulimit_refused(const struct ulimit_op *u) {
  int err = errno;
  char soft[32], hard[32], own_hard[32];
  rlim_text(u->soft, soft, sizeof soft);
  rlim_text(u->hard, hard, sizeof hard);
  cleanup_free char *nr_open = u->resource == RLIMIT_NOFILE ? read_file_at(AT_FDCWD, "/proc/sys/fs/nr_open") : NULL;
  if (err == EPERM && nr_open != NULL && u->hard > strtoull(nr_open, NULL, 10))
    die("--ulimit nofile: the hard limit %s is above the kernel's ceiling, /proc/sys/fs/nr_open (%llu)", hard,
        strtoull(nr_open, NULL, 10));
  struct rlimit own;
  if (err == EPERM && getrlimit(u->resource, &own) == 0 && u->hard > own.rlim_max)
    die("--ulimit %s: the hard limit %s is above this sandbox's own (%s); raising a hard limit needs "
        "CAP_SYS_RESOURCE on the host (root; never rootless)",
        u->type, hard, rlim_text(own.rlim_max, own_hard, sizeof own_hard));
  die("--ulimit %s (soft %s, hard %s): %s", u->type, soft, hard, strerror(err));
}

void apply_rlimits(const struct ulimit_op *ulimits, size_t n_ulimits) {
  /* The fixed defaults first, each unless a --ulimit replaces it (a hard core limit of 0
   * could not be raised again rootless). */
  struct rlimit no_core = {0, 0};
  if (!ulimit_given(ulimits, n_ulimits, RLIMIT_CORE) && setrlimit(RLIMIT_CORE, &no_core) < 0)
    die_errno("set RLIMIT_CORE");
  if (!ulimit_given(ulimits, n_ulimits, RLIMIT_NOFILE))
    set_default_nofile();
  for (size_t i = 0; i < n_ulimits; i++) {
    struct rlimit limit = {ulimits[i].soft, ulimits[i].hard};
    if (setrlimit(ulimits[i].resource, &limit) < 0)
      die_ulimit_refused(&ulimits[i]);
  }
}

static int last_cap(void) {
  cleanup_free char *text = read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap");
  return text != NULL ? atoi(text) : CAP_LAST_CAP;
}

static int is_default_cap(int cap) {
  for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++)
    if (default_caps[i] == cap)
      return 1;
  return 0;
}

void drop_privileges(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, int setgroups_allowed) {
  /* The bounding set first: nothing executed later can regain what is dropped here. */
  for (int cap = 0; cap <= last_cap(); cap++)
    if (!is_default_cap(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      die_errno("drop capability %d from the bounding set", cap);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    die_errno("clear ambient capabilities");
  if (setgroups_allowed) {
    if (setgroups(n_groups, groups) < 0)
      die_errno("setgroups");
  } else if (n_groups > 0) {
    die("--groups: this user namespace has a single-id mapping; supplementary groups cannot be set");
  }
  if (setresgid(gid, gid, gid) < 0)
    die_errno("--gid %u (is it mapped in this user namespace?)", (unsigned)gid);
  if (setresuid(uid, uid, uid) < 0)
    die_errno("--uid %u (is it mapped in this user namespace?)", (unsigned)uid);
  /* For uid 0 the kernel kept every capability the bounding set allows; make the sets exact.
   * For another uid setresuid has already cleared them, as Docker does. */
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {{0, 0, 0}, {0, 0, 0}};
  if (uid == 0)
    for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++) {
      data[default_caps[i] / 32].effective |= 1u << (default_caps[i] % 32);
      data[default_caps[i] / 32].permitted |= 1u << (default_caps[i] % 32);
    }
  if (syscall(SYS_capset, &header, data) < 0)
    die_errno("set capabilities");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    die_errno("set no_new_privs");
}
