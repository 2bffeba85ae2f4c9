// The NATS client packages for the bridge's rows (@nats-io/transport-node and
// @nats-io/jetstream, devDependencies here and optional peer dependencies of the package:
// docs/DEPENDENCIES.md). The bench runs compiled from a directory under the system's
// temporary directory, where a bare import finds no node_modules: they are resolved from
// the checkout or package the bench was started from, as node-ipc is (node-ipc.ts). Where
// they are missing, the rows are skipped and say why.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { NatsModules } from '../../src/bridge/nats-modules.js';
import { ROOT } from './paths.ts';

let loaded: Promise<NatsModules | { missing: string }> | null = null;

/** Both clients (once per process), or why they cannot be loaded. */
export function loadNatsClients(): Promise<NatsModules | { missing: string }> {
  loaded ??= (async () => {
    const require = createRequire(join(ROOT, 'package.json'));
    let transportEntry: string;
    let jetstreamEntry: string;
    try {
      transportEntry = require.resolve('@nats-io/transport-node');
      jetstreamEntry = require.resolve('@nats-io/jetstream');
    } catch {
      return { missing: 'the NATS client packages are not installed (devDependencies: npm ci in a checkout)' };
    }
    try {
      const [transport, jetstream] = await Promise.all([
        import(pathToFileURL(transportEntry).href) as Promise<NatsModules['transport']>,
        import(pathToFileURL(jetstreamEntry).href) as Promise<NatsModules['jetstream']>,
      ]);
      return { transport, jetstream };
    } catch (error) {
      return { missing: `the NATS client packages could not be loaded: ${error instanceof Error ? error.message : String(error)}` };
    }
  })();
  return loaded;
}
