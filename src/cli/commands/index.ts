// Every verb of the CLI, in the order --help lists them. Add a verb: one file beside this,
// one line here.

import type { CommandSpec } from './types.js';
import { versionCommand } from './version.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: Array<CommandSpec<any>> = [versionCommand];
