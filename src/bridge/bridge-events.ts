// What a bridge reports as it runs: to options.onEvent as it happens, and as figures in
// status(). The CLI prints the events on stderr.

export type BridgeEvent =
  /** An attempt to connect to NATS starts. */
  | { kind: 'connecting'; servers: string[] }
  /** NATS could not be reached, or refused the credentials (error.name 'AuthorizationError'): the next attempt is in `delay` ms. The local mailboxes keep working. */
  | { kind: 'retrying'; attempt: number; delay: number; error: Error }
  /** Connected (at start, or again after a loss). */
  | { kind: 'connected'; server: string }
  /** The connection was lost; the client reconnects by itself meanwhile. */
  | { kind: 'disconnected'; server: string }
  /** A mailbox's work failed and is redone after `delay` ms (messages are neither lost nor taken). */
  | { kind: 'error'; mailbox: string; direction: 'export' | 'import'; delay: number; error: Error }
  /** A message from the stream whose headers fail validation: not delivered, terminated in JetStream. */
  | { kind: 'rejected'; mailbox: string; streamSequence: number; reason: string }
  /**
   * An export's publish was acknowledged as a duplicate, but what the stream holds under its
   * id (at `streamSequence`) is another message ('mismatch': a peer published under that id)
   * or nothing any more ('gone'): the message `seq` is published again under a retry id.
   */
  | { kind: 'forged'; mailbox: string; seq: number; streamSequence: number; reason: 'mismatch' | 'gone' };

export interface ExportStatus {
  /** Messages published and acknowledged by JetStream, and removed from the local mailbox. */
  published: number;
  /** Of those, how many JetStream had already (a re-publish after a failure or a restart). */
  duplicates: number;
  /** Duplicate acknowledgements whose stored message was another one or gone: published again under a retry id. */
  forged: number;
  /** Messages waiting in the local mailbox (at the last look). */
  lag: number;
}

export interface ImportStatus {
  /**
   * Messages sent to the local mailbox, counted at the send: their acknowledgement to
   * JetStream may follow (one covers a run of sends), so a crash can deliver them again.
   */
  delivered: number;
  /** Redeliveries of messages this bridge had already delivered, acknowledged and not sent again. */
  redeliveriesSkipped: number;
  /** Messages refused: bad headers, another codec than the mailbox's, or too long for it. */
  rejected: number;
  /** Messages in the stream for this mailbox not yet delivered to it (JetStream's count at the last delivery). */
  lag: number;
}

export interface BridgeStatus {
  connected: boolean;
  /** The server connected to, when connected. */
  server: string | null;
  lastError: { message: string; at: number } | null;
  exports: Record<string, ExportStatus>;
  imports: Record<string, ImportStatus>;
}
