import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, ftruncateSync, mkdirSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { copyCubin, mkfifo, pseudoRandomBytes, runNode, tempDir, writeTree } from './helpers/fs.js';
import { DIST } from './helpers/package.js';

const { createNativeBackend, pureBackend, DigestError, DIGEST_ALGORITHMS } = (await import(DIST)) as typeof import('../dist/index.js');
const native = createNativeBackend();
const backends = [native, pureBackend];

type Hashes = { paths: string[]; digests: Uint8Array };
/** [path, hex digest] pairs from a backend's columnar result. */
const hex = ({ paths, digests }: Hashes) => {
  const length = digests.length / Math.max(paths.length, 1);
  return paths.map((path, i) => [path, Buffer.from(digests.subarray(i * length, (i + 1) * length)).toString('hex')]);
};

/** Every kind of entry the walk rules speak of, plus a real .cubin and large files. */
function buildTree(): { root: string; expected: Map<string, Buffer> } {
  const root = tempDir('kernelseal-tree-');
  const outside = tempDir('kernelseal-outside-');
  const contents: Record<string, Buffer> = {
    '__init__.py': Buffer.from('from ._ops import ops\n'),
    '_ops.py': Buffer.from('import torch\n'),
    '.hidden': Buffer.from('hidden files are kernel content'),
    'empty.txt': Buffer.alloc(0),
    'relu/__init__.py': Buffer.from('# nested\n'),
    'relu/metadata.json': Buffer.from('{"nested": "metadata is content"}'),
    'relu/metadata.json.sigstore': Buffer.from('{}'),
    'deep/a/b/c/d.py': Buffer.from('deep'),
    'naïve/ünïcode-名前.py': Buffer.from('unicode'),
    '\u{FF5E}-fullwidth.py': Buffer.from('sorts before astral characters'),
    '\u{1F600}-emoji.py': Buffer.from('astral'),
    'one-chunk.bin': pseudoRandomBytes(1024 * 1024, 7),
    'chunk-plus-one.bin': pseudoRandomBytes(1024 * 1024 + 1, 8),
    '_relu_cuda.abi3.so': pseudoRandomBytes(300 * 1024 * 1024, 9),
  };
  writeTree(root, contents);
  writeTree(root, {
    'metadata.json': '{"name": "relu"}',
    'metadata.json.sigstore': '{}',
    '__pycache__/_ops.cpython-312.pyc': 'cache',
    'relu/__pycache__/x.pyc': 'cache',
    'relu/stale.pyc': 'planted',
  });
  mkdirSync(join(root, 'empty-dir'));
  const cubinDir = join(root, 'cubin');
  mkdirSync(cubinDir);
  contents['cubin/relu.cubin'] = Buffer.from(require('node:fs').readFileSync(copyCubin(cubinDir)));
  // A symlink to a file outside (hub caches are symlink farms), and one to a directory.
  writeFileSync(join(outside, 'blob'), 'blob content');
  mkdirSync(join(outside, 'dir'));
  writeFileSync(join(outside, 'dir', 'not-entered.py'), 'x');
  symlinkSync(join(outside, 'blob'), join(root, 'linked.so'));
  symlinkSync(join(outside, 'dir'), join(root, 'linked-dir'));
  symlinkSync('_ops.py', join(root, 'relative-link.py'));
  contents['linked.so'] = Buffer.from('blob content');
  contents['relative-link.py'] = contents['_ops.py']!;
  // Special files are skipped.
  mkfifo(join(root, 'pipe'));
  return { root, expected: new Map(Object.entries(contents)) };
}

const require = (await import('node:module')).createRequire(import.meta.url);

describe('native and pure backends', () => {
  let tree: ReturnType<typeof buildTree>;
  beforeAll(() => {
    tree = buildTree();
  });

  it.each(DIGEST_ALGORITHMS)('agree byte for byte on every kind of entry (%s)', async (algorithm) => {
    const [fromNative, fromPure] = await Promise.all(backends.map((b) => b.hashVariant(algorithm, tree.root)));
    expect(hex(fromNative!)).toEqual(hex(fromPure!));
    expect(fromNative!.bytes).toBe(fromPure!.bytes);
  });

  it('hash what node:crypto hashes, under the documented keys in byte order', async () => {
    const files = await native.hashVariant('sha256', tree.root);
    const expected = [...tree.expected.entries()]
      .map(([key, data]) => [key, createHash('sha256').update(data).digest('hex')])
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a!), Buffer.from(b!)));
    expect(hex(files)).toEqual(expected);
  });

  it.each(backends)('hashFile follows symlinks and matches hashVariant ($name)', async (backend) => {
    const digest = await backend.hashFile(join(tree.root, 'linked.so'), 'sha512');
    expect(Buffer.from(digest).toString('hex')).toBe(createHash('sha512').update('blob content').digest('hex'));
  });
});

