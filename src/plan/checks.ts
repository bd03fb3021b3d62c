// Build checks as BuildKit configures them: `# check=skip=Rule1,Rule2;error=true` in the
// recipe, or the BUILDKIT_DOCKERFILE_CHECK build arg (which wins). Skipped rules drop their
// warnings; error=true makes any remaining rule warning fail the build.

import { RecipeError } from '../errors.js';
import type { PlanWarning } from './types.js';

interface CheckConfig {
  skip: Set<string>;
  skipAll: boolean;
  error: boolean;
  /** Settings that were not understood, reported back as warnings. */
  unknown: string[];
}

function parseCheckConfig(text: string | undefined): CheckConfig {
  const config: CheckConfig = { skip: new Set(), skipAll: false, error: false, unknown: [] };
  for (const part of (text ?? '').split(';').map((p) => p.trim()).filter(Boolean)) {
    const [key, value = ''] = part.split('=', 2).map((p) => p.trim()) as [string, string?];
    if (key === 'skip') {
      for (const rule of value.split(',').map((r) => r.trim()).filter(Boolean)) {
        if (rule === 'all') config.skipAll = true;
        else config.skip.add(rule);
      }
    } else if (key === 'error' && (value === 'true' || value === 'false')) {
      config.error = value === 'true';
    } else {
      config.unknown.push(part);
    }
  }
  return config;
}

/** The warnings left after skips; throws for the first rule warning when error=true. */
export function applyChecks(warnings: PlanWarning[], checkText: string | undefined, source: string): PlanWarning[] {
  const config = parseCheckConfig(checkText);
  const kept = warnings.filter((w) => !w.rule || (!config.skipAll && !config.skip.has(w.rule)));
  const failing = config.error ? kept.find((w) => w.rule && w.location) : undefined;
  if (failing) {
    throw new RecipeError('E_RECIPE_CHECK', `${failing.message} (build check ${failing.rule})`, failing.location!, {
      source,
      hint: `Fix it, or skip the check with # check=skip=${failing.rule}; check=error=true makes checks fail the build.`,
    });
  }
  return [...kept, ...config.unknown.map((part) => ({ message: `unknown build-check setting "${part}" ignored (use skip=Rule1,Rule2 or error=true)` }))];
}
