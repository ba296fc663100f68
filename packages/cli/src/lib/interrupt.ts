// Ctrl-C while a command waits on the network: the work it started keeps going on the gateway,
// so the command says what is still running and how to reach it, puts the terminal back (a
// progress bar hides the cursor), and exits 130 as the shell's default for SIGINT would.

/** Runs `wait`; a SIGINT meanwhile calls `onStop` and exits 130. */
export async function untilInterrupted<T>(wait: Promise<T>, onStop: () => void): Promise<T> {
  const handler = () => {
    onStop();
    process.exit(130);
  };
  process.once("SIGINT", handler);
  try {
    return await wait;
  } finally {
    process.off("SIGINT", handler);
  }
}
