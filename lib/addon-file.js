'use strict';

// Which addon file this process loads: the local build (native-ws.node, made
// by cargo on install or by `npm run build`), else the prebuilt shipped in the
// package for this platform, named as napi-rs names them:
// native-ws.<platform>-<arch>[-<abi>].node (e.g. native-ws.linux-x64-gnu.node).

const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const LOCAL_BUILD = 'native-ws.node';

/**
 * Whether this Linux process runs on musl rather than glibc.
 * @returns {boolean}
 */
function isMusl() {
  const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null;
  return !(report && report.header && report.header.glibcVersionRuntime);
}

/**
 * napi-rs's platform tag, e.g. 'linux-x64-gnu', 'darwin-arm64', 'win32-x64-msvc'.
 * @param {string} [platform] defaults to process.platform
 * @param {string} [arch] defaults to process.arch
 * @param {'gnu'|'musl'} [libc] Linux only; detected when omitted
 * @returns {string}
 */
function platformTag(platform = process.platform, arch = process.arch, libc) {
  switch (platform) {
    case 'linux': {
      const musl = libc === undefined ? isMusl() : libc === 'musl';
      if (arch === 'arm') return musl ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf';
      return `linux-${arch}-${musl ? 'musl' : 'gnu'}`;
    }
    case 'win32':
      return `win32-${arch}-msvc`;
    case 'android':
      return arch === 'arm' ? 'android-arm-eabi' : `android-${arch}`;
    default:
      return `${platform}-${arch}`;
  }
}

/**
 * The prebuilt addon's file name for a platform tag.
 * @param {string} [tag] defaults to this process's platformTag()
 * @returns {string}
 */
function prebuiltFileName(tag = platformTag()) {
  return `native-ws.${tag}.node`;
}

/**
 * The files to try, in order: the local build first (a source build always
 * wins), then this platform's prebuilt (its name, which may need a process
 * report to tell glibc from musl, is worked out only when it is reached).
 * @param {string} [root] the package directory
 * @returns {Generator<string>}
 */
function* addonFiles(root = ROOT) {
  yield path.join(root, LOCAL_BUILD);
  yield path.join(root, prebuiltFileName());
}

module.exports = { ROOT, LOCAL_BUILD, platformTag, prebuiltFileName, addonFiles };
