// A Writable that keeps what was written, for renderer tests and the benchmark.

import { Writable } from 'node:stream';

export class Capture extends Writable {
  chunks: string[] = [];
  writes = 0;

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.writes++;
    this.chunks.push(chunk.toString());
    done();
  }

  text(): string {
    return this.chunks.join('');
  }
}
