// The public API of interproc: everything users import comes from here.
export { IpcError, AbortError, type IpcErrorCode } from './core/errors.ts';
export { SharedMemory, type SharedMemoryOptions } from './shm/shared-memory.ts';
export { Mutex, type LockOptions, type LockSyncOptions } from './sync/mutex.ts';
export { Semaphore, type SemaphoreWaitOptions } from './sync/semaphore.ts';
export { Condition, type ConditionWaitOptions } from './sync/condition.ts';
export type { LockResult } from './sync/lock-result.ts';
export { Mailbox, type Message, type MailboxOptions, type MailboxStats, type SendOptions, type SendManyOptions, type ReceiveOptions, type TryReceiveOptions, type PeekOptions, type TryPeekOptions, type MessageOrigin, type TrySendOptions } from './mailbox/mailbox.ts';
export type { Codec, CodecName } from './channel/codec.ts';
export {
  MessageQueue,
  type MessageQueueOpenOptions,
  type QueueKey,
  type QueueMessage,
  type QueueReceiveOptions,
  type QueueReceiveManyOptions,
  type QueueSendOptions,
  type QueueSetOptions,
  type QueueStat,
} from './queue/message-queue.ts';
export { Port, type PortOptions, type PortSendOptions, type PortTrySendOptions } from './port/port.ts';
export { listPorts, type PortListing } from './port/port-table.ts';
export { mkfifo } from './fifo/mkfifo.ts';
export { openFifo, type OpenFifoOptions } from './fifo/open-fifo.ts';
export { pipe, type PipeOptions } from './pipe/pipe.ts';
export { PipeReader, type PipeReadOptions, type PipeTryReadOptions } from './pipe/pipe-reader.ts';
export { PipeWriter, type PipeWriteOptions } from './pipe/pipe-writer.ts';
export { PIPE_BUF } from './pipe/pipe-layout.ts';
export type { PipeEndToken } from './pipe/pipe-end.ts';
