// `steward visualize`: argument parsing, one render, or the watch loop. src/cli.ts hands
// it the arguments after the command name.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnyStateMachine } from 'xstate';
import { BUILT_IN_MACHINES } from './builtInMachines.ts';
import { loadMachine, VisualizeInputError } from './loadMachine.ts';
import { FORMATS, type Format, formatOfPath, renderMachine } from './render.ts';
import type { VisualizeIo, VisualizeOptions } from './visualizeOptions.ts';
import { watchAndRender } from './watch.ts';

export type { VisualizeIo, VisualizeOptions } from './visualizeOptions.ts';

const USAGE = `usage: steward visualize <file-or-machine-id> [options]

Renders a supervisor machine as a statechart.

  <file-or-machine-id>   a module file (.ts, .js, .mjs) that exports an XState machine,
                         or the id of a built-in machine: ${Object.keys(BUILT_IN_MACHINES).join(', ')}

options:
  --format FORMAT        mermaid | svg | json | html (default: from the --out file's
                         extension, else mermaid)
  --out FILE             write to FILE instead of standard output
  --export NAME          the export that holds the machine (default: the default export,
                         else the only export that is a machine)
  --watch                render again whenever the file changes, one log line per render
                         on standard error; Ctrl-C stops
  -h, --help             show this help

exit codes: 0 rendered, 2 bad arguments or input, 1 unexpected failure`;

const processIo: VisualizeIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * Runs `steward visualize` with the arguments after the command name and returns the
 * exit code: 0 rendered (or `--watch` stopped), 2 bad arguments or input, 1 unexpected.
 * `known.machines` are the machines an id names (a config file's); the built-ins otherwise.
 *
 * @example
 * process.exitCode = await runVisualize(['reference', '--format', 'svg', '--out', 'ref.svg']);
 */
export async function runVisualize(
  args: string[],
  io: VisualizeIo = processIo,
  known: { machines?: Readonly<Record<string, AnyStateMachine>> } = {},
): Promise<number> {
  try {
    const options = parseOptions(args);
    if (options === 'help') {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    if (options.watch) return await watchAndRender(options, io);
    const cwd = io.cwd ?? process.cwd();
    const machine = await loadMachine(options.input, {
      cwd,
      ...(known.machines ? { machines: known.machines } : {}),
      ...(options.exportName === undefined ? {} : { exportName: options.exportName }),
    });
    const text = await renderMachine(machine, options.format);
    if (options.out === undefined) {
      io.stdout(text);
    } else {
      const path = resolve(cwd, options.out);
      await writeOutput(path, text);
      // Said, so that a file written is never a surprise (and where it went is clear).
      io.stderr(
        `steward visualize: wrote ${path} (${options.format}, ${Buffer.byteLength(text)} bytes)\n`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof VisualizeInputError) {
      io.stderr(`steward visualize: ${error.message}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`steward visualize: unexpected error: ${message}\n`);
    return 1;
  }
}

function parseOptions(args: string[]): VisualizeOptions | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    // parseArgs explains unknown options at length; its first sentence names the problem.
    const [problem] = (error as Error).message.split('. ');
    throw new VisualizeInputError(`${problem} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [input, ...extra] = positionals;
  if (input === undefined)
    throw new VisualizeInputError('missing <file-or-machine-id> (see --help)');
  if (extra.length > 0) throw new VisualizeInputError(`unexpected argument "${extra[0]}"`);
  const format = values.format ?? (values.out ? formatOfPath(values.out) : undefined) ?? 'mermaid';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new VisualizeInputError(`unknown format "${format}": one of ${FORMATS.join(', ')}`);
  }
  return {
    input,
    format: format as Format,
    ...(values.out === undefined ? {} : { out: values.out }),
    ...(values.export === undefined ? {} : { exportName: values.export }),
    watch: values.watch ?? false,
  };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: 'string', short: 'f' },
      out: { type: 'string', short: 'o' },
      export: { type: 'string' },
      watch: { type: 'boolean', short: 'w' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function writeOutput(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (error) {
    throw new VisualizeInputError(`cannot write ${path}: ${(error as Error).message}`);
  }
}
