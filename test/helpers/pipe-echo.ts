// A child process that echoes one pipe into another: it adopts the reader it got as
// descriptor 3 and the writer it got as descriptor 4 (both handed off by the parent),
// writes back everything it reads until end of file, and prints the digest of what went
// through ("sha256 <hex> <bytes>").
// Usage: pipe-echo.ts <plain|stream> <seed of the read sizes>
import { PipeReader, PipeWriter } from '../../src/index.ts';
import { chunkSizes, digestLine, echo, parseForm } from './pipe-common.ts';

const [form, seed] = process.argv.slice(2);
const reader = PipeReader.adopt(3);
const writer = PipeWriter.adopt(4);
console.log(digestLine(await echo(reader, writer, parseForm(form), chunkSizes(Number(seed)))));
