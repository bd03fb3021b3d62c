// Mounts the ProgressView with ink and redraws it when told to. Loaded lazily (see load.ts).

import { EventEmitter } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import { render, type Instance } from 'ink';
import { ProgressView, type ProgressViewProps } from './components/ProgressView.js';

/**
 * What ink writes to: the renderer's stream, with the terminal size the CLI gave us (a fake
 * stream in tests and benchmarks has none), kept current on resize.
 */
export class TerminalOut extends EventEmitter {
  readonly isTTY = true;
  columns: number;
  rows: number;
  private readonly out: Writable;

  constructor(out: Writable, columns: number, rows: number) {
    super();
    this.out = out;
    this.columns = columns;
    this.rows = rows;
  }

  write(chunk: string): boolean {
    return this.out.write(chunk);
  }
}

export interface LiveView {
  update(props: ProgressViewProps): void;
  unmount(): Promise<void>;
}

/** Frames per second ink may write; the renderer's own tick decides how often we re-render. */
const MAX_FPS = 20;

export function mountProgressView(term: TerminalOut, props: ProgressViewProps): LiveView {
  const stdout = term as unknown as NodeJS.WriteStream;
  const instance: Instance = render(<ProgressView {...props} />, {
    stdout,
    stderr: stdout,
    // The view reads no keys; Ctrl-C belongs to the CLI. A private stdin keeps ink off fd 0.
    stdin: new PassThrough() as unknown as NodeJS.ReadStream,
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: MAX_FPS,
    // Not incrementalRendering: in ink 6.8 it leaves old frames on screen once <Static> output
    // is printed (test/e2e/tty.test.ts catches it). Full redraws, which ink wraps in
    // synchronized-output brackets, do not flicker on terminals that support them.
  });
  return {
    update: (next) => instance.rerender(<ProgressView {...next} />),
    async unmount() {
      const exited = instance.waitUntilExit();
      instance.unmount();
      await exited;
    },
  };
}
