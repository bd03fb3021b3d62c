// A real terminal for tests: a detached tmux session of fixed size, driven with send-keys and
// read with capture-pane. Used to check what a person would actually see on screen.

import { execFileSync, spawnSync } from 'node:child_process';

/** The shell's prompt in the pane: a line that is only this means the last command ended. */
export const PROMPT = 'tmux$';

export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

export class TmuxSession {
  readonly name: string;

  constructor(name: string, columns: number, rows: number, cwd: string) {
    this.name = name;
    // A private server socket (-L) keeps tests away from the user's own tmux sessions.
    this.tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', String(rows), '-c', cwd, `env PS1='${PROMPT} ' bash --norc --noprofile`);
    this.tmux('set-option', '-t', name, 'history-limit', '10000');
  }

  /** Types a command line and presses Enter. */
  run(commandLine: string): void {
    this.tmux('send-keys', '-t', this.name, '-l', commandLine);
    this.tmux('send-keys', '-t', this.name, 'Enter');
  }

  /** Presses keys by tmux name (`C-c`, `Enter`). */
  keys(...names: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...names);
  }

  /** The visible screen, or with `history` everything that scrolled off above it too. */
  capture(options: { history?: boolean } = {}): string {
    const range = options.history ? ['-S', '-'] : [];
    return this.tmux('capture-pane', '-p', '-t', this.name, ...range);
  }

  /** Polls the screen until `predicate` holds; fails with the last screen after `timeoutMs`. */
  async waitFor(predicate: (screen: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.capture();
      if (predicate(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`tmux: timed out; the screen shows:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  kill(): void {
    spawnSync('tmux', ['-L', 'tsbuild-test', 'kill-session', '-t', this.name], { stdio: 'ignore' });
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', 'tsbuild-test', ...args], { encoding: 'utf8' });
  }
}
