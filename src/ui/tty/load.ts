// Loads ink with the live view.
//
// ink decides once, when it is first imported, whether it runs in CI (its is-in-ci dependency
// reads CI and CONTINUOUS_INTEGRATION), and in CI it stops redrawing: only <Static> output and a
// last frame appear. tsbuild has already chosen the mode from the flag and the TTY
// (chooseProgressMode), so ink must not second-guess an explicit `--progress tty`: the two
// variables are hidden from it while it loads, and restored at once. Nothing else in the
// process looks at them during that import.
//
// React (which ink loads) picks its development build unless NODE_ENV says production, and that
// build is several times slower per frame: a CLI wants the production one, so an unset NODE_ENV
// reads as production for the same moment.

import type * as Live from './live.js';

const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION'] as const;

export async function loadLiveView(): Promise<typeof Live> {
  const saved = [...CI_VARIABLES, 'NODE_ENV'].map((name) => [name, process.env[name]] as const);
  for (const name of CI_VARIABLES) delete process.env[name];
  process.env.NODE_ENV ??= 'production';
  try {
    return await import('./live.js');
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
