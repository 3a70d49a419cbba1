/**
 * Whether `p` has settled, after the event loop ran everything it could (a few turns of
 * `setImmediate`, no timer): 'pending' means nothing that was ready settled it.
 */
export async function promiseState(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => (s = 'resolved'),
    () => (s = 'rejected'),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return s;
}
