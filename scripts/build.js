#!/usr/bin/env node
'use strict';

// Builds the Rust addon from source with cargo and copies it to
// native-ws.node beside package.json. Runs as the package's install script,
// so `npm install` (of the repo or of the published tarball) needs only a
// Rust toolchain and the crates registry.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const profile = process.argv.includes('--debug') ? 'debug' : 'release';

function libraryFileName() {
  switch (process.platform) {
    case 'win32':
      return 'native_ws.dll';
    case 'darwin':
      return 'libnative_ws.dylib';
    default:
      return 'libnative_ws.so';
  }
}

function main() {
  const cargo = process.env.CARGO || 'cargo';
  const args = ['build', '--lib', '--locked'];
  if (profile === 'release') args.push('--release');
  if (!fs.existsSync(path.join(root, 'Cargo.lock'))) args.splice(args.indexOf('--locked'), 1);
  console.log(`native-ws: ${cargo} ${args.join(' ')}`);
  const result = spawnSync(cargo, args, { cwd: root, stdio: 'inherit' });
  if (result.error) {
    console.error(`native-ws: could not run cargo (${result.error.message}). ` +
      'Install a Rust toolchain (https://rustup.rs) and run npm install again.');
    process.exit(1);
  }
  if (result.status !== 0) process.exit(result.status || 1);
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(root, process.env.CARGO_TARGET_DIR)
    : path.join(root, 'target');
  const built = path.join(targetDir, profile, libraryFileName());
  const dest = path.join(root, 'native-ws.node');
  // Copy to a temporary name and rename, so a running process that has the
  // old addon mapped keeps a valid file.
  const tmp = `${dest}.${process.pid}.tmp`;
  fs.copyFileSync(built, tmp);
  fs.renameSync(tmp, dest);
  console.log(`native-ws: built ${path.relative(root, dest)} (${profile})`);
}

main();
