// Importing a user's own TypeScript files (a config file, a machine to draw) from the built
// package, which runs as plain JavaScript on Node 20: tsx's loader, registered once.
import { extname } from 'node:path';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

let registered: Promise<void> | undefined;

/** True when `path` names a TypeScript file. */
export function isTypeScriptFile(path: string): boolean {
  return TYPESCRIPT.has(extname(path));
}

/**
 * Makes `import()` of TypeScript files work in this process. A no-op when Steward itself
 * runs from its TypeScript sources: then a loader is already in place. The loader joins
 * Node's own module graph (no separate namespace), so a config file that imports
 * `steward` gets the very modules this process runs, not a second copy.
 */
export function enableTypeScriptImports(): Promise<void> {
  registered ??= import.meta.url.endsWith('.ts')
    ? Promise.resolve()
    : import('tsx/esm/api').then(({ register }) => {
        register();
      });
  return registered;
}
