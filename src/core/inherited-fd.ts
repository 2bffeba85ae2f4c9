// Whether another process holds a descriptor of the same open file as one of ours: the
// check that a child was spawned with a descriptor before something is promised to it.
//
// /proc/<pid>/fd/<n> links to the file each descriptor refers to, and stat() through the
// link reaches that file itself, so a memfd (which has no name to compare) is recognised
// by its device and inode.
import { fstatSync, readdirSync, statSync } from 'node:fs';

/** Descriptors of another process looked at, at most (a child's stdio and a few more in practice). */
const MAX_DESCRIPTORS = 4096;

/**
 * true: process `pid` has a descriptor on the file `fd` refers to here; false: it has
 * none (or it has no descriptors at all: it is gone, or a zombie); undefined: this
 * process may not look (another user's process) or has too many to look at.
 */
export function processHasFile(pid: number, fd: number): boolean | undefined {
  const ours = fstatSync(fd);
  let entries: string[];
  try {
    entries = readdirSync(`/proc/${pid}/fd`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return false;
    return undefined;
  }
  if (entries.length > MAX_DESCRIPTORS) return undefined;
  for (const entry of entries) {
    let theirs;
    try {
      theirs = statSync(`/proc/${pid}/fd/${entry}`);
    } catch {
      continue; // closed meanwhile, or a descriptor stat cannot follow
    }
    if (theirs.ino === ours.ino && theirs.dev === ours.dev) return true;
  }
  return false;
}
