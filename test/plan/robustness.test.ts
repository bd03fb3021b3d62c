// Whatever the recipe text, parsing and planning end in a plan or a typed error, never a
// crash: a property test over recipes assembled from Dockerfile fragments.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTsbuildError } from '../../src/errors.js';
import { parseRecipe } from '../../src/recipe/index.js';
import { planBuild } from '../../src/plan/index.js';

const FRAGMENTS = [
  'FROM', 'from', 'scratch', 'busybox', 'AS', 'build', 'RUN', 'COPY', 'ADD', 'ENV', 'ARG', 'LABEL', 'CMD', 'ENTRYPOINT',
  'SHELL', 'WORKDIR', 'USER', 'EXPOSE', 'VOLUME', 'HEALTHCHECK', 'ONBUILD', 'STOPSIGNAL', 'MAINTAINER', 'NONE',
  '--from=build', '--from=0', '--mount=type=cache,target=/x', '--mount=type=secret,id=a', '--network=none', '--chmod=755',
  '--platform=$BUILDPLATFORM', '--link', '--', '<<EOF', '<<-EOF', "<<'EOF'", 'EOF', '\tEOF', '$A', '${A:-x}', '${A', '${A/b/c}',
  '"', "'", '\\', '`', '[', ']', '["a", "b"]', '[1]', '=', 'A=1', 'A', '80/tcp', '/dst/', '.', '#', '# escape=`', '# syntax=x',
  ' ', ' ', ' ', '\n', '\n', '\n', '\r\n', 'é', '\0',
];

const recipe = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 60 }).map((parts) => parts.join(' ').replace(/ \n /g, '\n'));

describe('parse + plan on arbitrary text', () => {
  it('returns a plan or throws a TsbuildError', () => {
    fc.assert(
      fc.property(recipe, fc.option(fc.constantFrom('build', '0', '1')), (text, target) => {
        try {
          planBuild(parseRecipe(text, 'Dockerfile'), { platform: 'linux/amd64', buildPlatform: 'linux/amd64', ...(target ? { target } : {}) });
        } catch (error) {
          if (!isTsbuildError(error)) throw error;
          expect(error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000, seed: 42 },
    );
  });
});
