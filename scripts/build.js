#!/usr/bin/env node
'use strict';

// Builds the Rust addon from source with cargo and copies it to
// native-ws.node beside package.json. Only the cdylib is built (`cargo rustc
// --crate-type cdylib`; the rlib that `cargo test` and the fuzz targets use is
// not needed by Node). `npm run build` runs it in a clone (target dir
// ./target); scripts/install.js calls it when no prebuilt fits, with a target
// dir outside the installed package.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const LOCAL_BUILD = 'native-ws.node';
const HEARTBEAT_MS = 5000;

/**
 * The file cargo writes for the cdylib.
 * @param {string} [platform]
 * @returns {string}
 */
function libraryFileName(platform = process.platform) {
  switch (platform) {
    case 'win32':
      return 'native_ws.dll';
    case 'darwin':
      return 'libnative_ws.dylib';
    default:
      return 'libnative_ws.so';
  }
}

/**
 * Whether a package directory lies inside a node_modules tree (installed as
 * a dependency) rather than being a clone of the repository.
 * @param {string} root
 * @returns {boolean}
 */
function isInstalledPackage(root) {
  return root.split(/[\\/]/).includes('node_modules');
}

/**
 * The per-user cache directory of the OS, or null when there is none.
 * @param {NodeJS.ProcessEnv} env
 * @param {string} platform
 * @param {string} home
 * @returns {string|null}
 */
function userCacheDir(env, platform, home) {
  if (platform === 'win32') return env.LOCALAPPDATA || null;
  if (platform === 'darwin') return home ? path.join(home, 'Library', 'Caches') : null;
  return env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : null);
}

/**
 * Where cargo builds. CARGO_TARGET_DIR wins; a clone uses its own ./target;
 * an installed package builds outside itself, in <user cache>/native-ws/cargo-target
 * (shared by every app of this user, so a second install reuses the compiled
 * crates), or <tmp>/native-ws-cargo-target when there is no usable cache dir.
 * @param {{ env?: NodeJS.ProcessEnv, root?: string, platform?: string, home?: string, tmp?: string, usable?: (dir: string) => boolean }} [context]
 * @returns {string}
 */
function cargoTargetDir(context = {}) {
  const {
    env = process.env,
    root = ROOT,
    platform = process.platform,
    home = os.homedir(),
    tmp = os.tmpdir(),
    usable = isWritableDir,
  } = context;
  if (env.CARGO_TARGET_DIR) return path.resolve(root, env.CARGO_TARGET_DIR);
  if (!isInstalledPackage(root)) return path.join(root, 'target');
  const cache = userCacheDir(env, platform, home);
  if (cache) {
    const dir = path.join(cache, 'native-ws', 'cargo-target');
    if (usable(dir)) return dir;
  }
  return path.join(tmp, 'native-ws-cargo-target');
}

/** Creates the directory if needed and says whether it can be written. */
function isWritableDir(dir) {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lines for the person running `npm install`. npm 11 hides an install
 * script's stdout and stderr unless it fails (or --foreground-scripts is
 * given), so each line also goes to the terminal, /dev/tty, when there is one
 * and stderr is not already it. Everything goes to stderr, never stdout
 * (`npm pack --json` prints its report there).
 * @returns {{ line: (text: string) => void, raw: (chunk: Buffer|string) => void, close: () => void }}
 */
function createReporter() {
  let tty = -1;
  if (!process.stderr.isTTY && process.platform !== 'win32') {
    try {
      tty = fs.openSync('/dev/tty', 'w');
    } catch {
      tty = -1; // no controlling terminal (CI, a test): stderr only
    }
  }
  return {
    line(text) {
      process.stderr.write(`${text}\n`);
      // \r and erase-line first: npm's spinner may be drawn on the current line.
      if (tty >= 0) fs.writeSync(tty, `\r\x1b[K${text}\n`);
    },
    raw(chunk) {
      process.stderr.write(chunk);
    },
    close() {
      if (tty >= 0) fs.closeSync(tty);
      tty = -1;
    },
  };
}