describe('hashFiles: files whole or in shards (model signing)', () => {
  const contents = [Buffer.alloc(0), Buffer.from('This is a simple model'), pseudoRandomBytes(20_000_001, 5)];
  let paths: string[];
  beforeAll(() => {
    const dir = tempDir();
    paths = contents.map((data, i) => {
      writeFileSync(join(dir, `f${i}`), data);
      return join(dir, `f${i}`);
    });
    symlinkSync(paths[1]!, join(dir, 'link'));
    paths.push(join(dir, 'link'));
    contents.push(contents[1]!);
  });
  const nodeHash = (algorithm: string, data: Buffer) => createHash(algorithm === 'blake2b' ? 'blake2b512' : algorithm).update(data).digest();

  it.each(['sha256', 'blake2b'] as const)('both backends give node:crypto\'s digest of every shard, and of whole files (%s)', async (algorithm) => {
    // Tiny shards on the small files only: a piece per 8 bytes of 20 MB would be 2.5 million.
    for (const [shardSize, which] of [[undefined, paths], [7_000_000, paths], [8, [paths[0]!, paths[1]!, paths[3]!]]] as const) {
      const datas = which.map((path) => contents[paths.indexOf(path)]!);
      const expected = Buffer.concat(
        datas.flatMap((data) => {
          if (shardSize === undefined) return [nodeHash(algorithm, data)];
          const shards = [];
          for (let start = 0; start < data.length; start += shardSize) shards.push(nodeHash(algorithm, data.subarray(start, start + shardSize)));
          return shards;
        }),
      );
      for (const backend of backends) {
        const result = await backend.hashFiles(algorithm, which, { shardSize });
        expect(Buffer.from(result.digests).equals(expected), `${backend.name} shard ${shardSize}`).toBe(true);
        expect(result.sizes).toEqual(datas.map((c) => c.length));
      }
    }
  });

  it('both backends agree on blake3 shards', async () => {
    const [a, b] = await Promise.all(backends.map((backend) => backend.hashFiles('blake3', paths, { shardSize: 3_000_000 })));
    expect(Buffer.from(a!.digests).equals(Buffer.from(b!.digests))).toBe(true);
  });

  it.each(backends)('refuses a bad shard size and what is not a file, with the same errors ($name)', async (backend) => {
    await expect(backend.hashFiles('sha256', paths, { shardSize: 0 })).rejects.toThrow(TypeError);
    await expect(backend.hashFiles('sha256', paths, { shardSize: 1.5 })).rejects.toThrow(/shardSize must be a positive whole number/);
    const dir = tempDir();
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    await expect(backend.hashFiles('sha256', [join(dir, 'dangling')], { shardSize: 4 })).rejects.toMatchObject({ code: 'DANGLING_SYMLINK' });
    await expect(backend.hashFiles('sha256', [dir])).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE', path: dir });
    await expect(backend.hashFiles('sha256', [join(dir, 'missing')])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it.each(backends)('refuses to cut a file into millions of shards before reading a byte ($name)', async (backend) => {
    const sparse = join(tempDir(), 'sparse');
    const fd = openSync(sparse, 'w');
    ftruncateSync(fd, 2 ** 40); // 1 TiB, nothing on disk
    closeSync(fd);
    await expect(backend.hashFiles('sha256', [sparse], { shardSize: 1024 })).rejects.toMatchObject({
      code: 'TOO_MANY_SHARDS',
      reason: '1099511627776 bytes in shards of 1024 make more than 2097152 shards',
    });
  });
});

describe('the pure backend\'s worker pool', () => {
  it('runs concurrent jobs on shared workers with the same results as native', async () => {
    const dirs = [0, 1, 2].map((seed) =>
      writeTree(tempDir(), { 'a.so': pseudoRandomBytes(3_000_000, seed + 10), 'b/c.py': `seed ${seed}`, 'd.bin': pseudoRandomBytes(20_000_000, seed + 20) }),
    );
    const pure = await Promise.all(dirs.map((dir) => pureBackend.hashVariant('sha512', dir)));
    const reference = await Promise.all(dirs.map((dir) => native.hashVariant('sha512', dir)));
    expect(pure.map(hex)).toEqual(reference.map(hex));
  });

  it('does not keep the process alive once idle', () => {
    const dir = writeTree(tempDir(), { 'a.py': 'a' });
    const script = `
      const m = await import(${JSON.stringify(DIST)});
      const { paths } = await m.pureBackend.hashVariant('blake3', ${JSON.stringify(dir)});
      console.log(paths.length);`;
    const result = runNode(script, { timeout: 20_000 });
    expect(result.signal).toBeNull();
    expect(result).toMatchObject({ status: 0, stdout: '1\n' });
  });
});

describe('bad input gets the same clear error from both backends', () => {
  const errorOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as InstanceType<typeof DigestError>;
    }
    throw new Error('expected a rejection');
  };

  it.each(backends)('a missing directory ($name)', async (backend) => {
    const error = await errorOf(backend.hashVariant('sha256', '/nonexistent/variant'));
    expect(error).toBeInstanceOf(DigestError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', path: '/nonexistent/variant' });
    expect(error.message).toBe('/nonexistent/variant: cannot open the variant directory: No such file or directory');
  });

  it.each(backends)('a file instead of a directory ($name)', async (backend) => {
    const dir = writeTree(tempDir(), { 'file.py': 'x' });
    const error = await errorOf(backend.hashVariant('sha256', join(dir, 'file.py')));
    expect(error).toMatchObject({ code: 'NOT_A_DIRECTORY', message: `${join(dir, 'file.py')}: not a directory` });
  });

  it.each(backends)('a dangling symlink, named with its target ($name)', async (backend) => {
    const dir = writeTree(tempDir(), { 'ok.py': 'x', 'gone.so': { symlink: 'missing.so' } });
    const error = await errorOf(backend.hashVariant('sha256', dir));
    expect(error).toMatchObject({ code: 'DANGLING_SYMLINK', path: join(dir, 'gone.so') });
    expect(error.message).toContain('dangling symlink to missing.so');
  });

  it.each(backends)('a symlink loop ($name)', async (backend) => {
    const dir = writeTree(tempDir(), { a: { symlink: 'b' }, b: { symlink: 'a' } });
    const error = await errorOf(backend.hashVariant('sha256', dir));
    expect(error.code).toBe('DANGLING_SYMLINK');
  });

  it.each(backends)('a FIFO and a socket are skipped and never block ($name)', async (backend) => {
    const dir = writeTree(tempDir(), { 'ok.py': 'x' });
    mkfifo(join(dir, 'fifo'));
    const server = createServer().listen(join(dir, 'socket'));
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { paths } = await backend.hashVariant('sha256', dir);
      expect(paths).toEqual(['ok.py']);
      // Asked for directly, a FIFO is refused rather than read.
      const error = await errorOf(backend.hashFile(join(dir, 'fifo'), 'sha256'));
      expect(error).toMatchObject({ code: 'NOT_A_REGULAR_FILE', path: join(dir, 'fifo') });
    } finally {
      server.close();
    }
  });

  it.each(backends)('an unreadable file is named, as an unprivileged user ($name)', async (backend) => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    writeTree(dir, { 'ok.py': 'x', 'secret.so': 'y' });
    chmodSync(join(dir, 'secret.so'), 0o000);
    const asRoot = process.getuid?.() === 0;
    // root reads everything: run the check as `nobody` in a child process.
    const script = `
      const m = await import(${JSON.stringify(DIST)});
      const backend = ${backend.name === 'native' ? 'm.createNativeBackend()' : 'm.pureBackend'};
      try { await backend.hashVariant('sha256', ${JSON.stringify(dir)}); console.log('no error'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, path: e.path, message: e.message })); }`;
    const result = runNode(script, asRoot ? { uid: 65534, gid: 65534 } : {});
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      code: 'IO',
      path: join(dir, 'secret.so'),
      message: `${join(dir, 'secret.so')}: cannot open: Permission denied`,
    });
  });

  it.each(backends)('an invalid algorithm is a TypeError, not a crash ($name)', async (backend) => {
    await expect(backend.hashVariant('md5' as never, '/tmp')).rejects.toThrow(TypeError);
  });
});

