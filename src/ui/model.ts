// The tty view's state: every event is applied here in O(1) (plus the lines of a log chunk), and
// the renderer takes a snapshot a few times a second. Logs are kept only as short tails.

import type { BuildEvent, LayerInfo, StepInfo } from '../events.js';
import { LineBuffer, LineTail } from './lines.js';
import { sanitizeLine } from './format.js';

/** Lines of output kept per step: enough for a failure report, never the whole log. */
export const TAIL_LINES = 20;
/** Longest log line kept for drawing; the terminal cuts it shorter anyway. */
export const MAX_LINE_CHARS = 1000;

export type StepState = 'waiting' | 'running' | 'cached' | 'done' | 'error' | 'cancelled';

/** What a step.error said: code, message, exit status, where in the recipe. */
export type StepFailureView = Omit<Extract<BuildEvent, { type: 'step.error' }>, 'type' | 'time' | 'step'>;

export interface StepView {
  info: StepInfo;
  state: StepState;
  startedAt?: number;
  durationMs?: number;
  tail: string[];
  layer?: LayerInfo;
  failure?: StepFailureView;
}

export interface TransferView {
  id: string;
  label: string;
  current: number;
  total?: number;
  done: boolean;
}

export type BuildResultView =
  | {
      kind: 'done';
      durationMs: number;
      image?: { digest: string; names: string[] };
      stepsCached: number;
      stepsRun: number;
      layers: Array<LayerInfo & { step?: StepInfo }>;
    }
  | ({ kind: 'error' } & Omit<Extract<BuildEvent, { type: 'build.error' }>, 'type' | 'time'>);

export type PrintedItem = { kind: 'step'; step: StepView } | { kind: 'transfer'; transfer: TransferView };

/** An immutable snapshot: what the components draw. */
export interface BuildView {
  startedAt?: number;
  /** Every step, in plan order. */
  steps: StepView[];
  /** Finished steps in the order they finished. */
  finished: StepView[];
  /** Finished steps and transfers in the order they finished; only ever appended to (ink's `<Static>`). */
  printed: PrintedItem[];
  transfers: TransferView[];
  warnings: string[];
  result?: BuildResultView;
}

interface StepRecord {
  info: StepInfo;
  state: StepState;
  startedAt?: number;
  durationMs?: number;
  lines: LineBuffer;
  tail: LineTail;
  layer?: LayerInfo;
  failure?: StepFailureView;
  /** The snapshot last handed out, reused while nothing about the step changed. */
  view?: StepView;
}

export class BuildModel {
  private startedAt?: number;
  private readonly steps = new Map<number, StepRecord>();
  private readonly finished: StepView[] = [];
  private readonly finishedIds = new Set<number>();
  private readonly printed: PrintedItem[] = [];
  private readonly transfers = new Map<string, TransferView>();
  private readonly warnings: string[] = [];
  private result?: BuildResultView;
  private changed = true;

  /** True when something changed since the last snapshot. */
  get dirty(): boolean {
    return this.changed;
  }

  /** The build has started and not ended: the clock on screen moves. */
  get inProgress(): boolean {
    return this.startedAt !== undefined && this.result === undefined;
  }

