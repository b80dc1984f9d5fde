import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './fs.js';

/**
 * An own PKI as `openssl ca` builds it: root, intermediate (path length 0), and a code-signing
 * leaf. `openssl ca` writes each certificate as text, then its PEM block.
 */
export function opensslCa() {
  const dir = tempDir('kernelseal-pki-');
  const file = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  writeFileSync(file('index.txt'), '');
  writeFileSync(file('serial'), '1000\n');
  writeFileSync(
    file('ca.cnf'),
    `[ca]\ndefault_ca = own\n[own]\ndatabase = index.txt\nserial = serial\nnew_certs_dir = .\ndefault_md = sha256\npolicy = any\ndefault_days = 7\n[any]\ncommonName = supplied\n` +
      `[intermediate]\nbasicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign\n` +
      `[leaf]\nsubjectAltName = email:release-bot@example.com\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = codeSigning\n`,
  );
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(`${name}.key`));
  key('root');
  ssl('req', '-x509', '-key', 'root.key', '-out', 'root.pem', '-days', '30', '-subj', '/CN=Own Root CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  const issue = (name: string, subject: string, issuer: string, extensions: string) => {
    key(name);
    ssl('req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
    ssl('ca', '-batch', '-config', 'ca.cnf', '-cert', `${issuer}.pem`, '-keyfile', `${issuer}.key`, '-extensions', extensions, '-in', `${name}.csr`, '-out', `${name}.pem`);
  };
  issue('intermediate', '/CN=Own Intermediate CA', 'root', 'intermediate');
  issue('leaf', '/CN=release-bot', 'intermediate', 'leaf');
  // One chain file, issuer first: the intermediate as `openssl ca` wrote it, then the root.
  writeFileSync(file('chain.pem'), readFileSync(file('intermediate.pem'), 'utf8') + readFileSync(file('root.pem'), 'utf8'));
  ssl('pkey', '-in', 'leaf.key', '-pubout', '-text_pub', '-out', 'leaf.pub'); // key, then its text
  return { dir, file };
}

