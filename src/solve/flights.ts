// Identical work in flight runs once (BuildKit's flightcontrol): callers asking for the same
// key join the running call. The work is cancelled only when every caller has gone, so one
// build's Ctrl-C never kills a step another build is waiting for.

interface Flight {
  promise: Promise<unknown>;
  controller: AbortController;
  waiters: number;
  started: boolean;
  startListeners: Array<() => void>;
}

export class Flights {
  private readonly running = new Map<string, Flight>();

  /**
   * Runs `work` for `key`, or joins the call already running for it. `onStart` is called when
   * the work actually starts (at once for a late joiner). Rejects with the signal's reason when
   * `signal` aborts, whatever the other callers do (after the work has stopped, when this was
   * its last caller).
   */
  run<T>(
    key: string,
    signal: AbortSignal,
    work: (signal: AbortSignal, started: () => void) => Promise<T>,
    onStart: () => void,
  ): Promise<T> {
    signal.throwIfAborted();
    const existing = this.running.get(key);
    if (existing) return this.join(key, existing, signal, onStart) as Promise<T>;
    let launch!: () => void;
    const flight: Flight = {
      promise: new Promise<void>((resolve) => (launch = resolve)).then(() => work(flight.controller.signal, started)),
      controller: new AbortController(),
      waiters: 0,
      started: false,
      startListeners: [],
    };
    const started = () => {
      flight.started = true;
      for (const listener of flight.startListeners.splice(0)) listener();
    };
    flight.promise = flight.promise.finally(() => {
      if (this.running.get(key) === flight) this.running.delete(key);
    });
    // A flight whose last waiter left still settles; nobody observes it then.
    flight.promise.catch(() => {});
    this.running.set(key, flight);
    // Join before launching, so the first caller hears `started` before any output.
    const joined = this.join(key, flight, signal, onStart) as Promise<T>;
    launch();
    return joined;
  }

  private join(key: string, flight: Flight, signal: AbortSignal, onStart: () => void): Promise<unknown> {
    flight.waiters++;
    if (flight.started) onStart();
    else flight.startListeners.push(onStart);
    return new Promise((resolve, reject) => {
      const leave = () => {
        signal.removeEventListener('abort', onAbort);
        flight.waiters--;
      };
      const onAbort = () => {
        leave();
        const index = flight.startListeners.indexOf(onStart);
        if (index >= 0) flight.startListeners.splice(index, 1);
        if (flight.waiters > 0) {
          reject(signal.reason);
          return;
        }
        // The last caller left: cancel the work, and return only once it has stopped, so the
        // caller can clean up knowing nothing of it still runs.
        if (this.running.get(key) === flight) this.running.delete(key);
        flight.controller.abort(signal.reason);
        flight.promise.then(
          () => reject(signal.reason),
          () => reject(signal.reason),
        );
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          leave();
          resolve(value);
        },
        (error: unknown) => {
          leave();
          reject(error);
        },
      );
    });
  }
}
