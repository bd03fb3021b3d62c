#!/usr/bin/env node
// `npm run bench`: runs every benchmark in bench/ — each top-level script, and each suite dir
// with a main.js — one after the other so they do not disturb each other's timings, and fails
// if any fails. bench/lib/ holds shared helpers, not benchmarks.
//
// `--quick` runs the seconds-long variant of each, as CI does: a benchmark declares it in a
// header line `// bench-quick: ARGS` (the arguments that make it quick). One without that
// line is skipped in quick mode, saying so — never run at full length by surprise.
//
//   npx tsc -p . && make -C native && node bench/run.js [--quick] [--only NAME] [--except NAME]…

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, except: { type: 'string', multiple: true, default: [] } },
});
const dir = import.meta.dirname;
const isBench = (name) =>
  name.endsWith('.js') ? name !== 'run.js' : statSync(join(dir, name)).isDirectory() && existsSync(join(dir, name, 'main.js'));
const benches = readdirSync(dir)
  .filter(isBench)
  .filter((name) => values.only === undefined || name.includes(values.only))
  .filter((name) => !values.except.some((skip) => name.includes(skip)))
  .sort();

const QUICK_HEADER = /^\/\/ bench-quick:(.*)$/m;
const outcomes = [];
for (const name of benches) {
  const file = name.endsWith('.js') ? join(dir, name) : join(dir, name, 'main.js');
  let args = [];
  if (values.quick) {
    const header = QUICK_HEADER.exec(readFileSync(file, 'utf8'));
    if (!header) {
      console.log(`\n== ${name}: skipped: no quick variant declared (add a "// bench-quick: ARGS" line)`);
      outcomes.push({ name, status: 'skipped' });
      continue;
    }
    args = header[1].trim().split(/\s+/).filter(Boolean);
  }
  console.log(`\n== ${name} ${args.join(' ')}`);
  const started = performance.now();
  const result = spawnSync(process.execPath, [file, ...args], { stdio: 'inherit' });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  outcomes.push({ name, status: result.status === 0 ? 'ok' : `failed (exit ${result.status ?? result.signal})`, seconds });
}

console.log('\n== summary');
for (const { name, status, seconds } of outcomes) console.log(`  ${name.padEnd(24)} ${status}${seconds ? ` in ${seconds}s` : ''}`);
process.exitCode = outcomes.some((o) => o.status.startsWith('failed')) ? 1 : 0;
