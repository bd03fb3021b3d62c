// The text of a replay report: `reproduced N/N steps`, or the first divergent step with its
// Dockerfile line and the file-level differences of its layer.

import { formatLocation } from '../errors.js';
import { formatChanges } from './layer-diff.js';
import type { ReplayReport } from './replay.js';

export function formatReplayReport(report: ReplayReport): string {
  const lines: string[] = [];
  const { first } = report;
  if (first) {
    const { step } = first;
    const where = step.location ? ` (${formatLocation(step.location)})` : '';
    // Named as progress output names steps: an unnamed stage is `stage-N`.
    const stage = /^\d+$/.test(step.stage) ? `stage-${step.stage}` : step.stage;
    lines.push(`step #${step.id} [${stage} ${step.index}/${step.total}] ${step.instruction}${where} did not reproduce`);
    if (!step.hermetic) lines.push('note: this step used the network, so it was not expected to replay bit for bit');
    if (first.error) lines.push(`the rebuild failed here: ${first.error}`);
    else {
      lines.push(`layer ${first.layerIndex + 1}: archived ${first.archived ?? '(none)'}, rebuilt ${first.rebuilt ?? '(none)'}`);
      lines.push(formatChanges(first.changes).trimEnd());
    }
    if (report.divergent.length > 1) lines.push(`later steps that differ: ${report.divergent.slice(1).map((id) => `#${id}`).join(' ')}`);
  }
  const { archived, rebuilt } = report.image;
  // Every layer alike and still another image: the config or manifest differs, which no step's diff shows.
  if (!first && rebuilt !== undefined && rebuilt !== archived) lines.push(`the image did not reproduce: archived ${archived}, rebuilt ${rebuilt}`);
  lines.push(`reproduced ${report.reproduced}/${report.total} steps`);
  return lines.join('\n') + '\n';
}