describe('files that change while they are hashed', () => {
  // A sparse file takes no blocks, so the engine reads it rather than map it (a file cut short
  // while mapped: addon-stress.test.ts). Each case runs in a child process so that a crash
  // shows as a signal.
  it.each(['native', 'pure'])('truncation mid-hash is an error, and the process survives (%s)', (name) => {
    const dir = tempDir();
    const file = join(dir, 'big.so');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 512 * 1024 * 1024); // sparse: fast to make, slow enough to hash
    closeSync(fd);
    const script = `
      import { truncateSync } from 'node:fs';
      const m = await import(${JSON.stringify(DIST)});
      const backend = ${name === 'native' ? 'm.createNativeBackend()' : 'm.pureBackend'};
      let truncated = false;
      const onProgress = (p) => {
        if (!truncated && p.bytesDone > 0 && p.bytesDone < p.bytesTotal) { truncated = true; truncateSync(${JSON.stringify(file)}, 4096); }
      };
      try { await backend.hashVariant('sha256', ${JSON.stringify(dir)}, { onProgress }); console.log('no error', truncated); }
      catch (e) { console.log(JSON.stringify({ truncated, code: e.code, path: e.path })); }`;
    const result = runNode(script);
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ truncated: true, code: 'FILE_CHANGED', path: file });
  });
});

