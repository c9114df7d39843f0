#!/usr/bin/env node
'use strict';

// The package's install script. Installed as a dependency, it uses the
// prebuilt addon shipped for this platform (native-ws.<platform tag>.node,
// see scripts/pack.js) when there is one and it loads; otherwise, or when
// NATIVE_WS_BUILD_FROM_SOURCE=1, or in a clone of the repository, it builds
// the addon from source with cargo (scripts/build.js).

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, LOCAL_BUILD, isInstalledPackage, createReporter, buildFromSource } = require('./build');
const { platformTag, prebuiltFileName } = require('../lib/addon-file');

/**
 * Whether an environment variable asks for a source build.
 * @param {NodeJS.ProcessEnv} env
 * @returns {boolean}
 */
function forcesSourceBuild(env) {
  return /^(1|true|yes|on)$/i.test(String(env.NATIVE_WS_BUILD_FROM_SOURCE || '').trim());
}

/**
 * Loads an addon file in a child process (a broken binary cannot take the
 * install down) and checks that it is native-ws's.
 * @param {string} file
 * @returns {{ loads: boolean, error?: string }}
 */
function probeAddon(file) {
  const check = `const a = require(${JSON.stringify(file)}); if (typeof a.acceptKey !== 'function') throw new Error('not the native-ws addon');`;
  const result = spawnSync(process.execPath, ['-e', check], { encoding: 'utf8', timeout: 30000 });
  if (result.status === 0) return { loads: true };
  const lines = `${result.stderr || ''}${result.error ? result.error.message : ''}`.trim().split('\n');
  const reason = lines.find((l) => /Error/.test(l)) || lines[0] || `exit code ${result.status}`;
  return { loads: false, error: reason.trim() };
}

/**
 * What the install does.
 * @param {{ env: NodeJS.ProcessEnv, installed: boolean, tag: string, prebuilt: null | { file: string, loads: boolean, error?: string } }} facts
 *   installed: the package lies in node_modules; prebuilt: null when the package has none for this platform
 * @returns {{ action: 'prebuilt' | 'source', reason: string }}
 */
function installPlan({ env, installed, tag, prebuilt }) {
  if (forcesSourceBuild(env)) return { action: 'source', reason: 'NATIVE_WS_BUILD_FROM_SOURCE is set' };
  if (!installed) return { action: 'source', reason: 'a clone of native-ws always builds from source' };
  if (!prebuilt) return { action: 'source', reason: `the package has no prebuilt addon for ${tag}` };
  if (!prebuilt.loads) {
    return { action: 'source', reason: `the prebuilt ${path.basename(prebuilt.file)} does not load here (${prebuilt.error})` };
  }
  return { action: 'prebuilt', reason: `using the prebuilt ${path.basename(prebuilt.file)}` };
}

/**
 * The facts installPlan() decides on, read from this machine.
 * @param {string} root
 * @param {NodeJS.ProcessEnv} env
 */
function gatherFacts(root, env) {
  const installed = isInstalledPackage(root);
  const tag = platformTag();
  const file = path.join(root, prebuiltFileName(tag));
  // Probing costs a process start; skip it when the answer cannot matter.
  const prebuilt = forcesSourceBuild(env) || !installed || !fs.existsSync(file) ? null : { file, ...probeAddon(file) };
  return { env, installed, tag, prebuilt };
}

async function main() {
  const reporter = createReporter();
  try {
    const plan = installPlan(gatherFacts(ROOT, process.env));
    if (plan.action === 'prebuilt') {
      // A local build is loaded first (lib/addon-file.js); drop one left by an
      // earlier source build so the prebuilt is what runs.
      fs.rmSync(path.join(ROOT, LOCAL_BUILD), { force: true });
      process.stderr.write(`native-ws: ${plan.reason} (NATIVE_WS_BUILD_FROM_SOURCE=1 builds from source instead)\n`);
      return;
    }
    reporter.line(`native-ws: building from source: ${plan.reason}`);
    await buildFromSource({ root: ROOT, reporter });
  } catch (err) {
    if (err.code !== 'ERR_NATIVE_WS_CARGO') reporter.line(`native-ws: install failed: ${err.message}`);
    process.exitCode = 1;
  } finally {
    reporter.close();
  }
}

module.exports = { forcesSourceBuild, probeAddon, installPlan, gatherFacts };

if (require.main === module) main();
