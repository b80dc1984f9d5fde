import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { pseudoRandomBytes, runNode, tempDir, writeTree } from './helpers/fs.js';
import { DIST, NATIVE_BACKEND, testHooksAddonExpression } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

/**
 * Runs a script in a child Node whose addon panics in `operation` (KERNELSEAL_TEST_PANIC,
 * crates/addon/src/lib.rs: the addon built with its test hooks), with the package as `m`, that
 * addon as `addon`, the native backend module as `nb`, and a native backend on that addon as `native`.
 */
function panicking(operation: string, body: string) {
  return runNode(
    `const m = await import(${JSON.stringify(DIST)}); const nb = await import(${JSON.stringify(NATIVE_BACKEND)});
     const addon = ${testHooksAddonExpression()}; const native = () => nb.createNativeBackend(addon);
     const outcome = (p) => p.then((value) => ({ value: typeof value }), (e) => ({ name: e.constructor.name, code: e.code, operation: e.operation, path: e.path, message: e.message }));
     ${body}`,
    { env: { KERNELSEAL_TEST_PANIC: operation }, timeout: 60_000 },
  );
}

/** Rust's report of the injected panic, on stderr: the process says it panicked, and nothing aborts it. */
const PANIC_REPORT = /panicked at crates\/addon\/src\/lib\.rs:\d+:\d+:\nKERNELSEAL_TEST_PANIC=/;

describe('a panic in the engine or the addon', () => {
  const dir = writeTree(tempDir(), { 'big.bin': pseudoRandomBytes(3 * 1024 * 1024, 4), 'a.py': 'a' });
  const file = join(dir, 'big.bin');

  it.each([
    ['hashVariant', `addon.hashVariant('sha256', ${JSON.stringify(dir)})`],
    ['hashFile', `addon.hashFile(${JSON.stringify(file)}, 'blake3', () => {})`],
    ['hashFiles', `addon.hashFiles('blake3', [${JSON.stringify(file)}], 1024 * 1024)`],
  ])('in %s rejects with an internal error naming it, and the process lives on', (operation, call) => {
    const result = panicking(
      operation,
      `const failed = await outcome(${call});
       const other = await outcome(addon.${operation === 'hashVariant' ? `hashFile(${JSON.stringify(file)}, 'sha256')` : `hashVariant('sha256', ${JSON.stringify(dir)})`});
       console.log(JSON.stringify({ failed, other }));`,
    );
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(PANIC_REPORT);
    const { failed, other } = JSON.parse(result.stdout);
    expect(failed).toEqual({
      name: 'Error',
      code: 'ERR_KERNELSEAL_INTERNAL',
      operation,
      message: `internal error in the digest engine during ${operation}: KERNELSEAL_TEST_PANIC=${operation}`,
    });
    expect(other).toEqual({ value: 'object' });
  });

  it.each(['engineInfo', 'createCancelToken', 'cancel'])('in %s throws an internal error naming it', (operation) => {
    const result = panicking(
      operation,
      `let thrown;
       const token = ${operation === 'cancel' ? 'addon.createCancelToken()' : 'undefined'};
       try { addon.${operation}(token); } catch (e) { thrown = { code: e.code, operation: e.operation }; }
       console.log(JSON.stringify({ thrown }));`,
    );
    expect(result.signal).toBeNull();
    expect(result.stderr).toMatch(PANIC_REPORT);
    expect(JSON.parse(result.stdout)).toEqual({ thrown: { code: 'ERR_KERNELSEAL_INTERNAL', operation } });
  });

  it('reaches the library as EngineInternalError, not as a DigestError about the files', () => {
    const result = panicking('hashVariant', `console.log(JSON.stringify(await outcome(native().hashVariant('sha256', ${JSON.stringify(dir)}))));`);
    expect(result.signal).toBeNull();
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'EngineInternalError', code: 'ERR_KERNELSEAL_INTERNAL', operation: 'hashVariant' });
  });

  it('is never a verdict: verifyModel throws instead of answering hash-failed', async () => {
    const model = writeTree(tempDir(), { 'weights.bin': pseudoRandomBytes(2 * 1024 * 1024, 5), 'config.json': '{}' });
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await ks.signModel(model, { signer: { method: 'key', privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }, backend: ks.pureBackend });
    const key = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const verify = `m.verifyModel(${JSON.stringify(model)}, { key: ${JSON.stringify(key)}, backend: native() })`;
    const result = panicking('hashFiles', `console.log(JSON.stringify(await outcome(${verify}.then((r) => { if (r.status !== 'verified') throw new Error(r.status + ': ' + r.reason); return r; }))));`);
    expect(result.signal).toBeNull();
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'EngineInternalError', operation: 'hashFiles' });
    // The same model verifies when nothing panics.
    const healthy = panicking('none', `console.log((await ${verify}).status);`);
    expect(healthy.stdout.trim()).toBe('verified');
  });

  it('cannot be injected into the shipped addon, which has no test hooks', () => {
    // The same switches that make the test-hooks addon panic and pause (before each mapped slice:
    // the 5 MiB file is mapped, on one thread), on the addon the package ships.
    const shipped = writeTree(tempDir(), { 'weights.bin': pseudoRandomBytes(5 * 1024 * 1024, 6), 'a.py': 'a' });
    const result = runNode(
      `const nb = await import(${JSON.stringify(NATIVE_BACKEND)}); const addon = nb.loadAddon();
       const { digests } = await nb.createNativeBackend(addon).hashVariant('sha256', ${JSON.stringify(shipped)});
       console.log(JSON.stringify({ threads: addon.engineInfo().threads > 0, files: digests.length / 32 }));`,
      { env: { KERNELSEAL_TEST_PANIC: 'hashVariant', KERNELSEAL_TEST_MAPPED_PAUSE_MS: '600000', RAYON_NUM_THREADS: '1' } },
    );
    expect(result).toMatchObject({ status: 0, signal: null, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({ threads: true, files: 2 });
  });
});
