// The trusted publisher list's format and decision rule (src/trust/publisher-list.ts,
// docs/publishers.md section 2), on lists and identities built here.
import { describe, expect, it } from 'vitest';
import { DIST } from './helpers/package.js';
import { listOf } from './helpers/tuf-repo.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

const ISSUER = '1.3.6.1.4.1.57264.1.8';
const SOURCE = '1.3.6.1.4.1.57264.1.12';
const REF = '1.3.6.1.4.1.57264.1.14';
const SIGNER = '1.3.6.1.4.1.57264.1.9';
const GITHUB = 'https://token.actions.githubusercontent.com';

/** A certificate identity as a GitHub Actions run of `workflow` in `repository` states it. */
function github(repository: string, workflow = 'build.yaml') {
  return {
    subjectAlternativeName: `https://github.com/${repository}/.github/workflows/${workflow}@refs/heads/main`,
    extensions: new Map([
      [ISSUER, GITHUB],
      [SOURCE, `https://github.com/${repository}`],
      [REF, 'refs/heads/main'],
      [SIGNER, `https://github.com/${repository}/.github/workflows/${workflow}@refs/heads/main`],
    ]),
    undecodable: new Map<string, string>(),
  };
}

const policyOf = (repository: string, workflow?: string) => ({ github: { repository, ...(workflow ? { workflow: `.github/workflows/${workflow}`, ref: 'refs/heads/main' } : {}) } });
const parse = (list: unknown, version = 7) => ks.parsePublisherList(JSON.stringify(list), { source: 'hf://trust-org/list', version });
const invalid = (list: unknown) => {
  try {
    parse(list);
  } catch (error) {
    expect(error).toMatchObject({ name: 'PublisherListError', code: 'LIST_INVALID' });
    return (error as Error).message;
  }
  return expect.fail('the list was accepted');
};
const at = (iso: string) => new Date(iso);
const T = at('2026-07-01T12:00:00Z');

