import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { tempDir, writeTree } from './helpers/fs.js';
import { DIST, NATIVE_BACKEND } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const { loadAddon } = (await import(NATIVE_BACKEND)) as typeof import('../dist/hashing/native/backend.js');
const addon = loadAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
const RUNS = Number(process.env.KERNELSEAL_FUZZ_RUNS ?? 300);

/** Error codes a call may throw synchronously, by error class (crates/addon/src/lib.rs). */
const ARGUMENT_ERRORS = { TypeError: ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE'], RangeError: ['ERR_OUT_OF_RANGE'] };
/** Codes a call may reject with: the engine's (crates/engine/src/error.rs), never ERR_KERNELSEAL_INTERNAL. */
const ENGINE_CODES = ['NOT_FOUND', 'NOT_A_DIRECTORY', 'NOT_A_REGULAR_FILE', 'DANGLING_SYMLINK', 'INVALID_NAME', 'FILE_CHANGED', 'TOO_MANY_SHARDS', 'CANCELLED', 'IO'];

/** Calls `name` with `args`: the result must be an argument error, or a promise that settles with a digest or an engine error. */
async function expectHandled(name: string, args: unknown[]) {
  let returned: unknown;
  try {
    returned = addon[name]!(...args);
  } catch (error) {
    const allowed = ARGUMENT_ERRORS[(error as Error).constructor.name as keyof typeof ARGUMENT_ERRORS];
    expect(allowed, `${name} threw ${String(error)}`).toBeDefined();
    expect(allowed).toContain((error as { code?: string }).code);
    return;
  }
  if (!(returned instanceof Promise)) return;
  try {
    await returned;
  } catch (error) {
    expect(ENGINE_CODES, `${name} rejected with ${String(error)}`).toContain((error as { code?: string }).code);
  }
}

/** `call` throws a `kind` error whose message matches, with the code crates/addon/src/lib.rs gives that kind. */
function refuses(call: () => unknown, kind: ErrorConstructor, message: RegExp) {
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(kind);
  expect((thrown as Error).message).toMatch(message);
  const codes = ARGUMENT_ERRORS[kind.name as keyof typeof ARGUMENT_ERRORS];
  if (codes) expect(codes).toContain((thrown as { code?: string }).code);
}

let cwd: string;
beforeAll(() => {
  // Relative paths the properties make up resolve here, in an empty directory, never in the repository.
  cwd = process.cwd();
  process.chdir(tempDir());
});
afterAll(() => process.chdir(cwd));

/** A string that, as a relative path, stays inside the working directory: no '/', no '.'. */
const name = fc.string({ maxLength: 12 }).map((s) => s.replace(/[/.]/g, '_'));
const oddNumbers = fc.constantFrom(NaN, Infinity, -Infinity, -0, -1, 0.5, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 64, Number.MAX_VALUE, Number.MIN_VALUE);
const oddStrings = fc.constantFrom('', '\0', 'a\0b', '\uD800', 'sha256\0', 'SHA256', 'x'.repeat(70_000), '\u00e9'.repeat(40_000));
/** Anything but a string that could walk outside the working directory. */
const value = fc.oneof(
  fc.anything().filter((v) => typeof v !== 'string'),
  name,
  oddNumbers,
  oddStrings,
  fc.constantFrom(undefined, null, 5n, Symbol('s'), () => {}, new Array(3), Object.create(null), new Proxy({}, {})),
  fc.array(fc.oneof(name, fc.anything().filter((v) => typeof v !== 'string')), { maxLength: 4 }),
);
const algorithm = fc.oneof(fc.constantFrom('sha256', 'sha512', 'blake3', 'blake2b'), value);
const token = fc.oneof(
  fc.constant(undefined),
  fc.constant('cancelled').map(() => {
    const t = addon.createCancelToken!();
    addon.cancel!(t);
    return t;
  }),
  value,
);

describe('the addon against any argument', () => {
  it('hashVariant: an argument error or a settled promise, never a crash', async () => {
    await fc.assert(fc.asyncProperty(fc.tuple(algorithm, value, value, token), (args) => expectHandled('hashVariant', args)), { numRuns: RUNS });
  });

  it('hashFile: an argument error or a settled promise, never a crash', async () => {
    await fc.assert(fc.asyncProperty(fc.tuple(value, algorithm, value, token), (args) => expectHandled('hashFile', args)), { numRuns: RUNS });
  });

  it('hashFiles: an argument error or a settled promise, never a crash', async () => {
    const paths = fc.oneof(value, fc.array(fc.oneof(name, value), { maxLength: 6 }), fc.sparseArray(name, { maxLength: 6 }));
    const shardSize = fc.oneof(fc.nat(), oddNumbers, value);
    await fc.assert(fc.asyncProperty(fc.tuple(algorithm, paths, shardSize, value, token), (args) => expectHandled('hashFiles', args)), { numRuns: RUNS });
  });

  it('walkTree: an argument error or a settled promise, never a crash', async () => {
    await fc.assert(fc.asyncProperty(fc.tuple(value, token), (args) => expectHandled('walkTree', args)), { numRuns: RUNS });
  });

  it('cancel, createCancelToken and engineInfo: an argument error or a value, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('cancel', 'createCancelToken', 'engineInfo'), fc.array(value, { maxLength: 3 }), (fn, args) => expectHandled(fn, args)),
      { numRuns: RUNS },
    );
  });
});

