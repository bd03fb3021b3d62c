// The helper's exit statuses and its --status-fd line → StepFailure. Mirrors the table in
// native/README.md and native/util.h.

import type { StepFailure } from '../errors.js';

export const HelperExit = {
  cannotExecute: 126,
  notFound: 127,
  setup: 250,
  timeout: 251,
  oom: 252,
  pids: 253,
} as const;

export interface HelperOutcome {
  exitCode: number;
  failure?: StepFailure;
}

/**
 * Reads the status line ("exit N", "signal N", "timeout S", "oom BYTES", "pids N",
 * "setup MESSAGE"); it tells a setup failure from a command that exits with the same number.
 * Without a line (the helper died before writing it) the exit status alone decides.
 */
export function outcomeFromStatus(
  statusLine: string,
  exitCode: number | null,
  exitSignal: NodeJS.Signals | null,
  stderrTail: string,
): HelperOutcome {
  const line = statusLine.trim();
  const space = line.indexOf(' ');
  const word = space < 0 ? line : line.slice(0, space);
  const rest = space < 0 ? '' : line.slice(space + 1);
  const code = exitCode ?? HelperExit.setup;
  const number = Number(rest);
  switch (word) {
    case 'exit':
      return number === 0 ? { exitCode: 0 } : { exitCode: number, failure: { kind: 'exit', status: number } };
    case 'signal':
      return { exitCode: 128 + number, failure: { kind: 'signal', signal: number } };
    case 'timeout':
      return { exitCode: code, failure: { kind: 'timeout', seconds: number } };
    case 'oom':
      return { exitCode: code, failure: { kind: 'oom', limitBytes: number || undefined } };
    case 'pids':
      return { exitCode: code, failure: { kind: 'pids', limit: number || undefined } };
    case 'setup':
      return { exitCode: code, failure: { kind: 'setup', message: rest } };
    default:
      break;
  }
  const why = exitSignal !== null ? `was killed by ${exitSignal}` : `exited with status ${exitCode}`;
  const detail = stderrTail.trim() === '' ? '' : `: ${stderrTail.trim().split('\n').pop()}`;
  return {
    exitCode: code,
    failure: { kind: 'setup', message: `the sandbox helper ${why} without reporting a status${detail}` },
  };
}
