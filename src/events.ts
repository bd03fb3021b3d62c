// The progress events the solver emits. Renderers (ui/) consume only these, and
// `--progress json` prints exactly these objects, one per line: the field names are an API,
// documented in the README. Add fields; never rename or remove one.

import type { SourceLocation } from './errors.js';

/** One step of the build as the UI lists it. */
export interface StepInfo {
  /** Build-wide step number, 1-based, in plan order: `#n` in plain output. */
  id: number;
  /** Stage name (or its index as a string when unnamed). */
  stage: string;
  /** Position of the step inside its stage, 1-based, and the stage's step count. */
  index: number;
  total: number;
  /** The instruction as written after expansion, e.g. `RUN make -j2`. */
  instruction: string;
  location?: SourceLocation;
}

export interface LayerInfo {
  diffId: string;
  size: number;
}

export type BuildEvent =
  | { type: 'build.start'; time: number; steps: StepInfo[] }
  | { type: 'step.start'; time: number; step: number }
  | { type: 'step.log'; time: number; step: number; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'step.cached'; time: number; step: number; cacheKey?: string }
  | { type: 'step.done'; time: number; step: number; durationMs: number; layer?: LayerInfo; cacheKey?: string }
  | {
      type: 'step.error';
      time: number;
      step: number;
      code: string;
      message: string;
      exitStatus?: number;
      /** Where in the recipe the failing instruction is, and the recipe text, for an excerpt. */
      location?: SourceLocation;
      source?: string;
    }
  | { type: 'step.cancelled'; time: number; step: number }
  | {
      type: 'transfer';
      time: number;
      /** Stable id of the transfer (e.g. `context`, `pull:<digest>`, `export:oci`). */
      id: string;
      label: string;
      current: number;
      total?: number;
      done?: boolean;
    }
  | { type: 'warning'; time: number; message: string; location?: SourceLocation }
  | {
      type: 'build.done';
      time: number;
      durationMs: number;
      image?: { digest: string; names: string[] };
      stepsCached: number;
      stepsRun: number;
      /** The image's layers, base first, for the summary. */
      layers?: LayerInfo[];
    }
  | {
      type: 'build.error';
      time: number;
      durationMs: number;
      code: string;
      message: string;
      /** Set when the error points into the recipe (a RecipeError/BuildError with a location). */
      location?: SourceLocation;
      source?: string;
      /** What the user can do about it (TsbuildError.hint). */
      hint?: string;
    };

export type BuildEventType = BuildEvent['type'];

/** Where the solver sends events; renderers implement it. */
export type EventSink = (event: BuildEvent) => void;
