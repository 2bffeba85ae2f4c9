// The package's install step (scripts/install.js), run as npm runs it, in copies of the
// package: it compiles only when no prebuild fits, and then with npm's node-gyp (or one on
// PATH), ending with its status. node-gyp is a stand-in here that records how it was run
// and exits with a status of its own, so no test compiles anything.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { currentTarget, prebuildPath } from '../../src/native/addon-files.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('install-script');

const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));
const TIMEOUT_MS = 30_000;
const NODE_GYP_STATUS = 7;

const scratch = mkdtempSync(join(tmpdir(), 'interproc-install-script-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** node-gyp's stand-in: writes its arguments and working directory to `record`, exits 7. */
const fakeNodeGyp = join(scratch, 'fake-node-gyp.cjs');
writeFileSync(
  fakeNodeGyp,
  `require('node:fs').writeFileSync(process.env.RECORD, JSON.stringify({ args: process.argv.slice(2), cwd: process.cwd() }));\n` +
    `process.exit(${NODE_GYP_STATUS});\n`,
);
/** The same as a command named node-gyp, in a directory of its own for PATH. */
const binDirectory = join(scratch, 'bin');
mkdirSync(binDirectory);
writeFileSync(join(binDirectory, 'node-gyp'), `#!/bin/sh\nexec "${process.execPath}" "${fakeNodeGyp}" "$@"\n`);
chmodSync(join(binDirectory, 'node-gyp'), 0o755);

let copies = 0;
/** A package with the install script and, if asked, a prebuild for this Node.js: the checkout's own build, or an empty file. */
function packageCopy(prebuild: 'loads' | 'empty' | 'none'): string {
  const root = join(scratch, `package-${++copies}`);
  mkdirSync(join(root, 'scripts'), { recursive: true });
  copyFileSync(join(CHECKOUT, 'scripts', 'install.js'), join(root, 'scripts', 'install.js'));
  copyFileSync(join(CHECKOUT, 'package.json'), join(root, 'package.json'));
  const prebuilt = prebuildPath(root, currentTarget());
  if (prebuild !== 'none') mkdirSync(dirname(prebuilt), { recursive: true });
  if (prebuild === 'loads') copyFileSync(join(CHECKOUT, 'build', 'Release', 'interproc.node'), prebuilt);
  if (prebuild === 'empty') writeFileSync(prebuilt, '');
  return root;
}

interface Install {
  code: number | null;
  stderr: string;
  /** How node-gyp was run, or undefined when it was not. */
  nodeGyp: { args: string[]; cwd: string } | undefined;
}

/** Runs `node scripts/install.js` in `root` as npm does (working directory: the package). */
function install(root: string, env: Record<string, string>): Promise<Install> {
  const record = join(root, 'node-gyp-run.json');
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', RECORD: record };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['scripts/install.js'], { cwd: root, env: { ...base, ...env }, timeout: TIMEOUT_MS }, (error, _stdout, stderr) => {
      const { code, killed } = (error ?? {}) as { code?: unknown; killed?: boolean };
      if (killed === true) return reject(new Error(`install.js did not finish within ${TIMEOUT_MS} ms\n${stderr}`));
      const nodeGyp = existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as Install['nodeGyp']) : undefined;
      resolve({ code: error === null ? 0 : typeof code === 'number' ? code : null, stderr, nodeGyp });
    });
  });
}

test('a prebuild for this Node.js that loads: nothing is compiled', async () => {
  const root = packageCopy('loads');
  const run = await install(root, { npm_config_node_gyp: fakeNodeGyp });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.nodeGyp, undefined);
  assert.ok(run.stderr.includes(`using the prebuilt addon ${prebuildPath(root, currentTarget())}`), run.stderr);
});

test('INTERPROC_BUILD_FROM_SOURCE=1 compiles even with a prebuild that fits, with npm\'s node-gyp, in the package', async () => {
  const root = packageCopy('loads');
  const run = await install(root, { npm_config_node_gyp: fakeNodeGyp, INTERPROC_BUILD_FROM_SOURCE: '1' });
  assert.equal(run.code, NODE_GYP_STATUS, 'node-gyp\'s status');
  assert.deepEqual(run.nodeGyp, { args: ['rebuild'], cwd: root });
});

test('a checkout (src/ beside scripts/) compiles even with a prebuild that fits: its native/ may be newer', async () => {
  const root = packageCopy('loads');
  mkdirSync(join(root, 'src'));
  const run = await install(root, { npm_config_node_gyp: fakeNodeGyp });
  assert.equal(run.code, NODE_GYP_STATUS, run.stderr);
  assert.deepEqual(run.nodeGyp, { args: ['rebuild'], cwd: root });
  assert.ok(run.stderr.includes('a checkout'), run.stderr);
});

test('no prebuilds/: compiles, as the install step always did', async () => {
  const root = packageCopy('none');
  const run = await install(root, { npm_config_node_gyp: fakeNodeGyp });
  assert.equal(run.code, NODE_GYP_STATUS);
  assert.deepEqual(run.nodeGyp, { args: ['rebuild'], cwd: root });
  assert.ok(run.stderr.includes('does not exist'), run.stderr);
});

test('a prebuild that does not load here: compiles, saying why', async () => {
  const root = packageCopy('empty');
  const run = await install(root, { npm_config_node_gyp: fakeNodeGyp });
  assert.equal(run.code, NODE_GYP_STATUS);
  assert.deepEqual(run.nodeGyp, { args: ['rebuild'], cwd: root });
  assert.ok(run.stderr.includes(`${prebuildPath(root, currentTarget())} does not load here`), run.stderr);
});

test('outside npm: node-gyp from PATH; none there fails with a line saying so', async () => {
  const root = packageCopy('none');
  const onPath = await install(root, { PATH: `${binDirectory}:${process.env.PATH ?? ''}` });
  assert.equal(onPath.code, NODE_GYP_STATUS, onPath.stderr);
  assert.deepEqual(onPath.nodeGyp, { args: ['rebuild'], cwd: root });

  const bare = packageCopy('none');
  const missing = await install(bare, { PATH: join(scratch, 'empty-path') });
  assert.equal(missing.code, 1);
  assert.equal(missing.nodeGyp, undefined);
  assert.match(missing.stderr, /could not run node-gyp: .*ENOENT/);
});
