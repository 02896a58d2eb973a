// `steward visualize --watch`. Each render runs in a child process: importing the file
// again in this process, even with a cache-busting query, does not re-evaluate a module
// Node loads as CommonJS (a .ts file outside a `"type": "module"` package), nor anything
// the file imports. A fresh process sees every edit.
import { type ChildProcess, spawn } from 'node:child_process';
import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isFileArgument, VisualizeInputError } from './loadMachine.ts';
import type { VisualizeIo, VisualizeOptions } from './visualizeOptions.ts';

// watchChild.ts in the sources, watchChild.js in the built package.
const CHILD = fileURLToPath(
  new URL(`./watchChild${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
// Editors save in bursts (truncate, write, rename); one render per burst is enough.
const DEBOUNCE_MS = 100;

/**
 * Renders the file now and after every change to it until `io.signal` aborts or the
 * process gets SIGINT; resolves 0 then. Logs one line per render on `io.stderr`.
 */
export async function watchAndRender(options: VisualizeOptions, io: VisualizeIo): Promise<number> {
  if (!isFileArgument(options.input)) {
    throw new VisualizeInputError('--watch needs a module file: a built-in machine never changes');
  }
  const cwd = io.cwd ?? process.cwd();
  const file = resolve(cwd, options.input);
  if (!(await stat(file).catch(() => undefined))?.isFile()) {
    throw new VisualizeInputError(`no such file: ${file}`);
  }
  const childArgs = [
    file,
    '--format',
    options.format,
    ...(options.exportName === undefined ? [] : ['--export', options.exportName]),
    ...(options.out === undefined ? [] : ['--out', resolve(cwd, options.out)]),
  ];
  const where = options.out ?? 'stdout';

  let renders = 0;
  let running: ChildProcess | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const render = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    const n = ++renders;
    const child = spawn(process.execPath, [...loaderArgs(), CHILD, ...childArgs], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running = child;
    child.stdout?.on('data', (chunk: Buffer) => io.stdout(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => io.stderr(chunk.toString()));
    child.on('close', (code) => {
      running = undefined;
      if (stopped) return;
      const time = new Date().toISOString().slice(11, 19);
      io.stderr(
        code === 0
          ? `steward visualize: [${time}] render ${n}: ${options.input} as ${options.format} to ${where}\n`
          : `steward visualize: [${time}] render ${n} failed (exit ${code}); watching for changes\n`,
      );
      if (again) {
        again = false;
        render();
      }
    });
  };

  const watcher: FSWatcher = watch(dirname(file), (_event, name) => {
    // Watching the folder, not the file: an editor that saves by renaming replaces the
    // file, and a watch on the old one would go quiet.
    if (name !== basename(file)) return;
    clearTimeout(timer);
    timer = setTimeout(render, DEBOUNCE_MS);
  });

  await new Promise<void>((done) => {
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      watcher.close();
      process.off('SIGINT', stop);
      io.signal?.removeEventListener('abort', stop);
      if (running) {
        running.once('close', () => done());
        running.kill();
      } else {
        done();
      }
    };
    io.signal?.addEventListener('abort', stop);
    process.on('SIGINT', stop);
    if (io.signal?.aborted) stop();
    else render();
  });
  return 0;
}

/** Lets the child load TypeScript files: tsx's loader, when it is installed. */
function loaderArgs(): string[] {
  try {
    const loader = createRequire(import.meta.url).resolve('tsx');
    return ['--import', pathToFileURL(loader).href];
  } catch {
    return [];
  }
}
