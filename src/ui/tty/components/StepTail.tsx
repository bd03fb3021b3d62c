// The last few lines a step printed, indented under it and cut to the width.

import { Box, Text } from 'ink';

export interface StepTailProps {
  lines: readonly string[];
  count: number;
  width: number;
  color: boolean;
}

export function StepTail({ lines, count, width, color }: StepTailProps) {
  if (count <= 0) return null;
  const shown = lines.slice(-count);
  return (
    <Box flexDirection="column" width={width} paddingLeft={3}>
      {shown.map((line, i) => (
        <Text key={i} wrap="truncate-end" dimColor={color}>
          {line === '' ? ' ' : line}
        </Text>
      ))}
    </Box>
  );
}
