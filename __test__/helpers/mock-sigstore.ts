import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

// @sigstore/mock's Fulcio, Rekor (v1 and v2) and TSA, served over real HTTP on 127.0.0.1 so
// that both the library and the `kernelseal` command (another process) can sign against them
// with no network. The trusted root is assembled from the mocks' own key material.
// Plain erasable TypeScript without test-runner imports: scripts/sign-example.ts runs it with
// Node's type stripping.
const require = createRequire(import.meta.url);
const mock = require('@sigstore/mock') as typeof import('@sigstore/mock');
const v2 = require('@sigstore/protobuf-specs/rekor/v2') as typeof import('@sigstore/protobuf-specs/rekor/v2');
const { HashAlgorithm, TransparencyLogEntry } = require('@sigstore/protobuf-specs') as typeof import('@sigstore/protobuf-specs');

export interface MockSigstore {
  /** Fulcio and Rekor base URL. */
  url: string;
  /** The TSA's timestamp endpoint. */
  tsaURL: string;
  /** A trusted root (JSON) holding the mock CA, logs and TSA. */
  trustedRoot: Record<string, unknown>;
  /** The same, written to a file for --trusted-root. */
  trustedRootPath: string;
  /** Requests served so far, by path. */
  requests: Map<string, number>;
  close(): Promise<void>;
}

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** An (unsigned) OIDC token; the mock Fulcio reads claims without checking a signature. */
export function identityToken(claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = { iat: now, exp: now + 600, aud: 'sigstore', ...claims };
  return `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(payload)}.c2lnbmF0dXJl`;
}

/** Claims like those of a GitHub Actions run of `workflow` in `repository` on `ref`. */
export function githubActionsClaims(repository: string, workflow = 'build.yaml', ref = 'refs/heads/main'): Record<string, unknown> {
  const jobWorkflowRef = `${repository}/.github/workflows/${workflow}@${ref}`;
  return {
    iss: GITHUB_ISSUER,
    sub: `https://github.com/${jobWorkflowRef}`,
    repository,
    ref,
    sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    event_name: 'push',
    job_workflow_ref: jobWorkflowRef,
    workflow_ref: jobWorkflowRef,
    repository_owner: repository.split('/')[0],
    run_id: '42',
    run_attempt: '1',
  };
}

/** The environment of a GitHub-hosted job of `workflow` in `repository`, run for `ref` at `sha` (what provenance is read from). */
export function githubActionsJobEnv(repository: string, workflow: string, ref: string, sha: string): Record<string, string> {
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: repository,
    GITHUB_REPOSITORY_ID: '123456',
    GITHUB_REPOSITORY_OWNER_ID: '7890',
    GITHUB_WORKFLOW_REF: `${repository}/.github/workflows/${workflow}@${ref}`,
    GITHUB_REF: ref,
    GITHUB_SHA: sha,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    RUNNER_ENVIRONMENT: 'github-hosted',
  };
}

type Handler = ReturnType<typeof mock.tsaHandler>;

/**
 * A Rekor v2 `POST /api/v2/log/entries` for hashedrekord 0.0.2. @sigstore/mock's own one logs
 * the request instead of the entry (no kind, no apiVersion) and gives it a random index in a
 * tree of one, which no verifier accepts; this one logs what Rekor v2 logs: the entry body,
 * as the only leaf of the tree, with a checkpoint signed by the log key, integrated time 0.
 */
function rekorV2Handler(url: string, privateKey: KeyObject, publicKeyDer: Buffer): Handler {
  const logID = createHash('sha256').update(publicKeyDer).digest();
  const origin = new URL(url).host;
  return {
    path: '/api/v2/log/entries',
    fn: async (request) => {
      const { spec } = v2.CreateEntryRequest.fromJSON(JSON.parse(request));
      if (spec?.$case !== 'hashedRekordRequestV002') return { statusCode: 400, response: 'only hashedrekord is mocked' };
      const { digest, signature } = spec.hashedRekordRequestV002;
      const entry = v2.Entry.toJSON({
        kind: 'hashedrekord',
        apiVersion: '0.0.2',
        spec: { spec: { $case: 'hashedRekordV002', hashedRekordV002: { data: { algorithm: HashAlgorithm.SHA2_256, digest }, signature } } },
      });
      const body = Buffer.from(JSON.stringify(entry));
      const rootHash = createHash('sha256').update(Buffer.from([0])).update(body).digest();
      const note = `${origin}\n1\n${rootHash.toString('base64')}\n`;
      const noteSignature = Buffer.concat([logID.subarray(0, 4), sign('sha256', Buffer.from(note), privateKey)]);
      const response = TransparencyLogEntry.toJSON({
        logIndex: '0',
        logId: { keyId: logID },
        kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
        integratedTime: '0',
        inclusionPromise: undefined,
        inclusionProof: {
          logIndex: '0',
          rootHash,
          treeSize: '1',
          hashes: [],
          checkpoint: { envelope: `${note}\n\u2014 ${origin} ${noteSignature.toString('base64')}\n` },
        },
        canonicalizedBody: body,
      });
      return { statusCode: 201, response: JSON.stringify(response), contentType: 'application/json' };
    },
  };
}

