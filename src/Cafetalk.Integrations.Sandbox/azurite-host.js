// Runs Azurite inside this Node process and exits as soon as the .NET parent closes our stdin, so a test run
// that crashes or is killed never leaves an emulator behind.
'use strict';
const entry = process.env.AZURITE_ENTRY;
if (!entry) {
  console.error('AZURITE_ENTRY is not set: it must point at node_modules/azurite/dist/src/azurite.js');
  process.exit(2);
}
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
// A "stop" line asks for Azurite's own shutdown (servers closed, databases saved to disk), then an exit once all
// three services say they are closed, so an on-disk emulator can be started again with its data.
let input = '';
process.stdin.on('data', (chunk) => {
  input += chunk;
  if (!input.includes('stop\n')) {
    return;
  }

  let closed = 0;
  const log = console.log;
  console.log = (...args) => {
    log(...args);
    if (String(args[0]).includes('successfully closed') && ++closed === 3) {
      process.exit(0);
    }
  };
  setTimeout(() => process.exit(0), 10000);
  process.emit('SIGTERM');
});
process.stdin.resume();
require(entry);
