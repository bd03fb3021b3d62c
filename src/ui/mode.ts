// Which renderer to use. The CLI reads the flag and the TTY state and calls this; nothing in
// ui/ looks at the environment itself.

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';
export type RequestedProgressMode = ProgressMode | 'auto';

/** `auto` is the live view on a terminal and plain lines anywhere else; an explicit mode is kept. */
export function chooseProgressMode(requested: RequestedProgressMode, isTTY: boolean): ProgressMode {
  if (requested === 'auto') return isTTY ? 'tty' : 'plain';
  return requested;
}
