// Device nodes, fifos and overlay whiteouts (0/0 character devices). Node has no mknod(2);
// these are rare in layers (whiteouts are one per deleted path), so the mknod command is spawned.

import { spawn } from 'node:child_process';
import { LayerError } from '../errors.js';
import type { TarEntry } from './tar-header.js';

export async function mknod(target: string, entry: Pick<TarEntry, 'type' | 'devmajor' | 'devminor' | 'path'>, offset: number): Promise<void> {
  if (entry.type !== 'fifo' && process.getuid?.() !== 0) {
    throw new LayerError('E_LAYER_PRIVILEGE', `device node ${JSON.stringify(entry.path)} (at byte ${offset}) can only be created as root`);
  }
  const kind = entry.type === 'fifo' ? ['p'] : [entry.type === 'char' ? 'c' : 'b', String(entry.devmajor ?? 0), String(entry.devminor ?? 0)];
  await new Promise<void>((resolve, reject) => {
    // Mode 0 until the caller sets the entry's own mode and owner.
    const child = spawn('mknod', ['-m', '0', '--', target, ...kind], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (cause) => reject(new LayerError('E_LAYER_EXTRACT', 'cannot run mknod', { cause })));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new LayerError('E_LAYER_EXTRACT', `creating ${entry.type} node ${JSON.stringify(entry.path)} (at byte ${offset}) failed: ${stderr.trim()}`));
    });
  });
}
