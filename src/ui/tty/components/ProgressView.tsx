// The whole tty view. Finished steps go to ink's <Static> (printed once, then left in the
// scrollback, as in ink's examples/jest); below them a live region redrawn each frame: the
// header, transfers, running steps with their output, waiting steps. When the build ends, the
// summary or the failure report goes to <Static> too and the live region empties: a report
// taller than the terminal is then just printed, never redrawn (ink clears the whole screen,
// scrollback included, to redraw output taller than the terminal).

import { Box, Static, Text } from 'ink';
import type { BuildView, PrintedItem } from '../../model.js';
import { planLiveLayout } from '../layout.js';
import { FailureReport } from './FailureReport.js';
import { Header } from './Header.js';
import { RunningSteps } from './RunningSteps.js';
import { StepLine } from './StepLine.js';
import { Summary } from './Summary.js';
import { TransferLine } from './TransferLine.js';

export interface ProgressViewProps {
  view: BuildView;
  now: number;
  width: number;
  rows: number;
  color: boolean;
}

/** What <Static> prints: finished steps and transfers, then the outcome once the build has ended. */
type Printed = PrintedItem | { kind: 'outcome' };

export function ProgressView({ view, now, width, rows, color }: ProgressViewProps) {
  const printed: Printed[] = view.result ? [...view.printed, { kind: 'outcome' }] : view.printed;
  return (
    <>
      <Static items={printed}>
        {(item) => {
          switch (item.kind) {
            case 'step':
              return <StepLine key={`step ${item.step.info.id}`} step={item.step} now={now} width={width} color={color} />;
            case 'transfer':
              return <TransferLine key={`transfer ${item.transfer.id}`} transfer={item.transfer} width={width} color={color} />;
            case 'outcome':
              return (
                <Box key="outcome" flexDirection="column" width={width}>
                  <Header view={view} elapsedMs={view.result!.durationMs} width={width} color={color} />
                  <Outcome view={view} width={width} color={color} />
                </Box>
              );
          }
        }}
      </Static>
      {view.result ? null : view.startedAt === undefined ? (
        // No build (a pull or a push on its own): only the transfers.
        <Transfers view={view} width={width} color={color} />
      ) : (
        <Box flexDirection="column" width={width}>
          <Header view={view} elapsedMs={now - view.startedAt} width={width} color={color} />
          <Live view={view} now={now} width={width} rows={rows} color={color} />
        </Box>
      )}
    </>
  );
}

function Transfers({ view, width, color }: Pick<ProgressViewProps, 'view' | 'width' | 'color'>) {
  return (
    <Box flexDirection="column" width={width}>
      {view.transfers
        .filter((transfer) => !transfer.done)
        .map((transfer) => (
          <TransferLine key={transfer.id} transfer={transfer} width={width} color={color} />
        ))}
    </Box>
  );
}

function Live({ view, now, width, rows, color }: ProgressViewProps) {
  const layout = planLiveLayout(view, rows, width);
  return (
    <Box flexDirection="column" width={width}>
      {layout.transfers.map((transfer) => (
        <TransferLine key={transfer.id} transfer={transfer} width={width} color={color} />
      ))}
      <RunningSteps
        steps={layout.running}
        columns={layout.columns}
        tailLines={layout.tailLines}
        now={now}
        width={width}
        color={color}
      />
      {layout.hiddenRunning > 0 ? <Text dimColor={color}>  … {layout.hiddenRunning} more running</Text> : null}
      {layout.waiting.map((step) => (
        <StepLine key={step.info.id} step={step} now={now} width={width} color={color} />
      ))}
      {layout.hiddenWaiting > 0 ? (
        <Text dimColor={color}>
          {'  '}… {layout.hiddenWaiting} {layout.waiting.length > 0 ? 'more ' : ''}waiting
        </Text>
      ) : null}
    </Box>
  );
}

function Outcome({ view, width, color }: Omit<ProgressViewProps, 'now' | 'rows'>) {
  const result = view.result!;
  if (result.kind === 'done') return <Summary result={result} warnings={view.warnings} width={width} color={color} />;
  const failedStep = view.finished.find((s) => s.state === 'error');
  return <FailureReport result={result} failedStep={failedStep} width={width} color={color} />;
}
