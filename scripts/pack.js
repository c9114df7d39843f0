#!/usr/bin/env node
'use strict';

// `prepack`: builds the addon (release) and puts a copy under this
// platform's napi-rs name, native-ws.<platform tag>.node, which package.json
// "files" ships; scripts/install.js and lib/addon-file.js use it on a machine
// of the same platform. `postpack`: removes that copy again. Prebuilts for
// other platforms placed beside package.json before packing are shipped too
// and left alone.

const fs = require('node:fs');
const path = require('node:path');
const { ROOT, LOCAL_BUILD, createReporter, buildFromSource } = require('./build');
const { probeAddon } = require('./install');
const { prebuiltFileName } = require('../lib/addon-file');

async function prepack() {
  const reporter = createReporter();
  try {
    await buildFromSource({ root: ROOT, reporter });
    const prebuilt = path.join(ROOT, prebuiltFileName());
    fs.copyFileSync(path.join(ROOT, LOCAL_BUILD), prebuilt);
    const probe = probeAddon(prebuilt);
    if (!probe.loads) throw new Error(`${path.basename(prebuilt)} does not load: ${probe.error}`);
    reporter.line(`native-ws: packing the prebuilt ${path.basename(prebuilt)}`);
  } finally {
    reporter.close();
  }
}

function postpack() {
  fs.rmSync(path.join(ROOT, prebuiltFileName()), { force: true });
}

if (require.main === module) {
  const step = process.argv[2];
  if (step === 'prepack') {
    prepack().catch((err) => {
      process.stderr.write(`native-ws: prepack failed: ${err.message}\n`);
      process.exitCode = 1;
    });
  } else if (step === 'postpack') {
    postpack();
  } else {
    process.stderr.write('usage: node scripts/pack.js prepack|postpack\n');
    process.exitCode = 2;
  }
}
