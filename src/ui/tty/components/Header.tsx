// `[+] Building 12.3s (5/12) 2 running`: elapsed time and progress at a glance.

import { Box, Text } from 'ink';
import { formatDuration } from '../../format.js';
import type { BuildView } from '../../model.js';

export interface HeaderProps {
  view: BuildView;
  elapsedMs: number;
  width: number;
  color: boolean;
}

export function Header({ view, elapsedMs, width, color }: HeaderProps) {
  const finished = view.finished.length;
  const running = view.steps.filter((s) => s.state === 'running').length;
  const outcome = !view.result
    ? ''
    : view.result.kind === 'done'
      ? ' FINISHED'
      : view.result.code === 'E_CANCELLED'
        ? ' CANCELLED'
        : ' FAILED';
  const detail = !view.result && running > 0 ? ` ${running} running` : '';
  return (
    <Box width={width}>
      <Text wrap="truncate-end" bold={color}>
        [+] Building {formatDuration(elapsedMs)} ({finished}/{view.steps.length}){outcome}
        {detail}
      </Text>
    </Box>
  );
}
