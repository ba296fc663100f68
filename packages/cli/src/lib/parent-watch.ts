// Nodes that `tessera up` starts stop when `up` is gone: they run in process groups of their own,
// so a `kill -9` of `up` would otherwise leave them running under init with no one to stop them.

/** Set by `up` on the nodes it starts: its own pid. */
export const PARENT_PID_ENV = "TESSERA_PARENT_PID";

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
}

/**
 * When TESSERA_PARENT_PID names a process, calls `onGone` once, as soon as a check (every
 * `everyMs`) finds it gone or this process re-parented. The timer never keeps the process alive.
 */
export function watchParent(onGone: () => void, everyMs = 1_000, env: NodeJS.ProcessEnv = process.env): () => void {
  const pid = Number(env[PARENT_PID_ENV]);
  if (!Number.isInteger(pid) || pid <= 0) return () => {};
  const ppid = process.ppid;
  // the parent's pid may be reused after it dies; a changed ppid is the surer sign when it was ours
  const timer = setInterval(() => {
    if ((ppid !== pid || process.ppid === ppid) && running(pid)) return;
    clearInterval(timer);
    onGone();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
