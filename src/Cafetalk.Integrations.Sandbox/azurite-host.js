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
process.stdin.resume();
require(entry);
