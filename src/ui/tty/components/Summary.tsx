// What is left on screen after a successful build: image, names, time, steps run and cached,
// and the layers with their sizes.

import { Box, Text } from 'ink';
import { formatBytes, formatDuration, shortDigest, stepTitle } from '../../format.js';
import type { BuildResultView } from '../../model.js';

/** Layers listed one per line before the rest collapse into a count. */
export const MAX_LAYERS_SHOWN = 8;

export interface SummaryProps {
  result: Extract<BuildResultView, { kind: 'done' }>;
  warnings: readonly string[];
  width: number;
  color: boolean;
}

export function Summary({ result, warnings, width, color }: SummaryProps) {
  const total = result.layers.reduce((sum, layer) => sum + layer.size, 0);
  const shown = result.layers.slice(-MAX_LAYERS_SHOWN);
  const hidden = result.layers.length - shown.length;
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate-end">
        <Text color={color ? 'green' : undefined}>✔ Built</Text> in {formatDuration(result.durationMs)}:{' '}
        {result.stepsRun + result.stepsCached} steps, {result.stepsRun} run, {result.stepsCached} cached
      </Text>
      {result.image ? (
        <Text wrap="truncate-end">
          {'  '}image {result.image.digest}
          {result.image.names.length > 0 ? ` (${result.image.names.join(', ')})` : ''}
        </Text>
      ) : null}
      {result.layers.length > 0 ? (
        <Text wrap="truncate-end">
          {'  '}layers {result.layers.length}, {formatBytes(total)}
          {hidden > 0 ? ` (last ${shown.length} shown)` : ''}
        </Text>
      ) : null}
      {shown.map((layer) => (
        <Text key={layer.diffId} wrap="truncate-end" dimColor={color}>
          {'    '}
          {formatBytes(layer.size).padStart(8)} {shortDigest(layer.diffId)}
          {layer.step ? `  ${stepTitle(layer.step)}` : ''}
        </Text>
      ))}
      {warnings.map((warning, i) => (
        <Text key={i} wrap="truncate-end" color={color ? 'yellow' : undefined}>
          {'  '}warning: {warning}
        </Text>
      ))}
    </Box>
  );
}
