// One entry for the CLI: a renderer for the chosen mode. Every renderer is a sink of build
// events plus finish(), which the CLI awaits before it prints results and exits.

import type { Writable } from 'node:stream';
import type { EventSink } from '../events.js';
import { createJsonSink } from './json.js';
import type { ProgressMode } from './mode.js';
import { createPlainSink } from './plain.js';
import { createTtyRenderer } from './tty/renderer.js';

export interface RendererOptions {
  /** Where progress goes: the CLI passes stderr (stdout is for results). */
  out: Writable;
  /** Colour on; the CLI passes false for NO_COLOR and for non-terminals. */
  color: boolean;
  /** Terminal size for tty mode (default 80×24); followed on 'resize' when `out` emits it. */
  columns?: number;
  rows?: number;
  /** The clock for elapsed times in tty mode (default Date.now). */
  now?: () => number;
}

export interface Renderer {
  sink: EventSink;
  /** Draws the last frame and releases the output, after the last event; calling it again is harmless. */
  finish(): Promise<void>;
}

export function createRenderer(mode: ProgressMode, options: RendererOptions): Renderer {
  switch (mode) {
    case 'tty':
      return createTtyRenderer({ ...options, now: options.now ?? Date.now });
    case 'plain':
      return immediate(createPlainSink(options));
    case 'json':
      return immediate(createJsonSink(options.out));
    case 'quiet':
      return immediate(() => undefined);
  }
}

function immediate(sink: EventSink): Renderer {
  return { sink, finish: async () => undefined };
}
