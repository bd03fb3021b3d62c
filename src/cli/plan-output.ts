// The text form of a BuildGraph: what `tsbuild plan` and `tsbuild build --dry-run` print.
// One block per stage, dependencies first; one line per step with its recipe line and its
// expanded instruction; the target's resulting image config at the end.

import { formatPlatform, type BuildGraph, type PlannedStage, type PlannedStep, type StageConfig } from '../index.js';

export function formatPlanText(graph: BuildGraph): string {
  const lines: string[] = [];
  const target = graph.stages.find((stage) => stage.index === graph.target)!;
  lines.push(`${graph.file}: target ${stageLabel(target)} for ${formatPlatform(graph.platform)}`);
  const args = Object.entries(graph.buildArgs);
  if (args.length > 0) lines.push(`build args: ${args.map(([name, value]) => `${name}=${oneLine(value)}`).join(' ')}`);
  const width = String(Math.max(0, ...graph.stages.flatMap((stage) => stage.steps.map((step) => step.location.line)))).length;
  for (const stage of graph.stages) {
    lines.push('', ...formatStage(graph, stage, width));
  }
  lines.push('', 'image config:', ...formatConfig(finalConfig(target)).map((line) => `  ${line}`));
  return lines.join('\n') + '\n';
}

function stageLabel(stage: PlannedStage): string {
  return stage.name ? `#${stage.index} ${stage.name}` : `#${stage.index}`;
}

/** `width`: of the line numbers, so the steps of all stages line up. */
function formatStage(graph: BuildGraph, stage: PlannedStage, width: number): string[] {
  const byIndex = new Map(graph.stages.map((s) => [s.index, s]));
  const needs = stage.dependsOn.map((index) => stageLabel(byIndex.get(index)!));
  const inputs = [...needs, ...stage.imageInputs];
  const platform = formatPlatform(stage.platform) === formatPlatform(graph.platform) ? '' : ` [${formatPlatform(stage.platform)}]`;
  const header = `stage ${stageLabel(stage)}: FROM ${baseText(graph, stage)}${platform}${inputs.length > 0 ? ` (needs ${inputs.join(', ')})` : ''}`;
  return [header, ...stage.steps.map((step) => `  ${String(step.location.line).padStart(width)}  ${stepText(step)}`)];
}

function baseText(graph: BuildGraph, stage: PlannedStage): string {
  switch (stage.base.kind) {
    case 'scratch':
      return 'scratch';
    case 'image':
      return stage.base.ref;
    case 'named':
      return `context ${stage.base.name}`;
    case 'stage': {
      const index = stage.base.stage;
      const base = graph.stages.find((s) => s.index === index);
      return base ? `stage ${stageLabel(base)}` : `stage #${index}`;
    }
  }
}

function stepText(step: PlannedStep): string {
  const text = oneLine(step.instruction);
  switch (step.kind) {
    case 'copy':
    case 'add':
      return step.heredocs.length > 0 || step.sources.length > 0 ? `${text}  → ${step.dest}` : text;
    case 'config':
      return step.createsDir ? `${text}  (creates ${step.createsDir})` : text;
    case 'run':
      return step.network === 'default' ? text : `${text}  (network ${step.network})`;
  }
}

function finalConfig(stage: PlannedStage): StageConfig {
  return stage.steps.length > 0 ? stage.steps[stage.steps.length - 1]!.config : stage.baseConfig;
}

function formatConfig(config: StageConfig): string[] {
  const lines = [
    ...config.env.map((entry) => `env ${oneLine(entry)}`),
    ...(config.entrypoint ? [`entrypoint ${JSON.stringify(config.entrypoint)}`] : []),
    ...(config.cmd ? [`cmd ${JSON.stringify(config.cmd)}`] : []),
    ...(config.user ? [`user ${config.user}`] : []),
    ...(config.workdir ? [`workdir ${config.workdir}`] : []),
    ...Object.entries(config.labels).map(([key, value]) => `label ${key}=${oneLine(value)}`),
    ...(config.exposedPorts.length > 0 ? [`expose ${config.exposedPorts.join(' ')}`] : []),
    ...(config.volumes.length > 0 ? [`volumes ${config.volumes.join(' ')}`] : []),
    ...(config.stopSignal ? [`stopsignal ${config.stopSignal}`] : []),
    ...(config.healthcheck ? [`healthcheck ${JSON.stringify(config.healthcheck.Test)}`] : []),
    ...config.onBuild.map((trigger) => `onbuild ${oneLine(trigger)}`),
  ];
  return lines;
}

/** Keeps one step on one line: newlines and other control characters are shown escaped. */
function oneLine(text: string): string {
  return text.replace(/[\0-\x1f\x7f]/g, (ch) => (ch === '\n' ? '\\n' : ch === '\t' ? '\\t' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
