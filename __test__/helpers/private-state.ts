import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Every test file gets a state folder of its own (src/fs/user-state.ts): a test never reads or
// writes the state of the user running it (the signers remembered per repository, the publisher
// lists' floors), and no test file sees what another remembered. The CLI's children inherit it.
process.env.KERNELSEAL_STATE_DIR = mkdtempSync(join(tmpdir(), 'kernelseal-test-state-'));
