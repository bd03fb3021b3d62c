// The steps running now, each with its last output lines. Steps of different stages run in
// parallel; when the terminal is wide enough, each stage gets its own column, side by side.

import { Box } from 'ink';
import type { StepView } from '../../model.js';
import { StepLine } from './StepLine.js';
import { StepTail } from './StepTail.js';

export interface RunningStepsProps {
  steps: StepView[];
  /** Set to draw one column per stage; else one list. */
  columns?: StepView[][];
  tailLines: number;
  now: number;
  width: number;
  color: boolean;
}

export function RunningSteps({ steps, columns, tailLines, now, width, color }: RunningStepsProps) {
  if (!columns) return <StepList steps={steps} tailLines={tailLines} now={now} width={width} color={color} />;
  const columnWidth = Math.floor((width - (columns.length - 1)) / columns.length);
  return (
    <Box width={width} columnGap={1}>
      {columns.map((group) => (
        <StepList
          key={group[0]!.info.stage}
          steps={group}
          tailLines={tailLines}
          now={now}
          width={columnWidth}
          color={color}
        />
      ))}
    </Box>
  );
}

function StepList({ steps, tailLines, now, width, color }: Omit<RunningStepsProps, 'columns'>) {
  return (
    <Box flexDirection="column" width={width}>
      {steps.map((step) => (
        <Box key={step.info.id} flexDirection="column">
          <StepLine step={step} now={now} width={width} color={color} />
          <StepTail lines={step.tail} count={tailLines} width={width} color={color} />
        </Box>
      ))}
    </Box>
  );
}
