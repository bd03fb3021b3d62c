// Property: for random trees (files, directories, symlinks, hardlinks, modes, owners, mtimes,
// xattrs), extractLayer(writeLayer(tree)) recreates the tree, the diffIDs agree, and writing the
// extracted tree again gives the same bytes.

import { chmodSync, lchownSync, linkSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractLayer } from '../../src/layer/index.js';
import { applyXattrs } from '../../src/layer/xattr.js';
import { describeTree, layerBytes, streamOf, tempDir } from './tree.js';

type Node =
  | { kind: 'file'; name: string; data: string; mode: number; owner: number; mtime: number; xattr?: string }
  | { kind: 'dir'; name: string; mode: number; owner: number; mtime: number; children: Node[] }
  | { kind: 'symlink'; name: string; target: string; owner: number }
  | { kind: 'hardlink'; name: string };

const name = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._ -]{0,12}$/).filter((n) => !n.startsWith('.wh.'));
const mtime = fc.integer({ min: 0, max: 2_100_000_000 });
const owner = fc.constantFrom(0, 1, 1000, 65534, 3_000_000);

const tree = fc.letrec<{ node: Node; nodes: Node[] }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      kind: fc.constant('file' as const),
      name,
      data: fc.string({ maxLength: 3000 }),
      mode: fc.constantFrom(0o644, 0o600, 0o755, 0o4755, 0o2711, 0o1777, 0o000),
      owner,
      mtime,
      xattr: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
    }),
    fc.record({ kind: fc.constant('dir' as const), name, mode: fc.constantFrom(0o755, 0o700, 0o555, 0o1777), owner, mtime, children: tie('nodes') }),
    fc.record({ kind: fc.constant('symlink' as const), name, target: fc.constantFrom('/etc/passwd', '..', 'x/y', '../../..', 'dangling'), owner }),
    fc.record({ kind: fc.constant('hardlink' as const), name }),
  ),
  nodes: fc.uniqueArray(tie('node'), { maxLength: 5, selector: (n) => (n as Node).name }),
})).nodes;

/** Materialises the nodes; a hardlink links the first file created so far, or is skipped. */
async function build(root: string, nodes: Node[]): Promise<void> {
  const files: string[] = [];
  const xattrs: [string, Map<string, Buffer>][] = [];
  const dirs: [string, Node & { kind: 'dir' }][] = [];
  const make = (dir: string, list: Node[]) => {
    for (const node of list) {
      const path = join(dir, node.name);
      if (node.kind === 'file') {
        writeFileSync(path, node.data);
        lchownSync(path, node.owner, node.owner);
        chmodSync(path, node.mode);
        utimesSync(path, node.mtime, node.mtime);
        if (node.xattr) xattrs.push([path, new Map([['user.test', Buffer.from(node.xattr)]])]);
        files.push(path);
      } else if (node.kind === 'dir') {
        mkdirSync(path);
        make(path, node.children);
        dirs.push([path, node]);
      } else if (node.kind === 'symlink') {
        symlinkSync(node.target, path);
        lchownSync(path, node.owner, node.owner);
      } else if (files.length > 0) {
        linkSync(files[0]!, path);
      }
    }
  };
  make(root, nodes);
  if (xattrs.length > 0) await applyXattrs(xattrs);
  // Directory metadata last, deepest first, as children change a directory's mtime.
  for (const [path, node] of dirs) {
    lchownSync(path, node.owner, node.owner);
    chmodSync(path, node.mode);
    utimesSync(path, node.mtime, node.mtime);
  }
}

describe('writeLayer ∘ extractLayer', () => {
  it('recreates random trees exactly, and the extracted tree writes the same layer', async () => {
    await fc.assert(
      fc.asyncProperty(tree, async (nodes) => {
        const source = tempDir();
        await build(source, nodes);
        const layer = await layerBytes(source, { sourceDateEpoch: 2_200_000_000 });
        const dest = tempDir();
        const result = await extractLayer(streamOf(layer.bytes), dest, { whiteouts: 'overlay' });
        expect(result.diffId).toBe(layer.diffId);
        expect(result.warnings).toEqual([]);
        expect(describeTree(dest)).toEqual(describeTree(source));
        const again = await layerBytes(dest, { sourceDateEpoch: 2_200_000_000 });
        expect(again.bytes.equals(layer.bytes)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
