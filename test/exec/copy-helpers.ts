// A COPY request with the defaults of a plain `COPY <sources> <dest>` from the context.

import type { CopyRequest } from '../../src/exec/index.js';

export function copyRequest(context: string, upperDir: string, overrides: Partial<CopyRequest> = {}): CopyRequest {
  return {
    source: { kind: 'dir', path: context },
    sources: ['.'],
    dest: '/',
    workdir: '/',
    lowerDirs: [],
    upperDir,
    exclude: [],
    parents: false,
    link: false,
    ...overrides,
  };
}
