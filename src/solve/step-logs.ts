// Every step's whole output, kept in the store by cache key (`logs/<key>.log`), so that
// `tsbuild logs` and build archives have the full log of a step even when a later build took
// it from the cache. The UI shows only tails; nothing here is clipped.

import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempPathBeside, writeFileAtomic } from '../lib/atomic.js';
import { canonicalJson } from '../lib/canonical-json.js';
import type { Digest } from '../lib/digest.js';
import type { StoreLayout } from '../store/layout.js';
import type { BuildEvent, EventSink, StepInfo } from '../events.js';

export class StepLogRecorder {
  private readonly open = new Map<number, { path: string; stream: WriteStream }>();
  private readonly pending: Promise<void>[] = [];
  /** Step id → its kept log, for steps that ran or were cached with a log. */
  readonly logs = new Map<number, string>();
  private readonly layout: StoreLayout;
  private dirMade = false;

  constructor(layout: StoreLayout) {
    this.layout = layout;
  }

  /** Wraps `sink`: events pass through unchanged, logs are written on the side. */
  wrap(sink: EventSink): EventSink {
    return (event) => {
      this.record(event);
      sink(event);
    };
  }

  private record(event: BuildEvent): void {
    switch (event.type) {
      case 'step.start':
        this.start(event.step);
        break;
      case 'step.log':
        this.open.get(event.step)?.stream.write(event.data);
        break;
      case 'step.done':
        this.pending.push(this.finish(event.step, event.cacheKey));
        break;
      case 'step.cached':
        if (event.cacheKey && existsSync(this.layout.stepLog(event.cacheKey))) this.logs.set(event.step, this.layout.stepLog(event.cacheKey));
        break;
      case 'step.error':
      case 'step.cancelled':
        this.pending.push(this.finish(event.step, undefined));
        break;
      default:
    }
  }

  private start(step: number): void {
    const { logsDir } = this.layout;
    if (!this.dirMade) mkdirSync(logsDir, { recursive: true });
    this.dirMade = true;
    const path = tempPathBeside(join(logsDir, `step-${step}`));
    const stream = createWriteStream(path, { flags: 'w', mode: 0o644 });
    // A log that cannot be kept must not fail the build: the step's output still reaches the UI.
    stream.on('error', () => {});
    this.open.set(step, { path, stream });
  }

  private async finish(step: number, cacheKey: string | undefined): Promise<void> {
    const entry = this.open.get(step);
    if (!entry) return;
    this.open.delete(step);
    await new Promise<void>((resolve) => entry.stream.end(resolve));
    if (!cacheKey) return rm(entry.path, { force: true });
    const target = this.layout.stepLog(cacheKey);
    await rename(entry.path, target);
    this.logs.set(step, target);
  }

  /** Waits for every log to be written and moved into place. */
  async flush(): Promise<void> {
    await Promise.allSettled(this.pending);
    await Promise.all([...this.open.keys()].map((step) => this.finish(step, undefined)));
  }
}

/** A built image's steps and where their logs are, so `tsbuild logs IMAGE` finds them later. */
export interface ImageStepLogs {
  steps: Array<{ step: StepInfo; logFile?: string }>;
}

export async function writeImageStepLogs(layout: StoreLayout, manifest: Digest, logs: ImageStepLogs): Promise<void> {
  await writeFileAtomic(layout.buildRecord(manifest), canonicalJson(logs));
}

export async function readImageStepLogs(layout: StoreLayout, manifest: Digest): Promise<ImageStepLogs | undefined> {
  const text = await readFile(layout.buildRecord(manifest), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as ImageStepLogs);
}
