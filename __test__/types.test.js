'use strict';

// The typings against real code: __test__/types/ws-app.ts is a ws-style
// program that compiles against ws + @types/ws; with only its import changed
// to 'native-ws' it must compile against index.d.ts / index.d.mts too, under
// tsc --strict, both as CommonJS (module commonjs) and as ESM (module
// nodenext), and run against real servers. native-ws-extras.ts covers what
// native-ws adds. Each build lives in a temporary app whose node_modules
// links to this package and to the repo's ws, @types/ws and @types/node.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');
const WS_APP = fs.readFileSync(path.join(__dirname, 'types', 'ws-app.ts'), 'utf8');
const EXTRAS = fs.readFileSync(path.join(__dirname, 'types', 'native-ws-extras.ts'), 'utf8');

const FORMATS = {
  commonjs: { type: 'commonjs', flags: ['--module', 'commonjs', '--moduleResolution', 'node10', '--esModuleInterop'] },
  nodenext: { type: 'module', flags: ['--module', 'nodenext'] },
};

/** Replaces the one import of 'ws' (and its type import) with another module name. */
function withModule(source, name) {
  const changed = source.replace(/ from 'ws';/g, ` from '${name}';`);
  assert.equal(changed.match(new RegExp(` from '${name}';`, 'g')).length, 2, 'ws-app.ts imports ws twice (values, types)');
  return changed;
}

function linkInto(app, relative, target) {
  const link = path.join(app, 'node_modules', relative);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(target, link, 'junction');
}

/** Writes the sources into a fresh app, compiles them with tsc --strict and runs each output. */
function compileAndRun(work, label, format, sources) {
  const app = path.join(work, label);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: label, private: true, type: FORMATS[format].type }));
  linkInto(app, 'native-ws', root);
  linkInto(app, 'ws', path.join(root, 'node_modules', 'ws'));
  linkInto(app, '@types/ws', path.join(root, 'node_modules', '@types', 'ws'));
  linkInto(app, '@types/node', path.join(root, 'node_modules', '@types', 'node'));
  const files = Object.entries(sources).map(([name, text]) => {
    fs.writeFileSync(path.join(app, name), text);
    return name;
  });
  const args = [tsc, '--strict', '--target', 'es2022', '--types', 'node', '--outDir', 'out', ...FORMATS[format].flags, ...files];
  const compiled = spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8' });
  assert.equal(compiled.status, 0, `tsc ${label}:\n${compiled.stdout}${compiled.stderr}`);
  const outputs = [];
  for (const name of files) {
    const script = path.join(app, 'out', name.replace(/\.ts$/, '.js'));
    const run = spawnSync(process.execPath, [script], { cwd: app, encoding: 'utf8', timeout: 30000 });
    assert.equal(run.status, 0, `${label} ${name}:\n${run.stdout}${run.stderr}`);
    outputs.push(run.stdout.trim());
  }
  return outputs;
}

for (const format of Object.keys(FORMATS)) {
  test(`the ws-style app compiles and runs against ws + @types/ws (${format})`, () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'native-ws-types-'));
    try {
      assert.deepEqual(compileAndRun(work, `ws-${format}`, format, { 'app.ts': WS_APP }), ['ws-app ok']);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  test(`the same app with only the import changed compiles (tsc --strict) and runs against native-ws (${format})`, () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'native-ws-types-'));
    try {
      const outputs = compileAndRun(work, `native-ws-${format}`, format, {
        'app.ts': withModule(WS_APP, 'native-ws'),
        'extras.ts': EXTRAS,
      });
      assert.deepEqual(outputs, ['ws-app ok', 'native-ws extras ok']);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
}

test('the typings reject what native-ws does not do', () => {
  // A type test that could not fail would prove nothing: these must be errors.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'native-ws-types-'));
  try {
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    linkInto(app, 'native-ws', root);
    linkInto(app, '@types/node', path.join(root, 'node_modules', '@types', 'node'));
    const cases = {
      'unknown-option.ts': "import { WebSocketServer } from 'native-ws';\nnew WebSocketServer({ noServer: true, skipUTF8Checks: true });\n",
      'bad-send.ts': "import WebSocket from 'native-ws';\ndeclare const ws: WebSocket;\nws.send({ not: 'sendable' });\n",
      'bad-listener.ts': "import WebSocket from 'native-ws';\ndeclare const ws: WebSocket;\nws.on('message', (data) => { const n: number = data; return n; });\n",
      'bad-deflate.ts': "import { WebSocketServer } from 'native-ws';\nnew WebSocketServer({ noServer: true, perMessageDeflate: 'yes' });\n",
    };
    for (const [name, text] of Object.entries(cases)) fs.writeFileSync(path.join(app, name), text);
    const result = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--types', 'node', ...Object.keys(cases)], {
      cwd: app,
      encoding: 'utf8',
    });
    assert.notEqual(result.status, 0);
    for (const name of Object.keys(cases)) assert.match(result.stdout, new RegExp(`^${name.replace('.', '\\.')}\\(\\d+,\\d+\\): error TS`, 'm'), name);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
