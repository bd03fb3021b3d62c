import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diffEntries, flattenLayers, formatChanges, readLayerEntries } from '../../src/replay/layer-diff.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A layer tar of a small tree, made with GNU tar so the reader is checked against a real tool. */
function layerOf(files: Record<string, string | { link: string }>, modes: Record<string, number> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'layer-diff-'));
  dirs.push(dir);
  const root = join(dir, 'root');
  mkdirSync(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    if (typeof content === 'string') writeFileSync(join(root, path), content);
    else symlinkSync(content.link, join(root, path));
  }
  for (const [path, mode] of Object.entries(modes)) chmodSync(join(root, path), mode);
  const tar = join(dir, 'layer.tar');
  execFileSync('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tar, '.']);
  return tar;
}

describe('layer diff', () => {
  it('names added, removed and changed files with what changed, and diffs small text files', async () => {
    const archived = await readLayerEntries(
      createReadStream(layerOf({ 'app/stamp': 'built Mon\n', 'app/gone': 'x', 'app/run.sh': 'echo\n', 'app/l': { link: 'a' } }, { 'app/run.sh': 0o644 })),
    );
    const rebuilt = await readLayerEntries(
      createReadStream(layerOf({ 'app/stamp': 'built Tue\n', 'app/new': 'y', 'app/run.sh': 'echo\n', 'app/l': { link: 'b' } }, { 'app/run.sh': 0o755 })),
    );
    const changes = diffEntries(archived, rebuilt);
    expect(changes.map((c) => `${c.kind} ${c.path} ${c.details.join(',')}`)).toEqual([
      'removed /app/gone ',
      'changed /app/l link a → b',
      'added /app/new ',
      'changed /app/run.sh mode 0644 → 0755',
      'changed /app/stamp content',
    ]);
    const report = formatChanges(changes);
    expect(report).toContain('~ /app/stamp: content');
    expect(report).toContain('-built Mon\n+built Tue');
  });

  it('finds nothing between identical layers', async () => {
    const files = { 'a/b': 'same\n' };
    const changes = diffEntries(await readLayerEntries(createReadStream(layerOf(files))), await readLayerEntries(createReadStream(layerOf(files))));
    expect(changes).toEqual([]);
    expect(formatChanges(changes)).toBe('no file differences\n');
  });
});

describe('flattenLayers', () => {
  it('applies whiteouts and opaque directories of upper layers to the ones below', async () => {
    const lower = layerOf({ 'etc/keep': 'k', 'etc/gone': 'g', 'opaque/old': 'o' });
    const upper = layerOf({ 'etc/.wh.gone': '', 'opaque/.wh..wh..opq': '', 'opaque/new': 'n' });
    const files = await flattenLayers([() => createReadStream(lower), () => createReadStream(upper)]);
    const paths = [...files.keys()].filter((p) => p !== '/').sort();
    expect(paths).toEqual(['/etc', '/etc/keep', '/opaque', '/opaque/new']);
  });
});
