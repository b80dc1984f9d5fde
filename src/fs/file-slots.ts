/**
 * At most this many file operations holding a descriptor run at once in this process (reading
 * a bundle or metadata.json, listing a directory). Two hundred concurrent verifications queue
 * here instead of running into EMFILE.
 */
const LIMIT = 64;
let active = 0;
const waiting: Array<() => void> = [];

/** Runs `work` once a slot is free; the slot is handed straight to the next waiter after. */
export async function withFileSlot<T>(work: () => Promise<T>): Promise<T> {
  if (active < LIMIT) active += 1;
  else await new Promise<void>((resolve) => waiting.push(resolve)); // the releaser hands its slot over
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  }
}
