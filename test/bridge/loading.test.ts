// The NATS clients are optional peer dependencies: `import 'interproc'` works without them,
// and a bridge started without them fails with ENOENT naming the npm command to run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('bridge-loading');

test('without the NATS packages the core loads, and startBridge says what to install', { timeout: 60_000 }, async () => {
  const helper = startHelper('nats-hidden.ts', ['lonely']);
  assert.equal(await helper.nextLine(), 'core loaded');
  assert.equal(await helper.nextLine(), 'bridge: ENOENT ENOENT: the NATS bridge needs the NATS client packages, which are not installed: npm install @nats-io/transport-node@3 @nats-io/jetstream@3');
  await expectSuccess(helper);
});
