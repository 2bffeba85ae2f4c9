// The NATS clients, loaded when a bridge starts and never before: they are optional peer
// dependencies (docs/DEPENDENCIES.md), so that `import 'interproc'` stays free of them and
// of any run-time dependency. A missing client is one clear error naming what to install.
import { IpcError } from '../core/errors.ts';

export type TransportModule = typeof import('@nats-io/transport-node');
export type JetStreamModule = typeof import('@nats-io/jetstream');

export interface NatsModules {
  transport: TransportModule;
  jetstream: JetStreamModule;
}

export const NATS_INSTALL_COMMAND = 'npm install @nats-io/transport-node@3 @nats-io/jetstream@3';

let loaded: Promise<NatsModules> | null = null;

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * Imports @nats-io/transport-node and @nats-io/jetstream (once per process). Where either is
 * not installed: IpcError ENOENT whose message is the npm command that installs them.
 */
export function loadNatsModules(): Promise<NatsModules> {
  loaded ??= (async () => {
    try {
      const [transport, jetstream] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
      return { transport, jetstream };
    } catch (error) {
      loaded = null;
      if (!isModuleNotFound(error)) throw error;
      throw new IpcError('ENOENT', `the NATS bridge needs the NATS client packages, which are not installed: ${NATS_INSTALL_COMMAND}`, { cause: error });
    }
  })();
  return loaded;
}
