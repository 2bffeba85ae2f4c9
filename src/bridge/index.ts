// interproc/nats: the NATS JetStream bridge (docs/BRIDGE.md). A subpath of its own, so that
// only code that imports it loads the NATS client packages, optional peer dependencies.
export { Bridge, startBridge } from './bridge.ts';
export type { BridgeOptions } from './bridge-options.ts';
export type { BridgeConnectionOptions, BridgeTlsOptions } from './connection-options.ts';
export type { BridgeEvent, BridgeStatus, ExportStatus, ImportStatus } from './bridge-events.ts';
export type { BackoffOptions } from './backoff.ts';
