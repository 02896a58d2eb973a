// What one `steward visualize` run is asked to do and where it writes: shared by the
// single render (command.ts) and the watch loop (watch.ts), so neither imports the other.
import type { Format } from './render.ts';

/** Where `runVisualize` writes, and how a test stops `--watch`. */
export interface VisualizeIo {
  /** Receives output text exactly as it is to be written (newlines included). */
  stdout: (text: string) => void;
  /** Receives messages and, with `--watch`, one line per render. */
  stderr: (text: string) => void;
  /** Ends `--watch` when aborted, as SIGINT does. */
  signal?: AbortSignal;
  /** Where relative paths start; the process's working directory by default. */
  cwd?: string;
}

/** What `steward visualize` was asked to do, once the arguments are checked. */
export interface VisualizeOptions {
  input: string;
  format: Format;
  out?: string;
  exportName?: string;
  watch: boolean;
}
