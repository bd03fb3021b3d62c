// A user's terminal session for end-to-end tests: `tsbuild …` runs through the real CLI entry
// (main, via runCli) with captured streams, in a dir and a store of its own holding the
// busybox base image.

import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildEvent } from '../../src/events.js';
import { busyboxImageLayout } from '../helpers/busybox-image.js';
import { runCli, type CliRun } from '../helpers/run-cli.js';
// @ts-expect-error plain JS helper shared with scripts/conformance-reference.mjs
import { listImage } from '../helpers/image-listing.mjs';

export type CommandResult = CliRun;

export interface Session {
  dir: string;
  store: string;
  tsbuild(argv: string[], options?: { env?: NodeJS.ProcessEnv; stdin?: string | Buffer }): Promise<CommandResult>;
  /** `tsbuild build --progress json …`: the result and the events it printed. */
  buildJson(argv: string[], options?: { env?: NodeJS.ProcessEnv }): Promise<CommandResult & { events: BuildEvent[] }>;
  /** Files of an OCI archive's image as `path type mode uid:gid [size digest | -> target]` lines, and its config. */
  list(archive: string): Promise<{ listing: string[]; config: Record<string, unknown> }>;
  /** Entries left in the store's scratch dir (a clean store has none). */
  storeTemp(): string[];
  close(): void;
}

export async function openSession(options: { loadBusybox?: boolean } = {}): Promise<Session> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-e2e-'));
  const store = join(dir, 'store');
  const tsbuild: Session['tsbuild'] = (argv, runOptions = {}) => runCli(['--root', store, ...argv], { cwd: dir, env: runOptions.env, stdin: runOptions.stdin });
  const session: Session = {
    dir,
    store,
    tsbuild,
    async buildJson(argv, runOptions) {
      const result = await tsbuild(['build', '--progress', 'json', ...argv], runOptions);
      const events = result.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as BuildEvent);
      return { ...result, events };
    },
    list: (archive) => listImage(archive),
    storeTemp: () => readdirSync(join(store, 'tmp')),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
  if (options.loadBusybox ?? true) {
    const loaded = await tsbuild(['load', '-t', 'busybox:latest', await busyboxImageLayout()]);
    if (loaded.status !== 0) throw new Error(`loading busybox failed: ${loaded.stderr}`);
  }
  return session;
}

/** Copies a directory (an example, a context) to a fresh place. */
export function copyTree(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

/** Instruction texts of the steps that ran (step.start) and that were cached, in step order. */
export function stepOutcomes(events: BuildEvent[]): { ran: string[]; cached: string[] } {
  const start = events.find((e) => e.type === 'build.start');
  const title = new Map(start?.type === 'build.start' ? start.steps.map((s) => [s.id, s.instruction] as const) : []);
  const ids = (type: BuildEvent['type']) =>
    events.flatMap((e) => (e.type === type && 'step' in e ? [e.step] : [])).sort((a, b) => a - b).map((id) => title.get(id) ?? `#${id}`);
  return { ran: ids('step.done'), cached: ids('step.cached') };
}
