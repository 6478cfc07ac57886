/**
 * Our capture children run detached (own process group, so a signal stops the whole group):
 * if Airlock itself dies without stopping them, they notice that their parent changed and exit.
 */
export function exitWhenOrphaned(onOrphan: () => void, everyMs = 1000): void {
  const parent = process.ppid;
  const t = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(t);
      onOrphan();
    }
  }, everyMs);
  t.unref();
}
