/**
 * Calls `onGone` once the process that started this one has exited: `npx convnet serve &` runs the server as
 * npm's child, so killing the PID the shell printed would otherwise leave the server running. Polls; the timer
 * never keeps the process alive. Returns a function that stops watching.
 */
export function whenParentExits(onGone: (parentPid: number) => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    // An orphan is adopted by init or a subreaper (the ppid changes); Windows keeps the dead parent's id.
    if (process.ppid !== parent || !processAlive(parent)) {
      clearInterval(timer);
      onGone(parent);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
