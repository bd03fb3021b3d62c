// Removing a directory tree without recursion: a hostile layer can nest directories thousands
// deep, and fs.rmSync recurses in JavaScript. Symlinks are removed, never followed.

import { lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';

export function removeTree(path: string): void {
  // Directories whose children have been listed come back a second time, to be removed.
  const stack: { path: string; listed: boolean }[] = [{ path, listed: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.listed) {
      rmdirSync(top.path);
      stack.pop();
      continue;
    }
    if (!lstatSync(top.path).isDirectory()) {
      unlinkSync(top.path);
      stack.pop();
      continue;
    }
    top.listed = true;
    for (const name of readdirSync(top.path)) stack.push({ path: `${top.path}/${name}`, listed: false });
  }
}
