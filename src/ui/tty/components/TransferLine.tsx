// A transfer (context, pull, push, export): label, a bar when the total is known, and bytes;
// once done, the bytes moved.

import { Box, Text } from 'ink';
import { formatBytes } from '../../format.js';
import type { TransferView } from '../../model.js';

const BAR_WIDTH = 20;

/** `[######--------------]` for a fraction in [0, 1]. */
export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export interface TransferLineProps {
  transfer: TransferView;
  width: number;
  color: boolean;
}

export function TransferLine({ transfer, width, color }: TransferLineProps) {
  const { current, total, done } = transfer;
  const known = !done && total !== undefined && total > 0;
  const amount = done ? `${formatBytes(current)} done` : known ? `${formatBytes(current)} / ${formatBytes(total)}` : formatBytes(current);
  return (
    <Box width={width}>
      <Box flexShrink={0} marginRight={1}>
        <Text color={color ? 'cyan' : undefined}>{'=>'}</Text>
      </Box>
      <Box flexGrow={1} flexShrink={1}>
        <Text wrap="truncate-end">{transfer.label}</Text>
      </Box>
      {known ? (
        <Box flexShrink={0} marginLeft={1}>
          <Text color={color ? 'cyan' : undefined}>{progressBar(current / total)}</Text>
        </Box>
      ) : null}
      <Box flexShrink={0} marginLeft={1}>
        <Text>{amount}</Text>
      </Box>
    </Box>
  );
}
