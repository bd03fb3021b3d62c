// Golden cases: fixtures/recipe/<case>/Dockerfile → plan.golden.json, and
// fixtures/recipe-negative/<case>/Dockerfile → error.golden.txt (the error exactly as the
// CLI prints it). An optional options.json holds PlanOptions. Review a changed golden file
// before committing it: it is the expected behaviour.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipe/index.js';
import { planBuild } from '../../src/plan/index.js';
import type { PlanOptions } from '../../src/plan/types.js';
import { renderError } from '../../src/ui/render-error.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures');

function cases(dir: string): string[] {
  const root = resolve(FIXTURES, dir);
  return readdirSync(root).filter((name) => existsSync(resolve(root, name, 'Dockerfile'))).sort();
}

function planCase(dir: string): ReturnType<typeof planBuild> {
  const optionsFile = resolve(dir, 'options.json');
  const options = existsSync(optionsFile) ? (JSON.parse(readFileSync(optionsFile, 'utf8')) as PlanOptions) : {};
  const recipe = parseRecipe(readFileSync(resolve(dir, 'Dockerfile'), 'utf8'), 'Dockerfile');
  // Fixed platforms, so the golden files do not depend on the machine.
  return planBuild(recipe, { platform: 'linux/amd64', buildPlatform: 'linux/amd64', ...options });
}

describe('golden plans (fixtures/recipe)', () => {
  for (const name of cases('recipe')) {
    it(name, async () => {
      const dir = resolve(FIXTURES, 'recipe', name);
      const { source: _source, ...graph } = planCase(dir);
      await expect(JSON.stringify(graph, null, 2) + '\n').toMatchFileSnapshot(resolve(dir, 'plan.golden.json'));
    });
  }
});

describe('golden errors (fixtures/recipe-negative)', () => {
  for (const name of cases('recipe-negative')) {
    it(name, async () => {
      const dir = resolve(FIXTURES, 'recipe-negative', name);
      let rendered = 'no error';
      try {
        planCase(dir);
      } catch (error) {
        rendered = renderError(error, { color: false, debug: false });
      }
      expect(rendered).not.toContain('internal error');
      await expect(rendered + '\n').toMatchFileSnapshot(resolve(dir, 'error.golden.txt'));
    });
  }
});
