// How the live region fits the terminal: which running and waiting steps get a line, how many
// log lines each running step shows, and what collapses into a count. Pure, so the rules are
// tested without drawing.

import type { BuildView, StepView, TransferView } from '../model.js';

/** Log lines under a running step when there is room. */
export const MAX_TAIL_SHOWN = 3;
/** Waiting steps listed by name before the rest collapse into a count. */
export const MAX_WAITING_SHOWN = 3;
export const MAX_TRANSFERS_SHOWN = 3;
/** Narrowest column for one stage when stages are drawn side by side. */
export const MIN_STAGE_COLUMN = 48;

export interface LiveLayout {
  running: StepView[];
  hiddenRunning: number;
  tailLines: number;
  waiting: StepView[];
  hiddenWaiting: number;
  transfers: TransferView[];
  /** Running steps grouped by stage, in columns, when more than one stage runs and the width allows. */
  columns: StepView[][] | undefined;
}

/**
 * `rows` is the terminal height: the live region stays strictly below it, since ink clears the
 * whole screen when its output reaches the terminal's height.
 */
export function planLiveLayout(view: BuildView, rows: number, width: number): LiveLayout {
  let room = Math.max(rows - 1, 4) - 1; // the header takes one line
  const transfers = view.transfers.filter((t) => !t.done).slice(0, Math.min(MAX_TRANSFERS_SHOWN, room - 1));
  room -= transfers.length;
  const allRunning = view.steps.filter((s) => s.state === 'running');
  const allWaiting = view.steps.filter((s) => s.state === 'waiting');
  const waitingReserve = allWaiting.length > 0 ? 1 : 0;

  const runningRoom = Math.max(room - waitingReserve, 1);
  const running = allRunning.length <= runningRoom ? allRunning : allRunning.slice(0, runningRoom - 1);
  const hiddenRunning = allRunning.length - running.length;
  const columns = stageColumns(running, width);
  const stepRows = columns ? Math.max(...columns.map((c) => c.length)) : running.length;
  room -= stepRows + (hiddenRunning > 0 ? 1 : 0);

  const tailLines = stepRows === 0 ? 0 : Math.max(0, Math.min(MAX_TAIL_SHOWN, Math.floor((room - waitingReserve) / stepRows)));
  room -= stepRows * tailLines;

  const listed = allWaiting.length <= Math.min(MAX_WAITING_SHOWN, room)
    ? allWaiting.length
    : Math.max(0, Math.min(MAX_WAITING_SHOWN, room - 1));
  const waiting = allWaiting.slice(0, listed);
  return {
    running,
    hiddenRunning,
    tailLines,
    waiting,
    hiddenWaiting: allWaiting.length - waiting.length,
    transfers,
    columns,
  };
}

function stageColumns(running: StepView[], width: number): StepView[][] | undefined {
  const byStage = new Map<string, StepView[]>();
  for (const step of running) {
    const group = byStage.get(step.info.stage) ?? [];
    group.push(step);
    byStage.set(step.info.stage, group);
  }
  const fit = Math.floor(width / MIN_STAGE_COLUMN);
  if (byStage.size < 2 || byStage.size > fit) return undefined;
  return [...byStage.values()];
}
