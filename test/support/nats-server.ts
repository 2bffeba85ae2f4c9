// NATS servers for the bridge's tests (the servers themselves: bench/lib/nats-server.ts,
// which the bench shares).
//
// Where nats-server is not installed the tests skip and say why — unless
// INTERPROC_REQUIRE_NATS=1 (CI sets it), where a missing server fails them: CI cannot skip
// the bridge's tests without anyone noticing.
import { after, before } from 'node:test';
import { natsServerPath, startNatsServer, type NatsServer } from '../../bench/lib/nats-server.ts';

export { plannedNatsServer, startNatsCluster, startNatsServer, type NatsCluster, type NatsServer } from '../../bench/lib/nats-server.ts';

/**
 * For `test(name, { skip: natsSkip() }, ...)`: false when nats-server is available, a reason
 * otherwise. With INTERPROC_REQUIRE_NATS=1 a missing server is an error, not a skip.
 */
export function natsSkip(): string | false {
  if (natsServerPath() !== null) return false;
  if (process.env.INTERPROC_REQUIRE_NATS === '1') {
    throw new Error('nats-server is not installed, and INTERPROC_REQUIRE_NATS=1 requires it (apt-get install nats-server)');
  }
  return 'nats-server is not installed (apt-get install nats-server; INTERPROC_REQUIRE_NATS=1 makes this a failure)';
}

/**
 * One server for this test file: started before its tests, stopped after them; none where
 * the tests are skipped (natsSkip). The returned function gives it to a running test.
 */
export function useNatsServer(): () => NatsServer {
  let server: NatsServer | undefined;
  before(async () => {
    if (natsSkip() === false) server = await startNatsServer();
  });
  after(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error('no NATS server: the test should have been skipped');
    return server;
  };
}
