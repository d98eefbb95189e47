/**
 * The current time, refreshed every `intervalMs` while the calling component is mounted.
 * Call during component initialisation.
 */
export function ticker(intervalMs: number): { readonly now: number } {
  let now = $state(Date.now());
  $effect(() => {
    now = Date.now();
    const id = setInterval(() => {
      now = Date.now();
    }, intervalMs);
    return () => clearInterval(id);
  });
  return {
    get now() {
      return now;
    },
  };
}
