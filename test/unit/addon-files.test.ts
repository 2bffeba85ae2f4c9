// Where the loader looks for the addon (src/native/addon-files.ts), and that the install
// step (scripts/install.js, which repeats it in plain JavaScript) looks at the same file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtAddonPath, currentTarget, mapsShowGlibc, prebuildPath, runsOnGlibc, type AddonTarget } from '../../src/native/addon-files.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('addon-files');

interface InstallScript {
  prebuildPath(packageRoot: string, target?: AddonTarget): string;
  runsOnGlibc(): boolean;
  whyNotLoaded(error: unknown): string;
}

const installScript = (await import(new URL('../../scripts/install.js', import.meta.url).href)) as InstallScript;

test('build/Release first; the prebuild is named by platform, architecture and ABI', () => {
  assert.equal(builtAddonPath('/p'), '/p/build/Release/interproc.node');
  assert.equal(prebuildPath('/p', { platform: 'linux', arch: 'x64', abi: '115' }), '/p/prebuilds/linux-x64/node.abi115.glibc.node');
  assert.equal(prebuildPath('/p', { platform: 'linux', arch: 'arm64', abi: '147' }), '/p/prebuilds/linux-arm64/node.abi147.glibc.node');
  assert.deepEqual(currentTarget(), { platform: process.platform, arch: process.arch, abi: process.versions.modules });
});

test('the install step looks for the same prebuild as the loader', () => {
  const targets: AddonTarget[] = [
    currentTarget(),
    { platform: 'linux', arch: 'x64', abi: '127' },
    { platform: 'linux', arch: 'arm64', abi: '137' },
  ];
  for (const target of targets) {
    assert.equal(installScript.prebuildPath('/p', target), prebuildPath('/p', target));
  }
  // Its default is this process's target.
  assert.equal(installScript.prebuildPath('/p'), prebuildPath('/p', currentTarget()));
  assert.equal(installScript.runsOnGlibc(), runsOnGlibc());
});

test('the install step says why a prebuild does not load in one line, naming the ABI of one built for another Node.js', () => {
  // Node's own message for an addon of another ABI (Node 24 loading one built for Node 22).
  const otherAbi = Object.assign(
    new Error(
      "The module '/p/prebuilds/linux-x64/node.abi127.glibc.node'\nwas compiled against a different Node.js version using\n" +
        'NODE_MODULE_VERSION 127. This version of Node.js requires\nNODE_MODULE_VERSION 137. Please try re-compiling or re-installing\n' +
        'the module (for instance, using `npm rebuild` or `npm install`).',
    ),
    { code: 'ERR_DLOPEN_FAILED' },
  );
  assert.equal(installScript.whyNotLoaded(otherAbi), `built for another Node.js (ABI 127, not ${process.versions.modules})`);
  // dlopen's own words are one line already.
  const short = Object.assign(new Error('/p/x.node: file too short'), { code: 'ERR_DLOPEN_FAILED' });
  assert.equal(installScript.whyNotLoaded(short), '/p/x.node: file too short');
  assert.equal(installScript.whyNotLoaded(new Error('first\nsecond')), 'first');
});

test('glibc is told from the mapped C library: libc.so.6 (also replaced since), not musl nor a look-alike name', () => {
  const glibc = [
    '55d0c0a00000-55d0c0a01000 r--p 00000000 fe:00 1      /usr/bin/node',
    '7f3ffed67000-7f3ffed8d000 r--p 00000000 fe:00 339380 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7ffd0e7f2000-7ffd0e813000 rw-p 00000000 00:00 0      [stack]',
  ].join('\n');
  const musl = [
    '55d0c0a00000-55d0c0a01000 r--p 00000000 fe:00 1      /usr/bin/node',
    '7f5e9c6c5000-7f5e9c6d9000 r--p 00000000 fe:00 2      /lib/ld-musl-x86_64.so.1',
  ].join('\n');
  assert.equal(mapsShowGlibc(glibc), true);
  // The C library upgraded while the process runs: the old file is still mapped, deleted.
  assert.equal(mapsShowGlibc(`${glibc.replace('libc.so.6', 'libc.so.6 (deleted)')}`), true);
  assert.equal(mapsShowGlibc(musl), false);
  assert.equal(mapsShowGlibc('7f5e9c6c5000-7f5e9c6d9000 r--p 00000000 fe:00 2 /opt/x/libc.so.6.bak'), false);
  assert.equal(mapsShowGlibc(''), false);
});

test('this process: the same answer as Node\'s own report (glibcVersionRuntime)', () => {
  const report = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
  assert.equal(runsOnGlibc(), typeof report.header.glibcVersionRuntime === 'string');
});
