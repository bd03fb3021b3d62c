// Every verb of the CLI, in the order --help lists them. Add a verb: one file beside this,
// one line here. A verb's module is imported only when it runs, so its command line and
// description are repeated here for --help (test/cli/commands.test.ts keeps them equal).

import type { CommandEntry } from './types.js';

export const commands: CommandEntry[] = [
  { command: 'build <context>', describe: 'Build an image from a Dockerfile and a context directory or git repository', load: async () => (await import('./build.js')).buildCommand },
  { command: 'plan <context>', describe: 'Show the stages and steps a build would run, values expanded, without running anything', load: async () => (await import('./plan.js')).planCommand },
  { command: 'version', describe: 'Print the tsbuild version', load: async () => (await import('./version.js')).versionCommand },
  { command: 'images', describe: 'List the tagged images in the store', load: async () => (await import('./images.js')).imagesCommand },
  { command: 'tag <source> <target>', describe: 'Give an image another name', load: async () => (await import('./tag.js')).tagCommand },
  { command: 'rmi <names..>', describe: 'Remove image names; tsbuild prune then frees the content no name or cache uses', load: async () => (await import('./rmi.js')).rmiCommand },
  { command: 'inspect <name>', describe: "Print an image's manifest and config as JSON", load: async () => (await import('./inspect.js')).inspectCommand },
  { command: 'load <file>', describe: 'Import an OCI image layout (tar or directory) or a docker save archive', load: async () => (await import('./load.js')).loadCommand },
  { command: 'du', describe: 'Show disk usage: per image its size, the part shared with other images or the build cache and the part unique to it', load: async () => (await import('./du.js')).duCommand },
  { command: 'prune', describe: 'Free space: remove what no tag, cache record or running build uses, and old cache records', load: async () => (await import('./prune.js')).pruneCommand },
  { command: 'store <action>', describe: 'Maintain the store. verify: re-hash every blob, check every reference, snapshot and cache record; exit 3 on any problem', load: async () => (await import('./store.js')).storeCommand },
  { command: 'pull <reference>', describe: 'Download an image from a registry into the store', load: async () => (await import('./pull.js')).pullCommand },
  { command: 'push <reference> [target]', describe: 'Upload an image from the store to the registry its name (or TARGET) points at', load: async () => (await import('./push.js')).pushCommand },
  { command: 'login [registry]', describe: 'Check credentials against a registry and store them as Docker does (credential helper or config.json)', load: async () => (await import('./login.js')).loginCommand },
  { command: 'logout [registry]', describe: 'Remove the stored credentials for a registry', load: async () => (await import('./logout.js')).logoutCommand },
  { command: 'replay <archive>', describe: 'Rebuild an archived build offline from the archive alone and compare every step', load: async () => (await import('./replay.js')).replayCommand },
  { command: 'shell <target> [command..]', describe: "Open a shell (or run a command) in an image's or an archived step's environment, throwaway", load: async () => (await import('./shell.js')).shellCommand },
  { command: 'diff <a> <b>', describe: 'Show which layers and files differ between two images, archives or archived steps', load: async () => (await import('./diff.js')).diffCommand },
  { command: 'logs <target>', describe: 'Print the whole log of every step (or one) of an image built here, or of a build archive', load: async () => (await import('./logs.js')).logsCommand },
];
