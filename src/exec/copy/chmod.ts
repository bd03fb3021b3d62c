// `--chmod` values: octal (`755`, `0644`) or symbolic as chmod(1) reads them (`u+x`,
// `go-w`, `a=rX`, `u=rwx,g=rx,o=`). Parsed once; applied per entry to its own mode.

import { BuildError } from '../../errors.js';

/** Maps an entry's current permission bits (and whether it is a dir) to its new ones. */
export type ModeChange = (mode: number, isDir: boolean) => number;

const OCTAL = /^[0-7]{1,4}$/;
const CLAUSE = /^([ugoa]*)((?:[-+=][rwxXst]*|[-+=][ugo])+)$/;
const WHO_BITS: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007 };

export function parseChmod(spec: string): ModeChange {
  if (OCTAL.test(spec)) {
    const fixed = parseInt(spec, 8);
    return () => fixed;
  }
  const clauses = spec.split(',').map((clause) => parseClause(clause, spec));
  return (mode, isDir) => clauses.reduce((current, apply) => apply(current, isDir), mode & 0o7777);
}

function parseClause(clause: string, spec: string): ModeChange {
  const match = CLAUSE.exec(clause);
  if (!match) {
    throw new BuildError('E_COPY_BAD_CHMOD', `invalid --chmod value "${spec}"`, {
      hint: 'use octal (e.g. 755) or symbolic clauses (e.g. u+x,go=rX)',
    });
  }
  const who = match[1] === '' || match[1]!.includes('a') ? 'ugo' : match[1]!;
  const mask = [...who].reduce((bits, w) => bits | WHO_BITS[w]!, 0);
  const actions = [...match[2]!.matchAll(/([-+=])([rwxXstugo]*)/g)].map((m) => ({ op: m[1]!, perms: m[2]! }));
  return (mode, isDir) => {
    let current = mode;
    for (const { op, perms } of actions) {
      const bits = permBits(perms, current, isDir) & mask;
      if (op === '+') current |= bits;
      else if (op === '-') current &= ~bits;
      else current = (current & ~mask) | bits;
    }
    return current;
  };
}

/** The bits named by `perms`, spread over u, g and o (the who-mask picks the ones that apply). */
function permBits(perms: string, mode: number, isDir: boolean): number {
  let bits = 0;
  for (const perm of perms) {
    if (perm === 'r') bits |= 0o444;
    else if (perm === 'w') bits |= 0o222;
    else if (perm === 'x') bits |= 0o111;
    else if (perm === 'X' && (isDir || (mode & 0o111) !== 0)) bits |= 0o111;
    else if (perm === 's') bits |= 0o6000;
    else if (perm === 't') bits |= 0o1000;
    else if (perm === 'u') bits |= spread((mode >> 6) & 7);
    else if (perm === 'g') bits |= spread((mode >> 3) & 7);
    else if (perm === 'o') bits |= spread(mode & 7);
  }
  return bits;
}

function spread(rwx: number): number {
  return (rwx << 6) | (rwx << 3) | rwx;
}
