/**
 * Calls `fn` once `ms` have passed and the I/O that arrived meanwhile has been read. A
 * process that was frozen (SIGSTOP, a long pause of the machine) wakes with its timers
 * overdue, and Node runs due timers before it reads its sockets: a plain timeout would
 * declare a reply missing that is already there. Waiting one turn more (`setImmediate`
 * runs after the poll phase) lets it in first. Returns a function that cancels.
 *
 * @example
 * const cancel = setTimeoutAfterIo(() => reject(new Error('no reply')), 5_000);
 */
export function setTimeoutAfterIo(fn: () => void, ms: number): () => void {
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(fn);
  }, ms);
  return () => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}
