// A package whose native addon was never built (its install script did not run, or was
// refused), run as a user would run it: copies of the sources without build/, once as a
// dependency (under node_modules/) and once as a checkout, each in a process of its own.
// Without a prebuild for this Node.js, loading the library must fail with
// ERR_INTERPROC_ADDON naming both files looked for (build/Release, then the prebuild), the
// prebuilds, this Node.js and the command that builds it; `interproc help` must still work.
// With one, the library works from the prebuild, also when build/Release holds an addon
// for another Node.js ABI.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ADDON_LOAD_FAILED, addonLoadError } from '../../src/native/addon-error.ts';
import { currentTarget, prebuildPath } from '../../src/native/addon-files.ts';
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
/** The prebuild the loader looks for in the copy at `root`: this platform, architecture and ABI. */
const prebuilt = (root: string): string => prebuildPath(root, currentTarget());
/** The checkout's own build, made by npm ci for this Node.js. */
const checkoutAddon = addonPath(CHECKOUT);

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
  assert.ok(error.message.includes(`${addonPath(dependency)} does not exist; ${prebuilt(dependency)} does not exist;`), error.message);
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

test('a prebuild that does not load: both files are named, the prebuild with what Node said', async () => {
  const root = copyWithoutAddon(join(scratch, 'empty-prebuild', 'interproc'));
  mkdirSync(dirname(prebuilt(root)), { recursive: true });
  writeFileSync(prebuilt(root), '');
  const error = await importError(root);
  assert.equal(error.code, ADDON_LOAD_FAILED);
  assert.equal(error.causeCode, 'MODULE_NOT_FOUND', 'the cause is the first file\'s error');
  // dlopen's words for an empty file: "<path>: file too short", with the path once.
  assert.ok(error.message.includes(`${addonPath(root)} does not exist; ${prebuilt(root)}: file too short;`), error.message);
  assert.ok(error.message.includes(`prebuilds: linux-${process.arch}/node.abi${process.versions.modules}.glibc.node;`), error.message);
});

interface Exchange {
  seen: number;
  addons: string[];
}

/**
 * Imports the copy's library in a child and uses it: a shared memory segment written
 * through one mapping and read through another (both made by the addon). The child prints
 * what it read and the .node files mapped into it (/proc/self/maps), as JSON.
 */
async function exchange(root: string): Promise<Exchange> {
  const index = join(root, 'src', 'index.ts');
  const script = [
    `import { readFileSync } from 'node:fs';`,
    `const { SharedMemory } = await import(${JSON.stringify(index)});`,
    `const segment = SharedMemory.create('prebuilt', 4096);`,
    `let seen;`,
    `try {`,
    `  Atomics.store(new Int32Array(segment.buffer), 0, 42);`,
    `  const again = SharedMemory.open('prebuilt');`,
    `  seen = Atomics.load(new Int32Array(again.buffer), 0);`,
    `  again.close();`,
    `} finally { segment.unlink(); segment.close(); }`,
    `const lines = readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((line) => line.endsWith('.node'));`,
    `console.log(JSON.stringify({ seen, addons: [...new Set(lines.map((line) => line.slice(line.indexOf('/'))))] }));`,
  ].join('\n');
  const { code, stdout, stderr } = await runNode(['--input-type=module', '-e', script]);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as Exchange;
}

/** Puts the checkout's own build (for this Node.js) where the copy at `root` looks for its prebuild. */
function addPrebuild(root: string): void {
  mkdirSync(dirname(prebuilt(root)), { recursive: true });
  copyFileSync(checkoutAddon, prebuilt(root));
}

test('without build/, the prebuild for this Node.js is loaded and works', async () => {
  const root = copyWithoutAddon(join(scratch, 'prebuilt-only', 'node_modules', 'interproc'));
  addPrebuild(root);
  const result = await exchange(root);
  assert.equal(result.seen, 42);
  assert.deepEqual(result.addons, [prebuilt(root)]);
});

/**
 * A stand-in for an addon built for another Node.js: it registers itself for
 * NODE_MODULE_VERSION 999, which is what Node checks (and names in its error) when it loads
 * a build of another ABI. Built with the C compiler npm ci used for the addon.
 */
const OTHER_ABI_SOURCE = `
struct node_module {
  int nm_version; unsigned int nm_flags; void *nm_dso_handle; const char *nm_filename;
  void *nm_register_func; void *nm_context_register_func; const char *nm_modname;
  void *nm_priv; struct node_module *nm_link;
};
extern void node_module_register(void *module);
static struct node_module module = { 999, 0, 0, "other-abi.c", 0, 0, "interproc", 0, 0 };
__attribute__((constructor)) static void register_module(void) { node_module_register(&module); }
`;

test('build/Release built for another Node.js ABI: the loader falls through to the prebuild', async (t) => {
  const root = copyWithoutAddon(join(scratch, 'other-abi', 'interproc'));
  const source = join(scratch, 'other-abi.c');
  writeFileSync(source, OTHER_ABI_SOURCE);
  mkdirSync(dirname(addonPath(root)), { recursive: true });
  const compiled = spawnSync('cc', ['-shared', '-fPIC', '-o', addonPath(root), source], { encoding: 'utf8', timeout: TIMEOUT_MS });
  if ((compiled.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    t.skip('no C compiler (cc) to build an addon for another ABI');
    return;
  }
  assert.equal(compiled.status, 0, compiled.stderr);

  // Without a prebuild: the error says why build/Release did not load.
  const error = await importError(root);
  assert.equal(error.causeCode, 'ERR_DLOPEN_FAILED');
  assert.ok(
    error.message.includes(`${addonPath(root)} was built for another Node.js (ABI 999, not ${process.versions.modules}); ${prebuilt(root)} does not exist;`),
    error.message,
  );

  addPrebuild(root);
  const result = await exchange(root);
  assert.equal(result.seen, 42);
  assert.ok(result.addons.includes(prebuilt(root)), JSON.stringify(result.addons));
});
