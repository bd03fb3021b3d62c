// The live terminal view. Events only update the model (cheap, synchronous); a timer takes a
// snapshot and re-renders the ink tree at most FRAMES_PER_SECOND times a second, whatever the
// event rate, so a step printing a flood of lines costs the build almost nothing.

import type { Writable } from 'node:stream';
import type { EventSink } from '../../events.js';
import { BuildModel } from '../model.js';
import type { ProgressViewProps } from './components/ProgressView.js';
import { loadLiveView } from './load.js';
import type { LiveView, TerminalOut } from './live.js';

export const FRAMES_PER_SECOND = 10;
const DEFAULT_COLUMNS = 80;
const DEFAULT_ROWS = 24;

export interface TtyRendererOptions {
  out: Writable;
  color: boolean;
  columns?: number;
  rows?: number;
  now: () => number;
}

export function createTtyRenderer(options: TtyRendererOptions): { sink: EventSink; finish(): Promise<void> } {
  const model = new BuildModel();
  let term: TerminalOut | undefined;
  let live: LiveView | undefined;
  let unfollow = () => {};

  const props = (): ProgressViewProps => ({
    view: model.snapshot(),
    now: options.now(),
    width: term?.columns ?? DEFAULT_COLUMNS,
    rows: term?.rows ?? DEFAULT_ROWS,
    color: options.color,
  });
  const draw = () => live?.update(props());
  const tick = () => {
    // Redraw on news, and while the build runs (spinner, elapsed time).
    if (model.dirty || model.inProgress) draw();
  };

  // A failure to load ink (a broken install) is reported by finish(), not as an unhandled rejection.
  let loadFailure: { error: unknown } | undefined;
  const ready = loadLiveView().then(
    (module) => {
      term = new module.TerminalOut(options.out, options.columns ?? DEFAULT_COLUMNS, options.rows ?? DEFAULT_ROWS);
      unfollow = followResize(options.out, term, draw);
      live = module.mountProgressView(term, props());
    },
    (error: unknown) => {
      loadFailure = { error };
    },
  );
  const timer = setInterval(tick, 1000 / FRAMES_PER_SECOND);
  timer.unref();

  let finished: Promise<void> | undefined;
  const finish = async () => {
    clearInterval(timer);
    await ready;
    if (loadFailure) throw loadFailure.error;
    draw();
    await live!.unmount();
    unfollow();
  };
  return {
    sink: (event) => model.apply(event),
    finish: () => (finished ??= finish()),
  };
}

/** A real terminal stream emits 'resize' and knows its size; pass both on to ink. */
function followResize(out: Writable, term: TerminalOut, redraw: () => void): () => void {
  const sized = out as Writable & { columns?: number; rows?: number };
  const onResize = () => {
    if (typeof sized.columns === 'number') term.columns = sized.columns;
    if (typeof sized.rows === 'number') term.rows = sized.rows;
    // Our tree takes the width as a prop: re-render it first, then let ink clear and redraw.
    redraw();
    term.emit('resize');
  };
  out.on('resize', onResize);
  return () => out.off('resize', onResize);
}
