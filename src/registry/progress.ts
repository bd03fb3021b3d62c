// Transfer progress as `transfer` events: one when a blob starts, then at most every 200 ms,
// and one when it is done. Bytes are counted as they pass, so nothing is buffered.

import { Transform, type TransformCallback } from 'node:stream';
import type { EventSink } from '../events.js';

const INTERVAL_MS = 200;

export class ProgressStream extends Transform {
  private current = 0;
  private lastEmit = 0;
  private readonly report: (current: number, done?: boolean) => void;

  private readonly total: number | undefined;

  /** `offset`: bytes already sent before this stream (a later chunk of an upload). */
  constructor(sink: EventSink | undefined, id: string, label: string, total: number | undefined, offset = 0) {
    super();
    this.total = total;
    this.current = offset;
    this.report = (current, done) => sink?.({ type: 'transfer', time: Date.now(), id, label, current, ...(total === undefined ? {} : { total }), ...(done ? { done } : {}) });
    this.report(offset);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.current += chunk.length;
    const now = Date.now();
    if (now - this.lastEmit >= INTERVAL_MS) {
      this.lastEmit = now;
      this.report(this.current);
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.report(this.current, this.total === undefined || this.current === this.total);
    callback();
  }
}

/** What a transfer line says: `pulling 0123456789ab` (Docker's 12 hex digits). */
export function transferLabel(verb: 'pulling' | 'pushing' | 'compressing' | 'loading', digest: string): string {
  return `${verb} ${digest.replace(/^sha256:/, '').slice(0, 12)}`;
}
