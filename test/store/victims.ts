// Spawning victim.mjs (see there) against a store root.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compiledSrc } from '../helpers/compiled-src.js';

export interface Victim {
  child: ChildProcess;
  /** Lines the victim printed (completed iterations). */
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export function spawnVictim(root: string, ...args: string[]): Victim {
  const script = join(import.meta.dirname, 'victim.mjs');
  // The victim's own temp files, which a SIGKILL leaves behind: removed here once it is gone.
  const scratch = mkdtempSync(join(tmpdir(), 'tsbuild-victim-'));
  const child = spawn(process.execPath, [script, compiledSrc(), root, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: scratch },
  });
  const lines: string[] = [];
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => {
      rmSync(scratch, { recursive: true, force: true });
      resolve({ code, signal, stderr });
    }),
  );
  return { child, lines, exited };
}

export async function killVictim(victim: Victim): Promise<void> {
  victim.child.kill('SIGKILL');
  await victim.exited;
}