  apply(event: BuildEvent): void {
    this.changed = true;
    switch (event.type) {
      case 'build.start':
        this.startedAt = event.time;
        for (const info of event.steps) this.steps.set(info.id, newRecord(info));
        return;
      case 'step.start':
        this.update(event.step, (s) => {
          s.state = 'running';
          s.startedAt = event.time;
        });
        return;
      case 'step.log':
        this.update(event.step, (s) => s.tail.push(clean(s.lines.push(event.data))));
        return;
      case 'step.cached':
        this.finish(event.step, 'cached', () => undefined);
        return;
      case 'step.done':
        this.finish(event.step, 'done', (s) => {
          s.durationMs = event.durationMs;
          s.layer = event.layer;
        });
        return;
      case 'step.error':
        this.finish(event.step, 'error', (s) => {
          s.durationMs = s.startedAt === undefined ? undefined : event.time - s.startedAt;
          const { type: _type, time: _time, step: _step, ...failure } = event;
          s.failure = failure;
        });
        return;
      case 'step.cancelled':
        this.finish(event.step, 'cancelled', () => undefined);
        return;
      case 'transfer': {
        const transfer = {
          id: event.id,
          label: event.label,
          current: event.current,
          total: event.total,
          done: event.done ?? false,
        };
        if (transfer.done && !this.transfers.get(event.id)?.done) this.printed.push({ kind: 'transfer', transfer });
        this.transfers.set(event.id, transfer);
        return;
      }
      case 'warning':
        this.warnings.push(event.message);
        return;
      case 'build.done':
        this.result = {
          kind: 'done',
          durationMs: event.durationMs,
          image: event.image,
          stepsCached: event.stepsCached,
          stepsRun: event.stepsRun,
          layers: event.layers ? this.attributed(event.layers) : this.stepLayers(),
        };
        return;
      case 'build.error': {
        this.cancelRunning();
        const { type: _type, time: _time, ...error } = event;
        this.result = { kind: 'error', ...error };
        return;
      }
    }
  }

  snapshot(): BuildView {
    this.changed = false;
    const steps = [...this.steps.values()].map(viewOf);
    return {
      startedAt: this.startedAt,
      steps,
      // A new array each time: <Static> notices new items by the array, not by mutation.
      finished: [...this.finished],
      printed: [...this.printed],
      transfers: [...this.transfers.values()],
      warnings: [...this.warnings],
      result: this.result,
    };
  }

  private update(id: number, change: (step: StepRecord) => void): StepRecord | undefined {
    const step = this.steps.get(id);
    if (!step) return undefined;
    change(step);
    step.view = undefined;
    return step;
  }

  private finish(id: number, state: StepState, change: (step: StepRecord) => void): void {
    const step = this.update(id, (s) => {
      const rest = s.lines.flush();
      if (rest !== undefined) s.tail.push(clean([rest]));
      s.state = state;
      change(s);
    });
    if (step && !this.finishedIds.has(id)) {
      this.finishedIds.add(id);
      const view = viewOf(step);
      this.finished.push(view);
      this.printed.push({ kind: 'step', step: view });
    }
  }

  /** After a failure or Ctrl-C, steps still running will not finish: show them as cancelled. */
  private cancelRunning(): void {
    for (const step of this.steps.values()) {
      if (step.state === 'running') this.finish(step.info.id, 'cancelled', () => undefined);
    }
  }

  /** The image's layers, each with the step that made it when a step of this build did. */
  private attributed(layers: LayerInfo[]): Array<LayerInfo & { step?: StepInfo }> {
    const byDiffId = new Map(this.stepLayers().map((layer) => [layer.diffId, layer.step]));
    return layers.map((layer) => ({ ...layer, step: byDiffId.get(layer.diffId) }));
  }

  private stepLayers(): Array<LayerInfo & { step?: StepInfo }> {
    return [...this.steps.values()].filter((s) => s.layer).map((s) => ({ ...s.layer!, step: s.info }));
  }
}

function newRecord(info: StepInfo): StepRecord {
  return { info, state: 'waiting', lines: new LineBuffer(), tail: new LineTail(TAIL_LINES) };
}

/** Only the last lines matter; they are made drawable later, when a frame shows them. */
function clean(lines: string[]): string[] {
  const kept = lines.length > TAIL_LINES ? lines.slice(-TAIL_LINES) : lines;
  return kept.map((line) => (line.length > RAW_LINE_CHARS ? line.slice(0, RAW_LINE_CHARS) : line));
}

/** Raw text kept per line before sanitising: escapes may take room, so more than is drawn. */
const RAW_LINE_CHARS = MAX_LINE_CHARS * 4;

function viewOf(step: StepRecord): StepView {
  step.view ??= {
    info: step.info,
    state: step.state,
    startedAt: step.startedAt,
    durationMs: step.durationMs,
    tail: step.tail.toArray().map((line) => sanitizeLine(line, MAX_LINE_CHARS)),
    layer: step.layer,
    failure: step.failure,
  };
  return step.view;
}
