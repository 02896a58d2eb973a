import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Node's arguments that run a TypeScript file of the repository with tsx's loader in the
 * same process. Never tsx's own command: it sits between the test and the program as a
 * second process, and when it relays a signal it gives the program 30 ms to take it before
 * it SIGKILLs it — a runtime busy for longer (under load) died with 143 instead of
 * stopping gracefully.
 */
export function fromSource(file: string, ...args: string[]): string[] {
  return ['--import', TSX_LOADER, file, ...args];
}

/** `steward <args>` from the sources: `spawn(process.execPath, steward('serve'))`. */
export function steward(...args: string[]): string[] {
  return fromSource(CLI, ...args);
}
