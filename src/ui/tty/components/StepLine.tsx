// One step on one line: a state marker, `[stage n/m] INSTRUCTION` cut to the width, and the
// state on the right (elapsed time, duration, CACHED, ERROR…).

import { Box, Text } from 'ink';
import { formatDuration, stepTitle } from '../../format.js';
import type { StepView } from '../../model.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The spinner glyph at a time: a pure function of the clock, so frames are reproducible. */
export function spinnerFrame(now: number): string {
  return SPINNER[Math.floor(now / 100) % SPINNER.length]!;
}

interface Look {
  marker: string;
  label?: string;
  status: string;
  color?: 'green' | 'cyan' | 'red' | 'yellow';
}

function look(step: StepView, now: number): Look {
  switch (step.state) {
    case 'waiting':
      return { marker: '·', status: 'waiting' };
    case 'running':
      return { marker: spinnerFrame(now), status: formatDuration(now - (step.startedAt ?? now)), color: 'yellow' };
    case 'cached':
      return { marker: '=>', label: 'CACHED', status: '0.0s', color: 'cyan' };
    case 'done':
      return { marker: '=>', status: formatDuration(step.durationMs ?? 0), color: 'green' };
    case 'error':
      return { marker: '=>', label: 'ERROR', status: formatDuration(step.durationMs ?? 0), color: 'red' };
    case 'cancelled':
      return { marker: '=>', label: 'CANCELLED', status: '', color: 'yellow' };
  }
}

export interface StepLineProps {
  step: StepView;
  now: number;
  width: number;
  color: boolean;
}

export function StepLine({ step, now, width, color }: StepLineProps) {
  const { marker, label, status, color: tint } = look(step, now);
  const paint = color ? tint : undefined;
  return (
    <Box width={width}>
      <Box flexShrink={0} marginRight={1}>
        <Text color={paint}>{marker}</Text>
      </Box>
      <Box flexGrow={1} flexShrink={1}>
        <Text wrap="truncate-end" dimColor={color && step.state === 'waiting'}>
          {label ? <Text color={paint}>{label} </Text> : null}
          {stepTitle(step.info)}
        </Text>
      </Box>
      <Box flexShrink={0} marginLeft={1}>
        <Text color={paint}>{status}</Text>
      </Box>
    </Box>
  );
}