/**
 * Rekor v1 `POST /api/v1/log/entries`. @sigstore/mock logs the proposed entry as sent; for a
 * `dsse` entry Rekor logs something else (the envelope and payload hashes, the signatures with
 * their verifiers), which is what verifiers compare with the bundle: this handler logs that.
 */
function rekorV1Handler(tlog: Awaited<ReturnType<typeof mock.initializeTLog>>): Handler {
  const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
  return {
    path: '/api/v1/log/entries',
    fn: async (request) => {
      const proposed = JSON.parse(request);
      let entry = proposed;
      if (proposed.kind === 'dsse') {
        const { envelope, verifiers } = proposed.spec.proposedContent as { envelope: string; verifiers: string[] };
        const { payload, signatures } = JSON.parse(envelope) as { payload: string; signatures: Array<{ sig: string }> };
        entry = {
          apiVersion: '0.0.1',
          kind: 'dsse',
          spec: {
            envelopeHash: { algorithm: 'sha256', value: sha256(envelope) },
            payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(payload, 'base64')) },
            signatures: signatures.map(({ sig }, i) => ({ signature: sig, verifier: verifiers[i] ?? verifiers[0] })),
          },
        };
      }
      return { statusCode: 201, response: JSON.stringify(await tlog.log(entry)), contentType: 'application/json' };
    },
  };
}

/** Starts the mock services. */
export async function startMockSigstore(): Promise<MockSigstore> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  // One fixed instant for every service, in whole seconds: the mock TSA writes genTime with
  // the clock's milliseconds, and GeneralizedTime with one or two fractional digits trips
  // sigstore-js's parser now and then; whole seconds never do. The mocks keep a reference to
  // this Date and create their root certificates with the real time, so it is set only once
  // they exist, to the next whole second: never before a root's notBefore.
  const clock = new Date(0);
  const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctlog = await mock.initializeCTLog(keyPair(), clock);
  const ca = await mock.initializeCA(keyPair(), ctlog, clock);
  const tlogKeys = keyPair();
  const tlog = await mock.initializeTLog(url, tlogKeys, clock);
  const tsa = await mock.initializeTSA(keyPair(), clock);
  clock.setTime(Math.ceil((Date.now() + 1) / 1000) * 1000);
  const handlers = [mock.fulcioHandler(ca), rekorV1Handler(tlog), rekorV2Handler(url, tlogKeys.privateKey, tlog.publicKey), mock.tsaHandler(tsa)];

  const requests = new Map<string, number>();
  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const path = (req.url ?? '').split('?')[0]!;
      requests.set(path, (requests.get(path) ?? 0) + 1);
      const handler = handlers.find((h) => h.path === path);
      if (req.method !== 'POST' || !handler) {
        res.writeHead(404).end();
        return;
      }
      const { statusCode, response, contentType } = await handler.fn(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(statusCode, { 'Content-Type': contentType ?? 'text/plain' }).end(response);
    });
  });

  const b64 = (bytes: ArrayBufferView | Buffer) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  const validFor = { start: new Date(clock.getTime() - 24 * 3600 * 1000).toISOString() };
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    certificateAuthorities: [{ uri: url, certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] }, validFor }],
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(tlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
        logId: { keyId: createHash('sha256').update(tlog.publicKey).digest('base64') },
      },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(ctlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
        logId: { keyId: b64(ctlog.logID) },
      },
    ],
    timestampAuthorities: [
      { uri: `${url}/api/v1/timestamp`, certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] }, validFor },
    ],
  };
  const scratch = mkdtempSync(join(tmpdir(), 'kernelseal-mock-'));
  const trustedRootPath = join(scratch, 'trusted_root.json');
  writeFileSync(trustedRootPath, JSON.stringify(trustedRoot));
  return {
    url,
    tsaURL: `${url}/api/v1/timestamp`,
    trustedRoot,
    trustedRootPath,
    requests,
    close: () =>
      new Promise((resolve) => {
        rmSync(scratch, { recursive: true, force: true });
        server.close(() => resolve());
      }),
  };
}
