// The child of the lecture's pipe example: it adopts the reader its parent handed it as
// descriptor 3, reads once (up to 80 bytes, as the lecture's read(fd[0], buf, 80)) and
// prints what it read.
import { PipeReader } from '../../src/index.ts';

const reader = PipeReader.adopt(3);
const buf = await reader.readBytes(80);
reader.close();
console.log(buf === null ? '(end of file)' : Buffer.from(buf).toString('utf8'));