describe('hostile arguments are refused before any work', () => {
  it.each([
    ['an algorithm that is not a string', () => addon.hashVariant!(256, '/tmp'), /algorithm must be a string/],
    ['an unknown algorithm', () => addon.hashVariant!('md5', '/tmp'), /algorithm must be one of sha256, sha512, blake3/],
    ['a missing directory argument', () => addon.hashVariant!('sha256'), /dir must be a string/],
    ['a path with a NUL byte', () => addon.hashVariant!('sha256', '/tmp\0/x'), /non-empty path without NUL bytes/],
    ['an empty path', () => addon.hashFile!('', 'sha256'), /non-empty path/],
    ['a progress callback that is not a function', () => addon.hashVariant!('sha256', '/tmp', 42), /onProgress must be a function/],
    ['a cancel token that is not one', () => addon.hashVariant!('sha256', '/tmp', undefined, {}), /cancelToken must come from createCancelToken/],
    ['cancel of a plain object', () => addon.cancel!({}), /expected a token from createCancelToken/],
    ['cancel of an external of another addon', () => addon.cancel!(undefined), /expected a token/],
  ])('raises a TypeError for %s', (_name, call, message) => refuses(call, TypeError, message));

  it('an array of 2^32 - 1 holes is refused by its length, without allocating for it', () => {
    const before = process.memoryUsage.rss();
    refuses(() => addon.hashFiles!('sha256', new Array(2 ** 32 - 1), 0), RangeError, /paths must hold at most 2097152 paths \(got 4294967295\)/);
    refuses(() => addon.hashFiles!('sha256', new Array(2 ** 21 + 1), 0), RangeError, /at most 2097152 paths/);
    expect((process.memoryUsage.rss() - before) / 2 ** 20).toBeLessThan(64);
  });

  it('one long path repeated in every element is refused once the paths add up to 256 MiB', () => {
    refuses(() => addon.hashFiles!('sha256', new Array(2 ** 20).fill('p'.repeat(300)), 0), RangeError, /paths must add up to at most 268435456 bytes/);
  });

  it('a hole, or a path that is not a string, is a TypeError; a throwing getter throws its own error', () => {
    refuses(() => addon.hashFiles!('sha256', ['a', , 'b'], 0), TypeError, /every path must be a string/); // eslint-disable-line no-sparse-arrays
    refuses(() => addon.hashFiles!('sha256', ['a', 5], 0), TypeError, /every path must be a string/);
    const trap = ['a'];
    Object.defineProperty(trap, 1, { get: () => { throw new SyntaxError('from the getter'); }, enumerable: true });
    refuses(() => addon.hashFiles!('sha256', trap, 0), SyntaxError, /from the getter/);
  });

  it('a path longer than 64 KiB is a RangeError; a long one below is the file system\'s to refuse', async () => {
    refuses(() => addon.hashFile!('p'.repeat(64 * 1024 + 1), 'sha256'), RangeError, /path must be at most 65536 bytes long/);
    refuses(() => addon.hashVariant!('sha256', '\u00e9'.repeat(32 * 1024 + 1)), RangeError, /dir must be at most 65536 bytes long/);
    await expect(addon.hashFile!('p'.repeat(5000), 'sha256')).rejects.toMatchObject({ code: 'IO', reason: /name too long/i });
  });

  it('a long algorithm name is refused without being echoed', () => {
    let message = '';
    try {
      addon.hashFile!('a', 'x'.repeat(10_000_000));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('algorithm must be one of sha256, sha512, blake3, blake2b (got a longer string)');
  });

  it.each([-1, 0.5, NaN, Infinity, 2 ** 53 + 2, 2 ** 64, '4096', 4096n])('shardSize %s is a TypeError', (shardSize) => {
    refuses(() => addon.hashFiles!('sha256', [], shardSize), TypeError, /shardSize must be a whole number of bytes/);
  });

  it('the largest shard size a number counts exactly is taken', async () => {
    const dir = writeTree(tempDir(), { f: 'x' });
    const result = (await addon.hashFiles!('sha256', [join(dir, 'f')], 2 ** 53)) as { sizes: number[] };
    expect(result.sizes).toEqual([1]);
  });
});