/**
 * Runs cargo and copies the cdylib to <root>/native-ws.node.
 * @param {{ root?: string, profile?: 'release'|'debug', targetDir?: string, env?: NodeJS.ProcessEnv, reporter?: ReturnType<typeof createReporter> }} [options]
 * @returns {Promise<string>} the path of the copied addon
 */
function buildFromSource(options = {}) {
  const root = options.root || ROOT;
  const profile = options.profile || 'release';
  const env = options.env || process.env;
  const targetDir = options.targetDir || cargoTargetDir({ env, root });
  const reporter = options.reporter || createReporter();
  const cargo = env.CARGO || 'cargo';
  const args = ['rustc', '--lib', '--crate-type', 'cdylib'];
  if (fs.existsSync(path.join(root, 'Cargo.lock'))) args.push('--locked');
  if (profile === 'release') args.push('--release');

  reporter.line(`native-ws: building the addon from source: ${cargo} ${args.join(' ')}`);
  reporter.line(`native-ws:   target dir ${targetDir} (a first build takes about a minute)`);
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  let compiled = 0;
  let last = '';
  let startedSelf = false;

  return new Promise((resolve, reject) => {
    const child = spawn(cargo, args, {
      cwd: root,
      env: { ...env, CARGO_TARGET_DIR: targetDir },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let reported = -1;
    const crates = (n) => `${n} crate${n === 1 ? '' : 's'}`;
    const heartbeat = setInterval(() => {
      // Once native-ws itself has started and no crate follows, what is left is
      // its optimisation and link (LTO), the longest single step.
      const doing = !last
        ? 'fetching and resolving crates'
        : startedSelf && compiled === reported
          ? `optimizing and linking the addon, ${crates(compiled)} compiled`
          : `${crates(compiled)} started, latest ${last}`;
      reported = compiled;
      reporter.line(`native-ws:   still building (${seconds()} s, ${doing})`);
    }, HEARTBEAT_MS);
    let pending = '';
    child.stderr.on('data', (chunk) => {
      reporter.raw(chunk);
      pending += chunk.toString('utf8');
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const match = /^\s*Compiling (\S+) v/.exec(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        if (match) {
          compiled++;
          last = match[1];
          if (last === 'native-ws') startedSelf = true;
        }
      }
    });
    let settled = false;
    child.on('error', (err) => {
      // A spawn failure also emits 'close' afterwards; report it once.
      settled = true;
      clearInterval(heartbeat);
      const message = err.code === 'ENOENT'
        ? `native-ws: cargo was not found (${cargo}). Install a Rust toolchain (https://rustup.rs) and run the install again ` +
          '(in an app: `npm rebuild native-ws`).'
        : `native-ws: could not run cargo: ${err.message}`;
      reporter.line(message);
      reject(Object.assign(new Error(message), { code: 'ERR_NATIVE_WS_CARGO' }));
    });
    child.on('close', (code) => {
      clearInterval(heartbeat);
      if (settled) return;
      settled = true;
      if (code !== 0) {
        const message = `native-ws: cargo failed (exit code ${code}) after ${seconds()} s; its output is above.`;
        reporter.line(message);
        reject(Object.assign(new Error(message), { code: 'ERR_NATIVE_WS_CARGO' }));
        return;
      }
      try {
        const built = path.join(targetDir, profile, libraryFileName());
        const dest = path.join(root, LOCAL_BUILD);
        // Copy to a temporary name and rename, so a running process that has
        // the old addon mapped keeps a valid file.
        const tmp = `${dest}.${process.pid}.tmp`;
        fs.copyFileSync(built, tmp);
        fs.renameSync(tmp, dest);
        reporter.line(`native-ws: built ${LOCAL_BUILD} (${profile}) in ${seconds()} s`);
        resolve(dest);
      } catch (err) {
        reject(err);
      }
    });
  });
}

module.exports = { ROOT, LOCAL_BUILD, libraryFileName, isInstalledPackage, userCacheDir, cargoTargetDir, createReporter, buildFromSource };

if (require.main === module) {
  const reporter = createReporter();
  buildFromSource({ profile: process.argv.includes('--debug') ? 'debug' : 'release', reporter }).then(
    () => reporter.close(),
    () => {
      reporter.close();
      process.exitCode = 1;
    }
  );
}
