// `--progress json`: exactly the solver's events, one JSON object per line, nothing else. The
// schema is the BuildEvent union (src/events.ts), documented in the README.

import type { Writable } from 'node:stream';
import type { EventSink } from '../events.js';

export function createJsonSink(out: Writable): EventSink {
  return (event) => {
    out.write(JSON.stringify(event) + '\n');
  };
}
