'use strict';
// Hooks shared by the benchmark servers: on an IPC 'rss' message, collect
// garbage (under --expose-gc) and report process.memoryUsage(); on SIGINT,
// exit cleanly so --cpu-prof can write its profile.
if (process.send) {
  process.on('message', (message) => {
    if (message !== 'rss') return;
    if (global.gc) global.gc();
    setTimeout(() => process.send(process.memoryUsage()), 100);
  });
}
process.on('SIGINT', () => process.exit(0));
