// A macrotask turn for loops whose awaits all resolve as microtasks (prefetched batches, a backend's
// data()): without one, a worker or page never runs its message handlers or timers until the loop ends.

/**
 * Resolves after the event loop has had one turn: pending messages (pause, stop), timers (the heartbeat)
 * and I/O callbacks run first. setImmediate in Node; a MessageChannel round trip in a browser page, which
 * (unlike setTimeout) is neither clamped nor throttled in a hidden window.
 */
export function nextTask(): Promise<void> {
  if (typeof setImmediate === 'function') {
    return new Promise((resolve) => setImmediate(resolve));
  }
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
