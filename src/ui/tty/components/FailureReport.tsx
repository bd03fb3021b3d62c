// What is left on screen after a failed or cancelled build: the failing step with the end of
// its output, the recipe lines around the instruction with the line marked, and the error.

import { Box, Text } from 'ink';
import { formatLocation, formatSourceExcerpt, type SourceLocation } from '../../../errors.js';
import { formatDuration, stepTitle } from '../../format.js';
import type { BuildResultView, StepView } from '../../model.js';

/** Output lines of the failing step shown in the report. */
export const REPORT_TAIL_LINES = 12;

export interface FailureReportProps {
  result: Extract<BuildResultView, { kind: 'error' }>;
  /** The first step that failed, if a step failed. */
  failedStep?: StepView;
  width: number;
  color: boolean;
}

export function FailureReport({ result, failedStep, width, color }: FailureReportProps) {
  const red = color ? 'red' : undefined;
  if (result.code === 'E_CANCELLED') {
    return (
      <Box width={width}>
        <Text color={color ? 'yellow' : undefined}>✗ cancelled after {formatDuration(result.durationMs)}</Text>
      </Box>
    );
  }
  const failure = failedStep?.failure;
  const location: SourceLocation | undefined = result.location ?? failure?.location;
  const source = result.source ?? failure?.source;
  const tail = failedStep?.tail.slice(-REPORT_TAIL_LINES) ?? [];
  return (
    <Box flexDirection="column" width={width}>
      {failedStep ? (
        <Text wrap="truncate-end">
          <Text color={red}>✗ ERROR</Text> {stepTitle(failedStep.info)}
          {failure?.exitStatus !== undefined ? ` (exit status ${failure.exitStatus})` : ''}
        </Text>
      ) : null}
      {tail.map((line, i) => (
        <Text key={i} wrap="truncate-end" dimColor={color}>
          {'  │ '}
          {line}
        </Text>
      ))}
      {location && source !== undefined ? (
        <Box flexDirection="column">
          <Text>{formatLocation(location)}</Text>
          {formatSourceExcerpt(source, location)
            .split('\n')
            .map((line, i) => (
              <Text key={i} wrap="truncate-end" color={line.startsWith('>>>') ? red : undefined}>
                {line}
              </Text>
            ))}
        </Box>
      ) : null}
      <Text wrap="wrap">
        <Text color={red}>error:</Text> {result.message} [{result.code}] after {formatDuration(result.durationMs)}
      </Text>
      {result.hint ? <Text wrap="wrap">hint: {result.hint}</Text> : null}
    </Box>
  );
}
