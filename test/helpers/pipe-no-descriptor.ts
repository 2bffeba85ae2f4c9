// A child process spawned without any pipe descriptor: it says 'ready' and lives until its
// stdin ends, adopting nothing.
process.stdin.resume();
process.stdin.once('end', () => process.stdin.pause());
console.log('ready');
