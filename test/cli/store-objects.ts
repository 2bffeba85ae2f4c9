// Objects of the store-backed kinds made by the message store itself, as each kind's facade
// makes them: a header of the kind, a message store as the body. For the tools' tests of
// what the facades cannot make on purpose (a body of another layout, a file outside the
// naming scheme); everything else is tested through the facades.
import { ObjectKindCode, type ObjectHeader } from '../../src/core/object-header.ts';
import { objectFileName } from '../../src/core/names.ts';
import { GrowableFile } from '../../src/core/growable-file.ts';
import { abandonCreate, createShm, initializeObject, unlinkObject } from '../../src/core/shared-file.ts';
import * as L from '../../src/channel/layout.ts';
import { trySend } from '../../src/channel/operations.ts';
import { MessageStore, wakeEveryWaiter } from '../../src/channel/store.ts';
import { planMailbox, type MailboxOptions } from '../../src/mailbox/mailbox-options.ts';

const CODES = { mq: ObjectKindCode.MessageQueue, port: ObjectKindCode.Port } as const;

export interface StoreObject {
  readonly header: ObjectHeader;
  send(bytes: number, type?: number): boolean;
  close(): void;
  /** Removes it as the tools and the facades do (waiters woken); a file already gone is no error. */
  unlink(): void;
}

/** Makes kind/name in the current namespace with a store planned as a Mailbox of `options` plans one. */
export function makeStoreObject(kind: keyof typeof CODES, name: string, options: MailboxOptions<Uint8Array> = {}, version = L.STORE_VERSION): StoreObject {
  const path = `/${objectFileName(kind, name)}`;
  const what = `${kind} ${name}`;
  const plan = planMailbox({ codec: 'bytes', ...options });
  const fd = createShm(path, plan.mode, what);
  const file = new GrowableFile(fd, what);
  let store: MessageStore;
  let header: ObjectHeader;
  try {
    const mapped = initializeObject(fd, CODES[kind], version, plan.bodyBytes, plan.mode, (body) => MessageStore.initialize(body, plan.config), what);
    header = mapped.header;
    store = MessageStore.attach(mapped.body, () => mapped.header.removed, what, file);
  } catch (error) {
    file.close();
    abandonCreate(path, error);
    throw error;
  }
  const slot = header.addUser();
  return {
    header,
    send: (bytes, type = 1) => trySend(store, new Uint8Array(bytes), type),
    close() {
      header.removeUser(slot);
      file.close();
    },
    unlink() {
      try {
        const control = unlinkObject(path, CODES[kind], version, L.CONTROL_BYTES, what);
        if (control !== null) wakeEveryWaiter(control);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
      }
    },
  };
}
