/**
 * A trigger for `work` that runs it one at a time: triggered while it runs, it runs once
 * more after (however many triggers came meanwhile), and again at once when it resolves
 * `true` (there is more). A failure goes to `onError`; the next trigger runs it again.
 *
 * @example
 * const drain = oneAtATime(() => readInbox(), (err) => log.warn({ err }, 'inbox unread'));
 * drain(); drain(); // one read now, one after it
 */
export function oneAtATime(
  work: () => Promise<unknown>,
  onError: (error: unknown) => void,
): () => void {
  let running = false;
  let again = false;
  const trigger = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void work()
      .then((more) => {
        if (more === true) again = true;
      })
      .catch(onError)
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          trigger();
        }
      });
  };
  return trigger;
}
