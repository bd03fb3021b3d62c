// The upper dir a COPY writes is a valid overlay upper dir: the layer writer turns it into the
// tar entries an image needs (copied-up parents, files, links, owners), and nothing else.

import { PassThrough } from 'node:stream';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { copyIntoLayer } from '../../src/exec/index.js';
import { writeLayer } from '../../src/layer/write.js';
import { testdir } from '../helpers/testdir.js';
import { copyRequest } from './copy-helpers.js';

async function tarListing(upperDir: string): Promise<string[]> {
  const out = new PassThrough();
  const lines: string[] = [];
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    const link = header.linkname ? ` -> ${header.linkname}` : '';
    lines.push(`${header.type} ${header.name} ${(header.mode ?? 0).toString(8)} ${header.uid}:${header.gid}${link}`);
    stream.resume();
    stream.on('end', next);
  });
  const done = new Promise<void>((resolve, reject) => reader.on('finish', resolve).on('error', reject));
  out.pipe(reader);
  await writeLayer(upperDir, out, { sourceDateEpoch: 0, kind: 'overlay-upper' });
  await done;
  return lines;
}

describe('COPY output as a layer', () => {
  it('holds the copied-up parents, the files, symlinks and hardlinks with their owners', async () => {
    const lower = testdir({ 'usr/': { dir: true, mode: 0o755 }, 'usr/share/': { dir: true, mode: 0o750, uid: 3, gid: 3 }, 'usr/share/old': 'o' });
    const context = testdir({ 'doc/a.txt': 'a', 'doc/b.txt': { hardlink: 'doc/a.txt' }, 'doc/link': { symlink: 'a.txt' } });
    const upper = testdir();
    await copyIntoLayer(copyRequest(context, upper, { sources: ['doc'], dest: '/usr/share/doc', lowerDirs: [lower], chown: { uid: 1000, gid: 1000 } }));
    expect(await tarListing(upper)).toEqual([
      'directory usr/ 755 0:0',
      'directory usr/share/ 750 3:3',
      'directory usr/share/doc/ 755 1000:1000',
      'file usr/share/doc/a.txt 644 1000:1000',
      'link usr/share/doc/b.txt 644 1000:1000 -> usr/share/doc/a.txt',
      'symlink usr/share/doc/link 777 1000:1000 -> a.txt',
    ]);
  });
});
