import { Key, Signature, type Metadata, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename } from 'node:fs/promises';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { readBounded } from '../../fs/read-bounded.js';

// A list maintainer's signing keys (docs/publishers.md, section 5): ed25519, made with
// node:crypto, kept as PKCS #8 PEM files in a folder of their own, outside the folder that is
// uploaded. The ring knows each by its TUF key ID.

/** A private key and the TUF key it stands for. */
export interface SigningKey {
  id: string;
  key: Key;
  privateKey: KeyObject;
  /** The file it was read from or written to. */
  file: string;
}

/**
 * The TUF form of an ed25519 key, and its key ID: the SHA-256 of the key's canonical JSON
 * (sorted keys, no spaces), as python-tuf and tuf-js's own repositories name keys.
 */
export function tufKey(key: KeyObject): Key {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error(`only ed25519 keys are used, not ${publicKey.asymmetricKeyType}`);
  const hex = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  const canonical = `{"keytype":"ed25519","keyval":{"public":"${hex}"},"scheme":"ed25519"}`;
  const keyID = createHash('sha256').update(canonical).digest('hex');
  return new Key({ keyID, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: hex } });
}

/** Adds a signature by `key` to `metadata`. */
export function signMetadata<T extends Root | Timestamp | Snapshot | Targets>(metadata: Metadata<T>, key: SigningKey): void {
  metadata.sign((data) => new Signature({ keyID: key.id, sig: sign(null, data, key.privateKey).toString('hex') }), true);
}

/** The private keys of a keys folder (`*.pem`; `retired/` is not read). */
export class KeyRing {
  private constructor(
    readonly dir: string,
    private readonly keys: Map<string, SigningKey>,
  ) {}

  /** Reads every `*.pem` private key of `dir` (a missing folder holds none). */
  static async read(dir: string): Promise<KeyRing> {
    const keys = new Map<string, SigningKey>();
    const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    for (const name of names.filter((n) => n.endsWith('.pem')).sort()) {
      const file = join(dir, name);
      const read = await readBounded(file, 64 * 1024);
      if (!('bytes' in read)) continue;
      let privateKey: KeyObject;
      try {
        privateKey = createPrivateKey(Buffer.from(read.bytes));
      } catch (error) {
        throw new Error(`${file}: not a private key: ${(error as Error).message}`, { cause: error });
      }
      const key = tufKey(privateKey);
      keys.set(key.keyID, { id: key.keyID, key, privateKey, file });
    }
    return new KeyRing(dir, keys);
  }

  get(id: string): SigningKey | undefined {
    return this.keys.get(id);
  }

  /** The keys among `ids` that this ring holds. */
  holding(ids: readonly string[]): SigningKey[] {
    return ids.flatMap((id) => this.keys.get(id) ?? []);
  }

  /** Makes a new key for `role`, written as `<role>-<key ID>.pem` (mode 0600, never over another file). */
  async generate(role: string): Promise<SigningKey> {
    const { privateKey } = generateKeyPairSync('ed25519');
    const key = tufKey(privateKey);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${role}-${key.keyID.slice(0, 16)}.pem`);
    const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(privateKey.export({ format: 'pem', type: 'pkcs8' }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    const signing = { id: key.keyID, key, privateKey, file };
    this.keys.set(key.keyID, signing);
    return signing;
  }

  /** Moves a key's file to `retired/`: it signs nothing more, and the maintainer decides when to destroy it. */
  async retire(id: string): Promise<string | undefined> {
    const key = this.keys.get(id);
    if (!key) return undefined;
    const retired = join(this.dir, 'retired');
    await mkdir(retired, { recursive: true, mode: 0o700 });
    const to = join(retired, key.file.slice(this.dir.length + 1));
    await rename(key.file, to);
    this.keys.delete(id);
    return to;
  }
}
