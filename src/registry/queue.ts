// Parallel blob transfers, bounded by p-queue. Once one fails, transfers not yet started are
// skipped, and `settle` returns only when the running ones have ended, so a failed pull or
// push does no work behind its caller's back (and leaves no temp files being written).

import PQueue from 'p-queue';

export class TransferQueue {
  private readonly queue: PQueue;
  private failure: unknown;

  constructor(concurrency: number) {
    this.queue = new PQueue({ concurrency });
  }

  run<T>(transfer: () => Promise<T>): Promise<T> {
    return this.queue.add(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        return await transfer();
      } catch (error) {
        this.failure ??= error;
        throw error;
      }
    });
  }
}

/** Like Promise.all, but waits for every promise to settle before rejecting with the first failure. */
export async function settleAll<T>(promises: Array<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
