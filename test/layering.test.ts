// DESIGN.md: dependencies point one way. Every import in src/ must go to the same module or
// to a module of a lower layer in this table; anything else fails here, naming the edge.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

/** Module → the modules it may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  events: ['errors'],
  lib: ['errors'],
  recipe: ['errors', 'events', 'lib'],
  layer: ['errors', 'events', 'lib'],
  exec: ['errors', 'events', 'lib'],
  plan: ['errors', 'events', 'lib', 'recipe'],
  store: ['errors', 'events', 'lib', 'layer'],
  solve: ['errors', 'events', 'lib', 'recipe', 'layer', 'exec', 'plan', 'store'],
  export: ['errors', 'events', 'lib', 'layer', 'store'],
  registry: ['errors', 'events', 'lib', 'layer', 'store'],
  replay: ['errors', 'events', 'lib', 'recipe', 'layer', 'exec', 'plan', 'store', 'solve', 'export'],
  index: ['errors', 'events', 'lib', 'recipe', 'layer', 'exec', 'plan', 'store', 'solve', 'export', 'registry', 'replay'],
  ui: ['errors', 'events'],
  cli: ['errors', 'events', 'lib', 'index', 'ui'],
};

function moduleOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  return rel.length === 1 ? rel[0]!.replace(/\.(tsx?|js)$/, '') : rel[0]!;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

describe('module layering', () => {
  it('every import in src/ follows the DESIGN.md layer table', () => {
    const violations: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const from = moduleOf(file);
      const allowed = ALLOWED[from];
      if (!allowed) {
        violations.push(`${relative(SRC, file)}: module "${from}" is not in the layer table (DESIGN.md)`);
        continue;
      }
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(IMPORT_RE)) {
        const spec = match[1] ?? match[2]!;
        if (!spec.startsWith('.')) continue;
        const to = moduleOf(resolve(dirname(file), spec));
        if (to !== from && !allowed.includes(to)) {
          violations.push(`${relative(SRC, file)}: ${from} → ${to} ("${spec}")`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
