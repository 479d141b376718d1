// Waiting for a condition in a benchmark, with a deadline: polled often enough that the
// wait itself adds at most a few ms to what a section times around it.

/** Resolves once `cond()` holds; throws naming `section` and `what` past `timeoutMs`. */
export async function until(section: string, what: string, cond: () => boolean, timeoutMs: number, pollMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${section}: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
