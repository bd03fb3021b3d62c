// The benchmark suite's quick variant, run as CI runs it, so that the suite cannot rot: every
// workload × case must come out with numbers, ratios, targets and reproducibility verdicts.
// The CLI runs from a private compiled copy of src/, so that a rebuild of dist/ by someone
// else in the same checkout cannot break the run half-way.
//
// Peers (buildah, dockerd's BuildKit) add minutes even at quick sizes, so they run here only
// with TSBUILD_BENCH_PEERS=1 (and when scripts/peers.sh installed them); the full
// `npm run bench` always measures them when installed.

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/fixtures.js';

type Row = {
  workload: string;
  case: string;
  ms: Record<string, number>;
  ratios: Record<string, number>;
  maxRssMB: number | null;
  floor?: { what: string; ms: number; ratio: number };
  targets: { name: string; met: boolean | null; text: string }[];
  unavailable?: string;
};
type Result = {
  builders: string[];
  skipped: { what: string; reason: string }[];
  rows: Row[];
  references: Record<string, number>;
  reproducibility: Record<string, Record<string, { digests: string[]; same: boolean }>>;
};

const WORKLOADS = ['many-runs', 'large-context', 'cpu-stages', 'c-project', 'deep-cached'];
const CASES = ['cold', 'warm', 'incremental', 'export', 'archive', 'replay'];
const PEER_CASES = ['cold', 'warm', 'incremental', 'export'];
const work = join(REPO_ROOT, '.cache', 'bench-test', String(process.pid));
let result: Result;
let table: string;

/** bin/ and src/ compiled into `work`, beside links to native/ and node_modules/. */
function cliSnapshot(): string {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  cpSync(join(REPO_ROOT, 'bin'), join(work, 'bin'), { recursive: true });
  cpSync(join(REPO_ROOT, 'package.json'), join(work, 'package.json'));
  symlinkSync(join(REPO_ROOT, 'native'), join(work, 'native'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(work, 'node_modules'));
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', REPO_ROOT, '--outDir', join(work, 'dist'), '--declaration', 'false', '--sourceMap', 'false'], { stdio: 'pipe' });
  } catch {
    // Type errors elsewhere in the tree do not stop emission; the suite fails on a missing file.
  }
  return join(work, 'bin/tsbuild.js');
}

beforeAll(() => {
  const args = ['bench/suite/main.js', '--quick', '--out', join(work, 'results'), '--cli', cliSnapshot()];
  if (process.env.TSBUILD_BENCH_PEERS !== '1') {
    args.push('--no-peers');
    console.log('bench quick test: peers skipped: TSBUILD_BENCH_PEERS is not 1 (buildah and docker add minutes; `npm run bench` measures them)');
  }
  const run = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the quick suite failed (exit ${run.status}):\n${run.stderr.slice(-3000)}`);
  result = JSON.parse(readFileSync(join(work, 'results/latest.json'), 'utf8')) as Result;
  table = readFileSync(join(work, 'results/latest.md'), 'utf8');
  for (const s of result.skipped) console.log(`bench quick test: skipped ${s.what}: ${s.reason}`);
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('bench suite --quick', () => {
  it('measures every workload × case (a workload is left out only for an uncached base, saying so)', () => {
    for (const workload of WORKLOADS) {
      const skip = result.skipped.find((s) => s.what === workload);
      if (skip) {
        expect(skip.reason).toMatch(/base is not cached/);
        continue;
      }
      const cases = result.rows.filter((row) => row.workload === workload).map((row) => row.case);
      expect(cases).toEqual(CASES);
    }
    // Only the Debian base takes minutes to make; the busybox workloads always run.
    for (const s of result.skipped.filter((s) => WORKLOADS.includes(s.what))) expect(s.what).toBe('c-project');
    expect(result.rows.length).toBeGreaterThanOrEqual(4 * CASES.length);
  });

  it('gives every row tsbuild wall time and peak RSS, and a verdict on the RSS target', () => {
    for (const row of result.rows) {
      expect(row.unavailable, `${row.workload} ${row.case}`).toBeUndefined();
      expect(row.ms.tsbuild, `${row.workload} ${row.case}`).toBeGreaterThan(0);
      expect(row.maxRssMB, `${row.workload} ${row.case}`).toBeGreaterThan(10);
      const rss = row.targets.find((t) => t.name === 'peak RSS MB');
      expect(rss?.met).toBe(row.maxRssMB! <= 200);
    }
  });

  it('gives ratios to each measured peer and to the faster one, and physical floors where they apply', () => {
    const peers = result.builders.filter((b) => b !== 'tsbuild');
    for (const row of result.rows) {
      const label = `${row.workload} ${row.case}`;
      if (PEER_CASES.includes(row.case)) {
        for (const peer of peers) expect(row.ratios[peer], label).toBeCloseTo(row.ms.tsbuild / row.ms[peer], 1);
        if (peers.length) expect(row.ratios.fasterPeer, label).toBeCloseTo(Math.max(...peers.map((p) => row.ratios[p])), 2);
      }
      if (row.case === 'replay') expect(row.floor?.ratio, label).toBeGreaterThan(0);
    }
    const floor = (workload: string, name: string) => result.rows.find((r) => r.workload === workload && r.case === name)?.floor;
    expect(floor('many-runs', 'cold')?.what).toMatch(/namespace floor/);
    // Quick sizes make these ratios tiny (process start dominates): present, not large.
    for (const name of ['cold', 'export', 'archive']) {
      const reference = floor('large-context', name);
      expect(reference?.ms, name).toBeGreaterThan(0);
      expect(reference?.ratio, name).toBeGreaterThanOrEqual(0);
    }
    for (const key of ['diskWriteMBps', 'diskReadMBps', 'sha256MBps', 'forkExecMs', 'namespaceFloorMs']) {
      expect(result.references[key], key).toBeGreaterThan(0);
    }
  });

  it('says for every builder and workload whether two cold builds gave the same digest', () => {
    for (const [workload, byBuilder] of Object.entries(result.reproducibility)) {
      for (const builder of result.builders) {
        const { digests, same } = byBuilder[builder]!;
        expect(digests, `${workload} ${builder}`).toHaveLength(2);
        expect(digests[0], `${workload} ${builder}`).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(same).toBe(digests[0] === digests[1]);
      }
    }
    // tsbuild is reproducible by default: a difference here is a bug, not noise.
    for (const byBuilder of Object.values(result.reproducibility)) expect(byBuilder.tsbuild!.same).toBe(true);
  });

  it('writes the markdown table with one line per row', () => {
    for (const row of result.rows) expect(table).toContain(`| ${row.workload} | ${row.case} |`);
  });
});
