// A process where the NATS client packages cannot be found (as for a user who did not
// install them): a module hook sends every @nats-io/* import to a package that does not
// exist. Imports 'interproc' (which must not need them), then starts a bridge (which
// must fail, naming the install command). Prints "core loaded", then "bridge: <code>
// <message>" and exits.
//   nats-hidden.ts <mailbox>
import { register } from 'node:module';

const hook = `export async function resolve(specifier, context, next) {
  return next(specifier.startsWith('@nats-io/') ? '@interproc-test-absent/' + specifier.slice(9) : specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

const { Mailbox } = await import('../../src/index.ts');
process.stdout.write('core loaded\n');
const [name] = process.argv.slice(2);
using mailbox = Mailbox.create(name!);
try {
  const { startBridge } = await import('../../src/bridge/index.ts');
  await startBridge({ servers: 'nats://127.0.0.1:1', imports: [name!] });
  process.stdout.write('bridge: started\n');
} catch (error) {
  const { code, message } = error as { code?: string; message?: string };
  process.stdout.write(`bridge: ${code} ${message}\n`);
} finally {
  mailbox.unlink();
}
