#!/usr/bin/env node
// The CLI is compiled by `npm run build`; the install script runs it.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
