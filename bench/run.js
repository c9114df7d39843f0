'use strict';

// npm run bench [-- --quick] [-- --only receive,floor,send,deflate,unmask,e2e,broadcast]
// Prints a table of medians and ratios (native-ws / ws).

const os = require('node:os');
const { receive, receiveFloor, send, deflateEcho, unmask } = require('./inprocess');
const { formatRate, formatBytes } = require('./common');

function parseArgs(argv) {
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : ['receive', 'floor', 'send', 'deflate', 'unmask', 'e2e', 'broadcast'];
  return { only, rounds: argv.includes('--quick') ? 3 : 7, quick: argv.includes('--quick') };
}

function printRows(title, rows, unit) {
  console.log(`\n${title}`);
  console.log('| case | native-ws | ws | ratio |');
  console.log('|---|---:|---:|---:|');
  for (const row of rows) {
    const a = row.results['native-ws'];
    const b = row.results.ws;
    console.log(`| ${row.name} | ${formatRate(a)}${unit} | ${formatRate(b)}${unit} | ${(a / b).toFixed(2)}× |`);
  }
}

/**
 * Prints named rates with each one's ratio to the rate named `base`.
 * @param {string} title
 * @param {[string, string]} columns names of the first two columns
 * @param {Record<string, number>} rates
 * @param {string} base
 * @param {(rate: number) => string} format
 */
function printAgainst(title, columns, rates, base, format) {
  console.log(`\n${title}`);
  console.log(`| ${columns[0]} | ${columns[1]} | vs ${base} |`);
  console.log('|---|---:|---:|');
  for (const [name, rate] of Object.entries(rates)) {
    console.log(`| ${name} | ${format(rate)} | ${(rate / rates[base]).toFixed(2)}× |`);
  }
}

async function main() {
  const { only, rounds, quick } = parseArgs(process.argv.slice(2));
  console.log(`native-ws benchmarks — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
    `${os.cpus().length} × ${os.cpus()[0].model.trim()}, ${rounds} alternated rounds, medians`);
  if (only.includes('receive')) printRows('Receive (messages/s)', await receive(rounds), ' msg/s');
  if (only.includes('floor')) {
    printAgainst('Receive 16 KiB binary: the native parser alone (memory-bound floor)', ['path', 'messages/s'],
      await receiveFloor(rounds), 'ws', (rate) => `${formatRate(rate)} msg/s`);
  }
  if (only.includes('send')) printRows('Send (messages/s)', await send(rounds), ' msg/s');
  if (only.includes('deflate')) printRows('permessage-deflate echo (messages/s)', await deflateEcho(rounds), ' msg/s');
  if (only.includes('unmask')) {
    printAgainst('Unmask 1 MiB in place (bandwidth)', ['operation', 'bandwidth'], await unmask(rounds), 'Buffer.copy', formatBytes);
  }
  if (only.includes('e2e')) {
    const e2e = require('./e2e');
    await e2e.run({ quick });
  }
  if (only.includes('broadcast')) await require('./broadcast').run({ quick });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
