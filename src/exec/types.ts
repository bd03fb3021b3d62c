// What solve/ asks of exec/: run one process isolated over a root made of directories.
// exec/ gets paths, never store objects (DESIGN.md).

import type { StepFailure } from '../errors.js';
import type { SandboxSettings } from '../lib/sandbox-settings.js';

export type { ExtraHost, SandboxSettings, Ulimit, UlimitType } from '../lib/sandbox-settings.js';

export interface SandboxMount {
  type: 'bind' | 'tmpfs';
  /** Host path for bind mounts. */
  source?: string;
  /** Absolute path inside the root; resolved inside the root, never through a host path. */
  target: string;
  readonly?: boolean;
  /** tmpfs only: its size limit in bytes (default: the kernel's, half of RAM). */
  sizeBytes?: number;
}

export interface SandboxLimits {
  memoryBytes?: number;
  pids?: number;
  cpus?: number;
  cpuset?: string;
  timeoutSeconds?: number;
}

export interface SandboxSpec extends SandboxSettings {
  /** Overlay lower dirs, bottom first. Empty with `rootDir` unset means an empty root. */
  lowerDirs: string[];
  /** Overlay upper and work dirs: the upper dir becomes the step's layer. */
  upperDir: string;
  workDir: string;
  argv: string[];
  /** The exact environment, `K=V`; nothing of the host's is added. */
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups?: number[];
  hostname?: string;
  network: 'none' | 'host';
  mounts?: SandboxMount[];
  limits?: SandboxLimits;
  /** Attach stdin (and a TTY when `tty`) for `tsbuild shell`. */
  interactive?: boolean;
  tty?: boolean;
}

export interface SandboxIO {
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

export interface SandboxResult {
  /** 0 on success. */
  exitCode: number;
  /** Why it failed, when it did: exit status, signal, OOM, pids, timeout or a setup error. */
  failure?: StepFailure;
  durationMs: number;
}
