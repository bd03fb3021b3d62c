// Every verb of the CLI, in the order --help lists them. Add a verb: one file beside this,
// one line here.

import type { CommandSpec } from './types.js';
import { versionCommand } from './version.js';
import { buildCommand } from './build.js';
import { planCommand } from './plan.js';
import { imagesCommand } from './images.js';
import { tagCommand } from './tag.js';
import { rmiCommand } from './rmi.js';
import { inspectCommand } from './inspect.js';
import { loadCommand } from './load.js';
import { duCommand } from './du.js';
import { pruneCommand } from './prune.js';
import { storeCommand } from './store.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { replayCommand } from './replay.js';
import { shellCommand } from './shell.js';
import { diffCommand } from './diff.js';
import { logsCommand } from './logs.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: Array<CommandSpec<any>> = [
  buildCommand,
  planCommand,
  versionCommand,
  imagesCommand,
  tagCommand,
  rmiCommand,
  inspectCommand,
  loadCommand,
  duCommand,
  pruneCommand,
  storeCommand,
  pullCommand,
  pushCommand,
  loginCommand,
  logoutCommand,
  replayCommand,
  shellCommand,
  diffCommand,
  logsCommand,
];
