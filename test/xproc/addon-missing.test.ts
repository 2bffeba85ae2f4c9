// A package whose native addon was never built (its install script did not run, or was
// refused), run as a user would run it: copies of the sources without build/, once as a
// dependency (under node_modules/) and once as a checkout, each in a process of its own.
// Loading the library must fail with ERR_INTERPROC_ADDON naming the file looked for, the
// prebuilds, this Node.js and the command that builds it; `interproc help` must still work.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ADDON_LOAD_FAILED, addonLoadError } from '../../src/native/addon-error.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('addon-missing');

const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));
const TIMEOUT_MS = 30_000;

const scratch = mkdtempSync(join(tmpdir(), 'interproc-addon-missing-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the package's sources, without build/ (and so without the addon), at `root`. */
function copyWithoutAddon(root: string): string {
  mkdirSync(root, { recursive: true });
  cpSync(join(CHECKOUT, 'src'), join(root, 'src'), { recursive: true });
  cpSync(join(CHECKOUT, 'package.json'), join(root, 'package.json'));
  return root;
}

const dependency = copyWithoutAddon(join(scratch, 'app', 'node_modules', 'interproc'));
const checkout = copyWithoutAddon(join(scratch, 'interproc'));
const addonPath = (root: string): string => join(root, 'build', 'Release', 'interproc.node');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs Node with tsx (found from the checkout, the working directory) and a hard timeout. */
function runNode(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', ...args], { cwd: CHECKOUT, timeout: TIMEOUT_MS }, (error, stdout, stderr) => {
      const { code, killed } = (error ?? {}) as { code?: unknown; killed?: boolean };
      if (killed === true) reject(new Error(`node ${args.join(' ')} did not finish within ${TIMEOUT_MS} ms\n${stderr}`));
      else resolve({ code: error === null ? 0 : typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** Imports the copy's library in a child; it prints what the import threw, as JSON. */
async function importError(root: string): Promise<{ code: string; message: string; causeCode: string }> {
  const index = join(root, 'src', 'index.ts');
  const script =
    `try { await import(${JSON.stringify(index)}); console.log('null'); } catch (e) {` +
    ` console.log(JSON.stringify({ code: e.code, message: e.message, causeCode: e.cause?.code })); }`;
  const { code, stdout, stderr } = await runNode(['--input-type=module', '-e', script]);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as { code: string; message: string; causeCode: string };
}

test('a dependency without its addon: the file looked for, no prebuilds, this Node, npm rebuild interproc', async () => {
  const error = await importError(dependency);
  assert.equal(error.code, ADDON_LOAD_FAILED);
  assert.equal(error.causeCode, 'MODULE_NOT_FOUND');
  assert.ok(error.message.includes(`${addonPath(dependency)} does not exist`), error.message);
  assert.ok(error.message.includes('prebuilds: none (no prebuilds/ directory)'), error.message);
  assert.ok(error.message.includes(`Node.js ${process.version} (ABI ${process.versions.modules}, linux-${process.arch})`), error.message);
  assert.ok(error.message.includes('build it: npm rebuild interproc'), error.message);
  assert.doesNotMatch(error.message, /\n/, 'one line, as the command line reports a failure');
});

test('a checkout without its addon: the command is npm run build, in the checkout; prebuilds are listed', async () => {
  mkdirSync(join(checkout, 'prebuilds', 'linux-x64'), { recursive: true });
  writeFileSync(join(checkout, 'prebuilds', 'linux-x64', 'node.abi999.node'), '');
  try {
    const error = await importError(checkout);
    assert.equal(error.code, ADDON_LOAD_FAILED);
    assert.ok(error.message.includes(`${addonPath(checkout)} does not exist`), error.message);
    assert.ok(error.message.includes('prebuilds: linux-x64/node.abi999.node;'), error.message);
    assert.ok(error.message.includes(`build it: npm run build (in ${checkout})`), error.message);
    assert.ok(!error.message.includes('npm rebuild'), error.message);
  } finally {
    rmSync(join(checkout, 'prebuilds'), { recursive: true, force: true });
  }
});

test('interproc help works without the addon; a command that needs it fails in one line saying how to build it', async () => {
  const main = join(dependency, 'src', 'cli', 'main.ts');
  const help = await runNode([main, 'help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: interproc/);

  const ls = await runNode([main, 'ls']);
  assert.equal(ls.code, 1, ls.stderr);
  assert.equal(ls.stderr.trim().split('\n').length, 1, ls.stderr);
  assert.ok(ls.stderr.startsWith(`interproc ls: interproc's native addon could not be loaded: ${addonPath(dependency)} does not exist;`), ls.stderr);
  assert.ok(ls.stderr.includes('npm rebuild interproc'), ls.stderr);
});

test('an addon built for another Node.js: both ABIs are named', () => {
  // Node's own message for it (ERR_DLOPEN_FAILED); a real one needs another Node's build.
  const cause = Object.assign(
    new Error(
      "The module '/x/build/Release/interproc.node'\nwas compiled against a different Node.js version using\n" +
        'NODE_MODULE_VERSION 147. This version of Node.js requires\nNODE_MODULE_VERSION 115. Please try re-compiling or re-installing\n' +
        'the module (for instance, using `npm rebuild` or `npm install`).',
    ),
    { code: 'ERR_DLOPEN_FAILED' },
  );
  const error = addonLoadError(cause, '/x/build/Release/interproc.node', '/x');
  assert.equal(error.code, ADDON_LOAD_FAILED);
  assert.equal(error.cause, cause);
  assert.ok(
    error.message.includes(`/x/build/Release/interproc.node was built for another Node.js (ABI 147, not ${process.versions.modules})`),
    error.message,
  );
  assert.ok(error.message.includes('build it: npm run build (in /x)'), error.message);
});