describe('progress, cancellation and the event loop', () => {
  let big: string;
  beforeAll(() => {
    big = tempDir();
    const fd = openSync(join(big, 'model.so'), 'w');
    ftruncateSync(fd, 1024 * 1024 * 1024); // a sparse 1 GiB file
    closeSync(fd);
    writeTree(big, { 'small.py': 'x' });
  });

  it('keeps the event loop turning while 1 GiB is hashed natively', async () => {
    // What the JavaScript thread did, in order: timer ticks and progress reports.
    const events: ('tick' | 'progress')[] = [];
    const timer = setInterval(() => events.push('tick'), 10);
    const progress: number[] = [];
    const onProgress = (p: { bytesDone: number }) => {
      progress.push(p.bytesDone);
      events.push('progress');
    };
    const { bytes } = await native.hashVariant('sha256', big, { onProgress });
    clearInterval(timer);
    expect(bytes).toBe(1024 * 1024 * 1024 + 1);
    // Hashing runs off this thread: timers fire between its progress reports, which a hash that
    // held the thread could not show. How long the loop may stall is not asked here: a loaded
    // machine stalls any thread, and timings belong in the bench.
    const between = events.slice(events.indexOf('progress'), events.lastIndexOf('progress'));
    expect(between.filter((event) => event === 'tick').length).toBeGreaterThan(2);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(bytes);
  });

  it.each(backends)('reports totals and ends with everything done ($name)', async (backend) => {
    const dir = writeTree(tempDir(), { a: 'aaaa', 'b/c': 'cc' });
    const reports: unknown[] = [];
    await backend.hashVariant('sha256', dir, { onProgress: (p) => reports.push(p) });
    expect(reports.at(-1)).toEqual({ bytesDone: 6, filesDone: 2, bytesTotal: 6, filesTotal: 2 });
  });

  it.each(backends)('an AbortSignal cancels the work and rejects with its reason ($name)', async (backend) => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    const started = performance.now();
    const promise = backend.hashVariant('sha512', big, {
      signal: controller.signal,
      onProgress: () => controller.abort(reason),
    });
    await expect(promise).rejects.toBe(reason);
    // Cancelled well before 1 GiB of SHA-512 could be done.
    expect(performance.now() - started).toBeLessThan(60_000);
  });

  it.each(backends)('an already-aborted signal rejects at once ($name)', async (backend) => {
    await expect(backend.hashVariant('sha256', big, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it.each(backends)('an exception thrown by onProgress rejects the call ($name)', async (backend) => {
    const oops = new Error('callback failed');
    await expect(
      backend.hashVariant('sha256', big, {
        onProgress: () => {
          throw oops;
        },
      }),
    ).rejects.toBe(oops);
  });
});
