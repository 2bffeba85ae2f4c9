// Before `npm publish` (package.json "prepublishOnly"): the package must carry every
// prebuilt addon README promises — linux-x64 and linux-arm64 for each supported Node.js
// ABI — each built after the last change to the addon's sources. prebuilds/ is built, not
// committed (`npm run prebuilds -- --arch all`), so a clean clone has none, and a stale
// one would ship an addon its sources no longer make. Exits 1 naming what is missing.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { URL, fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** process.versions.modules of Node.js 20, 22, 24 and 26: the lines package.json's engines names. */
const ABIS = ['115', '127', '137', '147'];
const PLATFORMS = ['linux-x64', 'linux-arm64'];

const sources = ['binding.gyp', ...readdirSync(join(ROOT, 'native')).map((file) => join('native', file))];
const newestSource = Math.max(...sources.map((file) => statSync(join(ROOT, file)).mtimeMs));

const problems = [];
for (const platform of PLATFORMS) {
  for (const abi of ABIS) {
    const file = join('prebuilds', platform, `node.abi${abi}.glibc.node`);
    if (!existsSync(join(ROOT, file))) problems.push(`${file} is missing`);
    else if (statSync(join(ROOT, file)).mtimeMs < newestSource) problems.push(`${file} is older than native/ or binding.gyp`);
  }
}
if (problems.length > 0) {
  console.error(`interproc: not publishing: ${problems.join('; ')}. Build them: npm run prebuilds -- --arch all`);
  process.exitCode = 1;
}
