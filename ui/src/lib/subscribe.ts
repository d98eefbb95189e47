type Unlisten = () => void;

/**
 * Turns a pending event subscription into a synchronous cleanup function, for use in a
 * component's `onMount`/`$effect`. If the component goes away before the subscription is
 * established, it is removed as soon as it is.
 */
export function subscription(pending: Promise<Unlisten> | Unlisten | undefined | null): () => void {
  let disposed = false;
  let unlisten: Unlisten | undefined;
  Promise.resolve(pending)
    .then((fn) => {
      if (typeof fn !== 'function') return;
      if (disposed) fn();
      else unlisten = fn;
    })
    .catch(() => {
      // Outside the desktop shell there is nothing to listen to.
    });
  return () => {
    disposed = true;
    unlisten?.();
    unlisten = undefined;
  };
}
