// The settings of every RUN step's sandbox that a build is given (--add-host, --shm-size,
// --ulimit): plain data shared by exec/ (the helper's arguments), solve/ (step keys) and the
// build archive (export/, replay/).

/** `--add-host NAME:IP`: the line `IP<tab>NAME` in the step's /etc/hosts. */
export interface ExtraHost {
  name: string;
  ip: string;
}

/** The `--ulimit` types: Docker's (setrlimit's RLIMIT_* by their lower-case names), and `as`. */
export const ULIMIT_TYPES = [
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
] as const;
export type UlimitType = (typeof ULIMIT_TYPES)[number];

/** `--ulimit TYPE=SOFT:HARD`: a resource limit of the step's command; -1 is unlimited, as in Docker. */
export interface Ulimit {
  type: UlimitType;
  soft: number;
  hard: number;
}

/**
 * What of a RUN step's sandbox, beyond the step itself, can change what it makes: the same for
 * every RUN step of a build, so part of each one's cache key and of a build archive (unlike
 * `SandboxLimits`, which only stop a step). Each field is absent when not given.
 */
export interface SandboxSettings {
  /** `--add-host`, in the order given (a name may come twice, for IPv4 and IPv6). */
  extraHosts?: ExtraHost[];
  /** `--shm-size`: the /dev/shm tmpfs size (default 64 MiB, Docker's). */
  shmSizeBytes?: number;
  /** `--ulimit`, one per type. */
  ulimits?: Ulimit[];
}
