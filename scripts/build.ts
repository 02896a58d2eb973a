// `npm run build` (and `npm pack`, through prepack): the package's JavaScript and types in
// dist/, plus the dashboard's static files, which tsc does not copy.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
rmSync(dist, { recursive: true, force: true });
const tsc = `${root}node_modules/typescript/bin/tsc`;
execFileSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
cpSync(`${root}src/server/dashboard/public`, `${dist}/server/dashboard/public`, {
  recursive: true,
});
console.log(`built ${dist}`);
