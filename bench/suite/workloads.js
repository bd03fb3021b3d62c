// The workloads: each a Dockerfile and a deterministic context generator (seeded: the same
// bytes on every run), in a full and a quick (seconds) size, and the one-file change that the
// incremental case makes.
//
//   many-runs      40 small RUN steps, a COPY of one source file in the middle
//   large-context  tens of thousands of small files plus one file of several hundred MB
//   cpu-stages     four independent CPU-bound stages, joined by a last stage
//   c-project      a few hundred C files compiled with gcc and make on the debian-gcc base
//   deep-cached    a deep recipe (80 steps: RUN, COPY, ENV, WORKDIR) meant to be rebuilt from cache

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { keystream, prng } from '../lib/bytes.js';
import { BASE_NAMES } from './bases.js';

const SIZES = {
  full: { runs: 40, smallFiles: 20_000, bigFileMB: 300, spin: 400_000, cFiles: 300, deepSteps: 80 },
  quick: { runs: 2, smallFiles: 100, bigFileMB: 2, spin: 500, cFiles: 4, deepSteps: 8 },
};

/** Writes files ({ relative path: content }) under dir. */
function writeTree(dir, files) {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

const manyRuns = {
  name: 'many-runs',
  base: 'busybox',
  generate(dir, size) {
    const half = size.runs / 2;
    const run = (i) => `RUN echo step ${i} > /step-${i}`;
    const lines = [`FROM ${BASE_NAMES.busybox}`, ...Array.from({ length: half }, (_, i) => run(i)), 'COPY src/app.txt /app/'];
    lines.push(...Array.from({ length: half }, (_, i) => run(half + i)));
    writeTree(dir, { Dockerfile: lines.join('\n') + '\n', 'src/app.txt': 'app 0\n' });
    return { runSteps: size.runs };
  },
  change(dir, round) {
    writeFileSync(join(dir, 'src/app.txt'), `app ${round + 1}\n`);
  },
};

const largeContext = {
  name: 'large-context',
  base: 'busybox',
  generate(dir, size) {
    const random = prng(1);
    const bytes = keystream('large-context');
    let total = 0;
    for (let i = 0; i < size.smallFiles; i++) {
      const length = 256 + Math.floor(random() * 4096);
      const path = join(dir, `src/d${Math.floor(i / 200)}/f${i}.dat`);
      if (i % 200 === 0) mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes(length));
      total += length;
    }
    const big = join(dir, 'big/blob.bin');
    mkdirSync(dirname(big), { recursive: true });
    const chunk = 8 << 20;
    writeFileSync(big, '');
    for (let left = size.bigFileMB << 20; left > 0; left -= chunk) {
      writeFileSync(big, bytes(Math.min(chunk, left)), { flag: 'a' });
    }
    total += size.bigFileMB << 20;
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${BASE_NAMES.busybox}\nCOPY . /ctx\nRUN find /ctx -type f | wc -l > /count\n`);
    return { contextBytes: total, contextFiles: size.smallFiles + 2 };
  },
  change(dir, round) {
    writeFileSync(join(dir, 'src/d0/f0.dat'), `changed ${round}\n`);
  },
};

const cpuStages = {
  name: 'cpu-stages',
  base: 'busybox',
  generate(dir, size) {
    const names = ['a', 'b', 'c', 'd'];
    // Each stage reads its input file, so changing one input re-runs that stage only.
    const stage = (name) => [
      `FROM ${BASE_NAMES.busybox} AS ${name}`,
      `COPY inputs/${name}.txt /in`,
      `RUN i=0; while [ $i -lt ${size.spin} ]; do i=$((i+1)); done; cat /in > /${name}; echo $i >> /${name}`,
    ].join('\n');
    const last = [`FROM ${BASE_NAMES.busybox}`, ...names.map((n) => `COPY --from=${n} /${n} /out/${n}`)].join('\n');
    const files = { Dockerfile: [...names.map(stage), last].join('\n\n') + '\n' };
    for (const name of names) files[`inputs/${name}.txt`] = `input ${name}\n`;
    writeTree(dir, files);
    return { stages: names.length };
  },
  change(dir, round) {
    writeFileSync(join(dir, 'inputs/a.txt'), `input a ${round + 1}\n`);
  },
};

/** A C source file of a few functions, deterministic from its index. */
function cSource(index, random) {
  const functions = [];
  for (let f = 0; f < 4; f++) {
    const a = Math.floor(random() * 1000);
    const b = 1 + Math.floor(random() * 97);
    functions.push(
      `static unsigned long mix${f}(unsigned long x) {\n  for (int i = 0; i < ${b}; i++) x = x * ${a}u + (x >> 3) + i;\n  return x;\n}\n`,
    );
  }
  return `#include "project.h"\n\n${functions.join('\n')}\nunsigned long unit${index}(unsigned long x) {\n  return mix0(mix1(mix2(mix3(x))));\n}\n`;
}

const cProject = {
  name: 'c-project',
  base: 'debian-gcc',
  generate(dir, size) {
    const random = prng(4);
    const files = {};
    const units = Array.from({ length: size.cFiles }, (_, i) => i);
    files['project.h'] = units.map((i) => `unsigned long unit${i}(unsigned long x);`).join('\n') + '\n';
    for (const i of units) files[`src/unit${i}.c`] = cSource(i, random);
    files['main.c'] = `#include <stdio.h>\n#include "project.h"\n\nint main(void) {\n  unsigned long x = 1;\n${units
      .map((i) => `  x = unit${i}(x);`)
      .join('\n')}\n  printf("%lu\\n", x);\n  return 0;\n}\n`;
    files.Makefile = [
      'SOURCES := main.c $(sort $(wildcard src/*.c))',
      'OBJECTS := $(SOURCES:.c=.o)',
      'app: $(OBJECTS)',
      '\tgcc -o $@ $^',
      '%.o: %.c project.h',
      '\tgcc -O1 -I. -c -o $@ $<',
      '',
    ].join('\n');
    files.Dockerfile = `FROM ${BASE_NAMES['debian-gcc']}\nWORKDIR /build\nCOPY . .\nRUN make -s -j2 app && ./app > /result\n`;
    writeTree(dir, files);
    return { sourceFiles: size.cFiles + 1 };
  },
  change(dir, round) {
    writeFileSync(join(dir, 'src/unit0.c'), cSource(0, prng(1000 + round)));
  },
};

const deepCached = {
  name: 'deep-cached',
  base: 'busybox',
  generate(dir, size) {
    const lines = [`FROM ${BASE_NAMES.busybox}`];
    const files = {};
    for (let i = 0; i < size.deepSteps; i++) {
      const kind = i % 4;
      if (kind === 0) lines.push(`RUN echo ${i} > /layer-${i}`);
      if (kind === 1) {
        files[`files/f${i}.txt`] = `file ${i}\n`;
        lines.push(`COPY files/f${i}.txt /files/`);
      }
      if (kind === 2) lines.push(`ENV STEP_${i}=${i}`);
      if (kind === 3) lines.push(`WORKDIR /w/${i}`);
    }
    files.Dockerfile = lines.join('\n') + '\n';
    writeTree(dir, files);
    return { steps: size.deepSteps };
  },
  change(dir, round, size) {
    // The last COPY's source: only the few steps from there on re-run.
    const lastCopy = size.deepSteps - 1 - ((size.deepSteps - 2) % 4);
    writeFileSync(join(dir, `files/f${lastCopy}.txt`), `changed ${round}\n`);
  },
};

export const WORKLOADS = [manyRuns, largeContext, cpuStages, cProject, deepCached];

/** The sizes of the full or quick variant. */
export function sizes(quick) {
  return quick ? SIZES.quick : SIZES.full;
}
