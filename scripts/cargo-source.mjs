// Where cargo gets its crates. This machine kind has no route to crates.io but Debian
// packages the crates we use (`librust-*-dev`, unpacked in /usr/share/cargo/registry), so the
// build points cargo at that directory with `--config` flags on the command line. Nothing in
// the repository (no .cargo/config.toml) changes how a normal crates.io build resolves.
//
// KERNELSEAL_CARGO_SOURCE=debian|crates-io forces a choice; by default Debian's registry is used
// when it holds our crates (installing them with apt-get when we are root and it does not).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

export const DEBIAN_REGISTRY = '/usr/share/cargo/registry';

/** Debian packages providing every crate of Cargo.toml and crates/*\/Cargo.toml. */
export const DEBIAN_PACKAGES = [
  'librust-blake2b-simd-dev',
  'librust-blake3-dev',
  'librust-hex-dev',
  'librust-libc-dev',
  'librust-rayon-dev',
  'librust-sha2-dev',
  'librust-tempfile-dev',
];

/** Crate directories that must be present in the registry (name-version as Debian unpacks them). */
const REQUIRED = ['blake2b_simd-1.0.0', 'blake3-1.3.1', 'hex-0.4.3', 'libc-0.2.139', 'rayon-1.6.1', 'sha2-0.10.5', 'tempfile-3.3.0'];

function missingCrates() {
  if (!existsSync(DEBIAN_REGISTRY)) return REQUIRED;
  const present = new Set(readdirSync(DEBIAN_REGISTRY));
  return REQUIRED.filter((crate) => !present.has(crate));
}

function installDebianPackages() {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return false;
  console.error(`kernelseal setup: installing Rust crates from Debian: ${DEBIAN_PACKAGES.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => execFileSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  try {
    run(['install', '-y', '--no-install-recommends', ...DEBIAN_PACKAGES]);
  } catch {
    run(['update']);
    run(['install', '-y', '--no-install-recommends', ...DEBIAN_PACKAGES]);
  }
  return missingCrates().length === 0;
}

/** Extra cargo arguments selecting the crate source (empty for crates.io). */
export function cargoSourceArgs() {
  const forced = process.env.KERNELSEAL_CARGO_SOURCE;
  if (forced === 'crates-io') return [];
  const useDebian = missingCrates().length === 0 || installDebianPackages();
  if (!useDebian) {
    if (forced === 'debian') {
      throw new Error(`KERNELSEAL_CARGO_SOURCE=debian but ${DEBIAN_REGISTRY} lacks: ${missingCrates().join(', ')}`);
    }
    return [];
  }
  return [
    '--offline',
    '--config', `source.debian-packages.directory="${DEBIAN_REGISTRY}"`,
    '--config', 'source.crates-io.replace-with="debian-packages"',
  ];
}