describe('reading a list', () => {
  it('reads every field of an entry', () => {
    const list = parse(
      listOf({
        repos: 'kernels-community/*',
        policy: policyOf('huggingface/kernels-community', 'build.yaml'),
        validFrom: '2026-06-01T00:00:00Z',
        validUntil: '2027-06-01T02:00:00+02:00',
        revoked: { at: '2026-11-02T00:00:00.5Z', reason: 'workflow compromised' },
        note: 'community builds',
      }),
    );
    expect(list).toMatchObject({ source: 'hf://trust-org/list', version: 7 });
    const [entry] = list.entries;
    expect(entry).toMatchObject({ index: 0, repos: 'kernels-community/*', note: 'community builds', revoked: { reason: 'workflow compromised' } });
    expect(entry!.validFrom!.toISOString()).toBe('2026-06-01T00:00:00.000Z');
    expect(entry!.validUntil!.toISOString()).toBe('2027-06-01T00:00:00.000Z');
    expect(entry!.revoked!.at.toISOString()).toBe('2026-11-02T00:00:00.500Z');
    expect(entry!.policy.description).toMatch(/GitHub Actions builds of huggingface\/kernels-community/);
  });

  it('refuses unknown keys anywhere, a repeated key, and another schema', () => {
    const entry = { repos: 'org/*', policy: policyOf('org/x') };
    expect(invalid({ ...listOf(entry), extra: 1 })).toMatch(/\$: unknown key "extra" \(a new meaning comes as a new schema/);
    expect(invalid(listOf({ ...entry, trustedKernelPublisher: true }))).toMatch(/\$\.entries\[0\]: unknown key "trustedKernelPublisher"/);
    expect(invalid(listOf({ ...entry, revoked: { at: '2026-01-01T00:00:00Z', reason: 'x', by: 'me' } }))).toMatch(/revoked: unknown key "by"/);
    expect(invalid({ ...listOf(entry), schema: 'kernelseal/kernel-publishers/v2' })).toMatch(/\$\.schema must be "kernelseal\/kernel-publishers\/v1"/);
    expect(invalid({ entries: [] })).toMatch(/\$\.schema must be/);
    expect(invalid({ schema: 'kernelseal/kernel-publishers/v1', entries: {} })).toMatch(/\$\.entries must be an array/);
    const text = JSON.stringify(listOf(entry)).replace('"repos":"org/*"', '"repos":"org/*","repos":"evil/*"');
    expect(() => ks.parsePublisherList(text, { source: 'x' })).toThrow(/duplicate key "repos"/);
  });

  it('restricts policies to certificate identities: no key, CA, log waiver, builtin or predicate', () => {
    const entry = (policy: unknown) => listOf({ repos: 'org/*', policy });
    expect(invalid(entry({ builtin: 'kernels-community' }))).toMatch(/"builtin" is not allowed here: only certificate identities/);
    expect(invalid(entry({ issuer: GITHUB, predicate: { builderId: 'x' } }))).toMatch(/"predicate" is not allowed here/);
    expect(invalid(entry({ anyOf: [{ builtin: 'kernels-community' }] }))).toMatch(/anyOf\[0\]: "builtin" is not allowed/);
    expect(invalid(entry({ key: 'release.pub' }))).toMatch(/unknown key "key"/);
    expect(invalid(entry({ certificateChain: 'ca.pem', identity: 'x' }))).toMatch(/unknown key "certificateChain"/);
    expect(invalid(entry({ issuer: GITHUB, insecureIgnoreTlog: true }))).toMatch(/unknown key "insecureIgnoreTlog"/);
    expect(invalid(entry({ identity: 'someone@example.com' }))).toMatch(/does not pin the OIDC issuer/);
    expect(invalid({ schema: 'kernelseal/kernel-publishers/v1', entries: [{ repos: 'org/*' }] })).toMatch(/policy is required/);
  });

  it('bounds the list, its entries, each regular expression and each text', () => {
    const entry = { repos: 'org/*', policy: policyOf('org/x') };
    expect(() => ks.parsePublisherList(Buffer.alloc(1024 * 1024 + 1, ' '), { source: 'x' })).toThrow(/1048577 bytes, more than 1048576/);
    const many = Array.from({ length: 4097 }, (_, i) => ({ ...entry, repos: `org${i}/*` }));
    expect(invalid(listOf(...many))).toMatch(/4097 entries, more than 4096/);
    expect(invalid(listOf({ ...entry, policy: { issuer: GITHUB, identity: { regexp: 'a'.repeat(1025) } } }))).toMatch(/regexp is longer than 1024 characters/);
    expect(invalid(listOf({ ...entry, note: 'n'.repeat(1025) }))).toMatch(/note is longer than 1024/);
    const wide = { anyOf: Array.from({ length: 200 }, (_, i) => ({ issuer: GITHUB, identity: `https://github.com/org/x${i}/.github/workflows/build.yaml@refs/heads/main` })) };
    expect(invalid(listOf({ ...entry, policy: wide }))).toMatch(/\$\.entries\[0\] is \d+ characters long, more than 16384/);
    expect(parse(listOf(...Array.from({ length: 4096 }, (_, i) => ({ ...entry, repos: `org${i}/*` })))).entries).toHaveLength(4096);
  });

  it('reads repos as org/name or org/*, ASCII only, each pattern once (case-insensitively)', () => {
    for (const repos of ['org', 'org/name/x', '*/x', 'org/', '/x', 'org/na me', 'ørg/x', '../x', 'org/..', 'org/**', 'org/x*', '*']) {
      expect(invalid(listOf({ repos, policy: policyOf('org/x') }))).toMatch(/repos/);
    }
    expect(invalid(listOf({ repos: 'Org/*', policy: policyOf('org/x') }, { repos: 'org/*', policy: policyOf('org/y') }))).toMatch(/"org\/\*" repeats entry 0/);
    expect(parse(listOf({ repos: 'my.org_1-x/relu.v2', policy: policyOf('org/x') })).entries).toHaveLength(1);
  });

  it('reads times as RFC 3339 only, each field in range, a window in order', () => {
    for (const time of ['2026-02-30T00:00:00Z', '2026-06-01', '2026-06-01T00:00:00', '2026-06-01T24:00:00Z', '2026-06-01 00:00:00Z', '2026-06-01T00:00:00+25:00', 1780000000]) {
      expect(invalid(listOf({ repos: 'org/*', policy: policyOf('org/x'), validFrom: time }))).toMatch(/validFrom/);
    }
    expect(invalid(listOf({ repos: 'org/*', policy: policyOf('org/x'), validFrom: '2026-06-01T00:00:00Z', validUntil: '2026-06-01T00:00:00Z' }))).toMatch(/validFrom must come before validUntil/);
    expect(invalid(listOf({ repos: 'org/*', policy: policyOf('org/x'), revoked: { reason: 'x' } }))).toMatch(/revoked.at is required/);
    expect(invalid(listOf({ repos: 'org/*', policy: policyOf('org/x'), revoked: { at: '2026-06-01T00:00:00Z' } }))).toMatch(/revoked.reason must be a non-empty string/);
  });
});

describe('deciding for a repository', () => {
  const decide = (list: ReturnType<typeof parse>, repoId: string, identity = github('org/builds'), times: Date[] = [T]) => ks.decidePublisher(list, repoId, identity, times);

  it('trusts a signer an org/* entry allows, naming the entry, its note and the list version', () => {
    const list = parse(listOf({ repos: 'org/*', policy: policyOf('org/builds'), note: 'org builds' }));
    expect(decide(list, 'org/relu')).toEqual({
      trusted: true,
      entry: { repos: 'org/*', note: 'org builds', index: 0, list: 'hf://trust-org/list', listVersion: 7 },
      message: 'trusted by the publisher list hf://trust-org/list (version 7), entry "org/*" (org builds)',
    });
  });

  it('compares names as the Hub does: case-insensitively; org/* never covers org-evil/x', () => {
    const list = parse(listOf({ repos: 'Kernels-Community/*', policy: policyOf('org/builds') }, { repos: 'other/ReLU', policy: policyOf('org/builds') }));
    expect(decide(list, 'kernels-community/relu').trusted).toBe(true);
    expect(decide(list, 'KERNELS-COMMUNITY/x').trusted).toBe(true);
    expect(decide(list, 'OTHER/relu').trusted).toBe(true);
    const evil = decide(list, 'kernels-community-evil/relu');
    expect(evil).toMatchObject({ trusted: false, kind: 'no-entry' });
    expect(evil.message).toBe('the publisher list hf://trust-org/list (version 7) has no entry for kernels-community-evil/relu (nor kernels-community-evil/*): it trusts no publisher for it');
    expect(decide(list, 'other/relu2')).toMatchObject({ trusted: false, kind: 'no-entry' });
  });

  it('lets an exact entry decide over org/*, even when it is stricter', () => {
    const list = parse(
      listOf({ repos: 'org/*', policy: policyOf('org/builds'), note: 'any build' }, { repos: 'org/relu', policy: policyOf('org/builds', 'release.yaml'), note: 'releases only' }),
    );
    const stricter = decide(list, 'org/relu', github('org/builds', 'build.yaml'));
    expect(stricter).toMatchObject({ trusted: false, kind: 'not-allowed', mismatches: [{ entry: { repos: 'org/relu', index: 1 }, kind: 'policy' }] });
    expect(stricter.message).toMatch(
      /does not trust this signer for org\/relu: entry "org\/relu" \(releases only\): build signer URI .* is ".*build.yaml@refs\/heads\/main", expected ".*release.yaml@refs\/heads\/main" \(the entries for org\/\* do not decide: an entry names org\/relu\)/,
    );
    expect(decide(list, 'org/relu', github('org/builds', 'release.yaml'))).toMatchObject({ trusted: true, entry: { repos: 'org/relu' } });
    expect(decide(list, 'org/other', github('org/builds', 'build.yaml'))).toMatchObject({ trusted: true, entry: { repos: 'org/*' } });
  });

  it('applies a revocation no broader or narrower entry overrides', () => {
    const revoked = { at: '2026-07-01T00:00:00Z', reason: 'workflow compromised' };
    // An exact entry revoked; the org/* entry would allow the signer.
    const exact = parse(listOf({ repos: 'org/*', policy: policyOf('org/builds') }, { repos: 'org/relu', policy: policyOf('org/builds'), revoked }));
    const refused = decide(exact, 'org/relu');
    expect(refused).toEqual({
      trusted: false,
      kind: 'revoked',
      entry: { repos: 'org/relu', index: 1, list: 'hf://trust-org/list', listVersion: 7 },
      at: '2026-07-01T00:00:00.000Z',
      reason: 'workflow compromised',
      message: 'the publisher list hf://trust-org/list (version 7), entry "org/relu", revoked this signer at 2026-07-01T00:00:00.000Z (workflow compromised); signed at 2026-07-01T12:00:00.000Z',
    });
    // The org/* entry revoked; an exact entry would allow the signer.
    const broad = parse(listOf({ repos: 'org/*', policy: policyOf('org/builds'), revoked }, { repos: 'org/relu', policy: policyOf('org/builds') }));
    expect(decide(broad, 'org/relu')).toMatchObject({ trusted: false, kind: 'revoked', entry: { repos: 'org/*' } });
    // Signed before: allowed; another signer than the revoked one: the revocation does not apply.
    expect(decide(broad, 'org/relu', github('org/builds'), [at('2026-06-30T23:59:59Z')])).toMatchObject({ trusted: true, entry: { repos: 'org/relu' } });
    const other = parse(listOf({ repos: 'org/*', policy: policyOf('org/builds'), revoked }, { repos: 'org/relu', policy: policyOf('org/new-builds') }));
    expect(decide(other, 'org/relu', github('org/new-builds'))).toMatchObject({ trusted: true, entry: { repos: 'org/relu' } });
    // One verified time before and one after (a second log entry made later): revoked.
    expect(decide(broad, 'org/relu', github('org/builds'), [at('2026-06-30T00:00:00Z'), T])).toMatchObject({ kind: 'revoked' });
    // No verified time: nothing shows the signature came before the revocation.
    expect(decide(broad, 'org/relu', github('org/builds'), [])).toMatchObject({ kind: 'revoked', message: expect.stringMatching(/no verified time shows it was signed before/) });
  });

  it('checks every verified time against a window, on either side, and fails a window with no verified time', () => {
    const list = parse(listOf({ repos: 'org/*', policy: policyOf('org/builds'), validFrom: '2026-06-01T00:00:00Z', validUntil: '2026-08-01T00:00:00Z' }));
    expect(decide(list, 'org/relu', github('org/builds'), [T, at('2026-06-01T00:00:00Z')]).trusted).toBe(true);
    const early = decide(list, 'org/relu', github('org/builds'), [at('2026-05-31T23:59:59Z')]);
    expect(early).toMatchObject({ kind: 'not-allowed', mismatches: [{ kind: 'window', detail: "signed at 2026-05-31T23:59:59.000Z, before the entry's window opens (validFrom 2026-06-01T00:00:00.000Z)" }] });
    const late = decide(list, 'org/relu', github('org/builds'), [T, at('2026-08-01T00:00:00Z')]);
    expect(late).toMatchObject({ kind: 'not-allowed', mismatches: [{ kind: 'window', detail: "signed at 2026-08-01T00:00:00.000Z, at or after the entry's window closed (validUntil 2026-08-01T00:00:00.000Z)" }] });
    expect(decide(list, 'org/relu', github('org/builds'), [])).toMatchObject({ kind: 'not-allowed', mismatches: [{ kind: 'no-verified-time' }] });
    // Without a window, no time is needed.
    expect(decide(parse(listOf({ repos: 'org/*', policy: policyOf('org/builds') })), 'org/relu', github('org/builds'), []).trusted).toBe(true);
  });

  it('lets any one deciding entry allow the signer', () => {
    const list = parse(listOf({ repos: 'org/relu', policy: policyOf('org/a') }, { repos: 'ORG/Relu2', policy: policyOf('org/b') }, { repos: 'org/*', policy: policyOf('org/b') }));
    expect(decide(list, 'org/relu', github('org/b'))).toMatchObject({ trusted: false, kind: 'not-allowed' });
    const list2 = parse(listOf({ repos: 'org/*', policy: policyOf('org/a') }, { repos: 'other/*', policy: policyOf('org/b') }));
    expect(decide(list2, 'org/x', github('org/b'))).toMatchObject({ kind: 'not-allowed', mismatches: [{ entry: { repos: 'org/*' }, kind: 'policy' }] });
  });

  it('is asked about a repository name, never a pattern: a caller mistake otherwise', () => {
    const list = parse(listOf({ repos: 'org/*', policy: policyOf('org/builds') }));
    for (const repoId of ['org/*', 'org', 'org/x/y', '']) expect(() => decide(list, repoId)).toThrow(TypeError);
  });
});
