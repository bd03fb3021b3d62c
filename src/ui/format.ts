// Small text formatters shared by the plain and tty renderers, so both say the same thing.

import type { StepInfo } from '../events.js';

/**
 * `[build 2/4] RUN make`, as BuildKit names a step; an unnamed stage shows as `stage-N`. A
 * title is one line: an instruction of several (a heredoc) shows its first line and `…`.
 */
export function stepTitle(info: StepInfo): string {
  const stage = /^\d+$/.test(info.stage) ? `stage-${info.stage}` : info.stage;
  const [first, ...rest] = info.instruction.split(/\r?\n/);
  return `[${stage} ${info.index}/${info.total}] ${first}${rest.length > 0 ? ' …' : ''}`;
}

/** `0.4s`, `3.2s`, `1m02s`, `1h03m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** Decimal units, as docker prints sizes: `512B`, `4.1kB`, `34.2MB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(1)}${UNITS[unit]}`;
}

/** `sha256:0123456789ab` — the first 12 hex digits, as docker shows image IDs. */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.includes(':') ? digest.split(':', 2) : ['sha256', digest];
  return `${algorithm}:${hex!.slice(0, 12)}`;
}

// Everything ANSI: CSI sequences, OSC strings, and lone escapes. Build output is drawn inside
// our own layout, where a cursor move or a colour left open would break the frame.
// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** A log line made safe to draw in a frame: no escapes, no control characters, tabs expanded. */
export function sanitizeLine(line: string, maxChars: number): string {
  const clean = line.replace(ANSI_RE, '').replace(/\t/g, '  ').replace(CONTROL_RE, '');
  return clean.length > maxChars ? clean.slice(0, maxChars) : clean;
}

const SGR = { red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39], bold: [1, 22], dim: [2, 22] } as const;
export type Paint = (style: keyof typeof SGR, text: string) => string;

/** Wraps text in an SGR style when colour is on, else returns it unchanged. */
export function painter(color: boolean): Paint {
  return color ? (style, text) => `\u001b[${SGR[style][0]}m${text}\u001b[${SGR[style][1]}m` : (_style, text) => text;
}
