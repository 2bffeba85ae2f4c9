// Objects of the store-backed kinds made by the message store itself, as each kind's facade
// makes them: a header of the kind, a message store as the body. For the tools' tests of
// what the facades never make (a body of another layout version, a port file outside the
// naming scheme); everything else is tested through MessageQueue and Port.
import { ObjectKindCode, type ObjectHeader } from '../../src/core/object-header.ts';
import { objectFileName } from '../../src/core/names.ts';
import { abandonCreate, closeFd, createShm, initializeObject } from '../../src/core/shared-file.ts';
import * as L from '../../src/channel/layout.ts';
import { StoreHandle } from '../../src/channel/store-handle.ts';
import { MessageStore } from '../../src/channel/store.ts';
import { planMailbox, type MailboxOptions } from '../../src/mailbox/mailbox-options.ts';

const CODES = { mq: ObjectKindCode.MessageQueue, port: ObjectKindCode.Port } as const;

export interface StoreObject {
  /** Leaves it, as a user that closes it does. */
  close(): void;
  /** Removes it as the tools and the facades do; a file already gone is no error. */
  unlink(): void;
}

/**
 * Makes kind/name in the current namespace, with the store a Mailbox of `options` would
 * have, at layout `version`; this process is recorded as its creator and user.
 */
export function makeStoreObject(kind: keyof typeof CODES, name: string, options: MailboxOptions<Uint8Array> = {}, version = L.STORE_VERSION): StoreObject {
  const object = { kind: CODES[kind], path: `/${objectFileName(kind, name)}`, what: `${kind} ${name}` };
  const plan = planMailbox({ codec: 'bytes', ...options });
  const fd = createShm(object.path, plan.mode, object.what);
  let header: ObjectHeader;
  try {
    header = initializeObject(fd, object.kind, version, plan.bodyBytes, plan.mode, (body) => MessageStore.initialize(body, plan.config), object.what).header;
  } catch (error) {
    abandonCreate(object.path, error);
    throw error;
  } finally {
    closeFd(fd);
  }
  const slot = header.addUser();
  return {
    close: () => header.removeUser(slot),
    unlink() {
      try {
        StoreHandle.unlink(object);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
      }
    },
  };
}
