// Plain progress, one line per event, after BuildKit's `--progress plain`: every line starts with
// the step's `#n`, so parallel steps stay apart and the output greps. Nothing here needs a
// terminal; colour is added only when asked for.

import { formatLocation, formatSourceExcerpt } from '../errors.js';
import type { BuildEvent, EventSink, StepInfo } from '../events.js';
import { formatBytes, formatDuration, painter, stepTitle } from './format.js';
import { LineBuffer, LineTail } from './lines.js';
import type { Writable } from 'node:stream';

/** Lines of a failed step repeated in the error report at the end. */
const REPORT_TAIL_LINES = 10;
/** A transfer prints a progress line at most this often (event time), plus one when done. */
const TRANSFER_LINE_INTERVAL_MS = 1000;

type StepErrorEvent = Extract<BuildEvent, { type: 'step.error' }>;

interface RunningStep {
  startedAt: number;
  /** When the step last printed: a partial line flushed at the end is stamped with it. */
  lastLogAt: number;
  lines: LineBuffer;
  tail: LineTail;
}

export interface PlainRendererOptions {
  out: Writable;
  color: boolean;
}

export function createPlainSink({ out, color }: PlainRendererOptions): EventSink {
  const paint = painter(color);
  const infos = new Map<number, StepInfo>();
  const running = new Map<number, RunningStep>();
  const transferPrintedAt = new Map<string, number>();
  /** The first step that failed, reported again at the end as BuildKit does. */
  let failed: { info: StepInfo; tail: string[]; error: StepErrorEvent } | undefined;

  const label = (id: number) => `#${id}`;
  const title = (id: number) => {
    const info = infos.get(id);
    return `${label(id)} ${info ? stepTitle(info) : '[unknown step]'}`;
  };
  const logLines = (id: number, step: RunningStep, lines: string[], time: number) => {
    step.tail.push(lines);
    const seconds = ((time - step.startedAt) / 1000).toFixed(3);
    return lines.map((line) => `${label(id)} ${seconds} ${line}\n`).join('');
  };
  /** Flushes a step's partial line and forgets the step. */
  const end = (id: number): { text: string; tail: string[] } => {
    const step = running.get(id);
    if (!step) return { text: '', tail: [] };
    running.delete(id);
    const rest = step.lines.flush();
    return { text: rest === undefined ? '' : logLines(id, step, [rest], step.lastLogAt), tail: step.tail.toArray() };
  };

  /** Before a step's last word: its pending output, or its title when it never started. */
  const close = (id: number): string => (running.has(id) ? end(id).text : `${title(id)}\n`);

  const render = (event: BuildEvent): string => {
    switch (event.type) {
      case 'build.start':
        for (const info of event.steps) infos.set(info.id, info);
        return '';
      case 'step.start':
        running.set(event.step, {
          startedAt: event.time,
          lastLogAt: event.time,
          lines: new LineBuffer(),
          tail: new LineTail(REPORT_TAIL_LINES),
        });
        return `${title(event.step)}\n`;
      case 'step.log': {
        const step = running.get(event.step);
        if (!step) return '';
        step.lastLogAt = event.time;
        return logLines(event.step, step, step.lines.push(event.data), event.time);
      }
      case 'step.cached':
        return `${close(event.step)}${label(event.step)} ${paint('cyan', 'CACHED')}\n`;
      case 'step.done':
        return `${end(event.step).text}${label(event.step)} ${paint('green', 'DONE')} ${formatDuration(event.durationMs)}\n`;
      case 'step.error': {
        const { text, tail } = end(event.step);
        const info = infos.get(event.step);
        if (info && !failed) failed = { info, tail, error: event };
        return `${text}${label(event.step)} ${paint('red', `ERROR: ${event.message}`)}\n`;
      }
      case 'step.cancelled':
        return `${close(event.step)}${label(event.step)} ${paint('yellow', 'CANCELLED')}\n`;
      case 'transfer':
        return transferLine(event);
      case 'warning':
        return `${paint('yellow', 'WARNING:')} ${event.location ? `${formatLocation(event.location)}: ` : ''}${event.message}\n`;
      case 'build.done': {
        const image = event.image
          ? `image ${event.image.digest}${event.image.names.length ? ` ${event.image.names.join(', ')}` : ''}\n`
          : '';
        return `${paint('green', 'DONE')} ${formatDuration(event.durationMs)}: ${event.stepsRun} run, ${event.stepsCached} cached\n${image}`;
      }
      case 'build.error':
        return errorReport(event);
    }
  };

  const transferLine = (event: Extract<BuildEvent, { type: 'transfer' }>): string => {
    const last = transferPrintedAt.get(event.id);
    if (!event.done && last !== undefined && event.time - last < TRANSFER_LINE_INTERVAL_MS) return '';
    transferPrintedAt.set(event.id, event.time);
    const amount = event.total === undefined
      ? formatBytes(event.current)
      : `${formatBytes(event.current)} / ${formatBytes(event.total)}`;
    // Transfers are not steps: no `#n`, and their ids (`pull:sha256:…`) are too long to print.
    return `=> ${event.label}: ${event.done ? `${formatBytes(event.current)} done` : amount}\n`;
  };

  const errorReport = (event: Extract<BuildEvent, { type: 'build.error' }>): string => {
    const out: string[] = [];
    for (const id of [...running.keys()]) out.push(end(id).text + `${label(id)} ${paint('yellow', 'CANCELLED')}\n`);
    if (failed) {
      out.push('------\n', ` > ${stepTitle(failed.info)}:\n`);
      for (const line of failed.tail) out.push(` ${line}\n`);
      out.push('------\n');
    }
    const location = event.location ?? failed?.error.location;
    const source = event.source ?? failed?.error.source;
    if (location && source !== undefined) {
      out.push(`${formatLocation(location)}\n${formatSourceExcerpt(source, location)}\n`);
    }
    const what = event.code === 'E_CANCELLED' ? 'CANCELLED' : 'ERROR';
    out.push(`${paint('red', `${what}:`)} ${event.message} [${event.code}] after ${formatDuration(event.durationMs)}\n`);
    if (event.hint) out.push(`hint: ${event.hint}\n`);
    return out.join('');
  };

  return (event) => {
    const text = render(event);
    if (text) out.write(text);
  };
}
