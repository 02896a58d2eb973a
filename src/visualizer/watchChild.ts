// The process one `--watch` render runs in (see watch.ts): a single ordinary render, so a
// fresh module graph evaluates the machine file and everything it imports.
import { runVisualize } from './command.ts';

process.exitCode = await runVisualize(process.argv.slice(2));
