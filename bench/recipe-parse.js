#!/usr/bin/env node
// Benchmark: parsing and planning a large recipe — 50 stages, 2,000 lines, with continuations,
// heredocs, ARG/ENV expansion, mounts and COPY --from between stages, the last stage needing
// all the others. Reports the median time of parseRecipe + planBuild, and as the reference
// measured in the same run, dockerfile-ast's parse alone (the library the parser builds on).
// The target: well under a second.
//
//   npx tsc -p . && node bench/recipe-parse.js [--stages 50] [--lines 2000] [--runs 7] [--json]

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DockerfileParser } from 'dockerfile-ast';
import { median } from './lib/stats.js';

const dist = new URL('../dist/index.js', import.meta.url);
if (!existsSync(dist)) {
  console.error('bench/recipe-parse: dist/index.js is missing; run `npx tsc -p .` first.');
  process.exit(2);
}
const { parseRecipe, planBuild } = await import(dist.href);

const { values } = parseArgs({
  options: {
    stages: { type: 'string', default: '50' },
    lines: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
  },
});
const STAGES = Number(values.stages);
const LINES = Number(values.lines);
const RUNS = Number(values.runs);

/** One stage of about `budget` lines, using the stages before it. */
function stage(index, budget) {
  const lines = [
    index === 0 ? 'FROM ${BASE}:${TAG} AS s0' : `FROM s${index - 1} AS s${index}`,
    `ARG VERSION`,
    `ARG STAGE_${index}=value-${index}`,
    `ENV PATH=/opt/s${index}/bin:$PATH \\`,
    `    STAGE=\${STAGE_${index}} \\`,
    `    VERSION=\${VERSION:-dev}`,
    `WORKDIR /work/s${index}`,
    `LABEL org.example.stage${index}="\${STAGE_${index}%-*}" org.example.version=$VERSION`,
    `COPY --chown=1000:1000 --chmod=0644 src/s${index}/ ./src/`,
  ];
  if (index > 0) lines.push(`COPY --from=s${Math.floor(index / 2)} /work/s${Math.floor(index / 2)}/out ./deps/`);
  lines.push(
    `RUN --mount=type=cache,id=cache-${index},target=/root/.cache \\`,
    `    --mount=type=bind,source=scripts,target=/scripts \\`,
    `    ./configure --prefix=/opt/s${index} && \\`,
    `    # build it`,
    `    make -j4 && \\`,
    `    make install`,
    `COPY <<EOF /etc/s${index}.conf`,
    `stage=\${STAGE_${index}}`,
    `version=$VERSION`,
    `EOF`,
  );
  let n = 0;
  while (lines.length < budget - 2) lines.push(`RUN echo "step ${n++} of stage ${index}" > /work/s${index}/step-${n}`);
  lines.push(`EXPOSE ${8000 + index}/tcp`, `CMD ["/opt/s${index}/bin/app", "--stage", "${index}"]`);
  return lines.join('\n');
}

function recipe() {
  const head = ['# syntax=docker/dockerfile:1', 'ARG BASE=scratch', 'ARG TAG=latest'];
  const budget = Math.ceil((LINES - head.length) / STAGES);
  const stages = Array.from({ length: STAGES }, (_, i) => stage(i, budget));
  return [...head, ...stages].join('\n') + '\n';
}


function time(fn) {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

const text = recipe();
const options = { platform: 'linux/amd64', buildArgs: { VERSION: '1.2.3', BASE: 'scratch' } };
// Warm up the JIT once, and check the plan covers every stage.
const graph = planBuild(parseRecipe(text, 'Dockerfile'), options);
if (graph.stages.length !== STAGES) throw new Error(`planned ${graph.stages.length} stages, expected ${STAGES}`);
DockerfileParser.parse(text);

const ours = [];
const reference = [];
for (let run = 0; run < RUNS; run++) {
  ours.push(time(() => planBuild(parseRecipe(text, 'Dockerfile'), options)));
  reference.push(time(() => DockerfileParser.parse(text)));
}
const result = {
  lines: text.split('\n').length - 1,
  stages: STAGES,
  steps: graph.stages.reduce((sum, s) => sum + s.steps.length, 0),
  parsePlanMs: Number(median(ours).toFixed(1)),
  dockerfileAstParseMs: Number(median(reference).toFixed(1)),
  ratio: Number((median(ours) / median(reference)).toFixed(2)),
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`recipe: ${result.lines} lines, ${result.stages} stages, ${result.steps} planned steps`);
  console.log(`parseRecipe + planBuild      ${result.parsePlanMs} ms (median of ${RUNS})`);
  console.log(`dockerfile-ast parse alone   ${result.dockerfileAstParseMs} ms (reference)`);
  console.log(`ratio                        ${result.ratio}×   target: well under 1000 ms`);
}
