// The file name of this platform's addon, napi-rs style: kernelseal.linux-x64-gnu.node.
export function addonFileName() {
  const { platform, arch } = process;
  let triple = `${platform}-${arch}`;
  if (platform === 'linux') {
    const glibc = process.report?.getReport()?.header?.glibcVersionRuntime;
    triple += glibc ? '-gnu' : '-musl';
  }
  return `kernelseal.${triple}.node`;
}
