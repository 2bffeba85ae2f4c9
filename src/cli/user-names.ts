// User names for uids, as ipcs shows owners: from /etc/passwd, read once; a uid it does not
// name (or a system without the file) is shown as its number.
import { readFileSync } from 'node:fs';

let names: Map<number, string> | null = null;

function passwdNames(): Map<number, string> {
  const found = new Map<number, string>();
  let text: string;
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return found;
  }
  // name:password:uid:gid:...; the first line naming a uid wins, as getpwuid(3) finds it.
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name === undefined || name === '' || uid === undefined || !/^\d+$/.test(uid)) continue;
    if (!found.has(Number(uid))) found.set(Number(uid), name);
  }
  return found;
}

/** The user name of `uid`, else the uid as a number. */
export function userName(uid: number): string {
  names ??= passwdNames();
  return names.get(uid) ?? String(uid);
}
