#!/usr/bin/env node
// The CLI is compiled by `npm run build` (the install script runs it): tsc emits dist/, then
// rolldown bundles the CLI into dist/bundle/, which starts ~100 ms sooner (a few files to
// load instead of ~300 modules). A bundle older than dist/cli/main.js (tsc run again since,
// without bundling) is out of date and not used.
import { statSync } from 'node:fs';

const bundle = new URL('../dist/bundle/main.js', import.meta.url);
const modules = new URL('../dist/cli/main.js', import.meta.url);
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs ?? -1;
const { main } = await import(mtime(bundle) >= mtime(modules) && mtime(bundle) > 0 ? bundle : modules);

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
