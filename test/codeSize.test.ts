// The runtime stays readable in one sitting per file (issue 13): no file in src/runtime/
// over 400 lines, no function over 80. Functions are found with the TypeScript compiler,
// so a method, an arrow in an object literal and a constructor each count on their own.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;
const RUNTIME = join(SRC, 'runtime');
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested
    .flat()
    .filter((f) => f.endsWith('.ts'))
    .sort();
}

/** Lines as `wc -l` counts them: a final newline ends the last line, it starts no new one. */
function lineCount(text: string): number {
  const lines = text.split('\n').length;
  return text.endsWith('\n') ? lines - 1 : lines;
}

interface FunctionSpan {
  name: string;
  /** 1-based line of the function's first token (its doc comment not included). */
  line: number;
  lines: number;
}

type FunctionNode =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration
  | ts.ArrowFunction
  | ts.FunctionExpression;

function isFunctionNode(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

/** `Class.method`, the variable or property an arrow is assigned to, or the call it is passed to. */
function nameOf(node: FunctionNode, file: ts.SourceFile): string {
  const owner = ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : '';
  if (ts.isConstructorDeclaration(node)) return `${owner}constructor`;
  if (ts.isGetAccessorDeclaration(node)) return `get ${owner}${node.name.getText(file)}`;
  if (ts.isSetAccessorDeclaration(node)) return `set ${owner}${node.name.getText(file)}`;
  if (node.name) return `${owner}${node.name.getText(file)}`;
  const parent = node.parent;
  if (
    ts.isVariableDeclaration(parent) ||
    ts.isPropertyAssignment(parent) ||
    ts.isPropertyDeclaration(parent)
  ) {
    const propertyOwner =
      ts.isClassLike(parent.parent) && parent.parent.name ? `${parent.parent.name.text}.` : '';
    return `${propertyOwner}${parent.name.getText(file)}`;
  }
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent)) {
    return `(callback to ${parent.expression.getText(file).slice(0, 40)})`;
  }
  return '(anonymous)';
}

function functionSpans(path: string, text: string): FunctionSpan[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node): void => {
    // An overload or an abstract method has no body, so nothing to read through.
    if (isFunctionNode(node) && node.body) {
      const first = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const last = file.getLineAndCharacterOfPosition(node.getEnd()).line;
      spans.push({ name: nameOf(node, file), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return spans;
}

describe('code size in src/runtime', () => {
  it(`keeps every file to ${MAX_FILE_LINES} lines`, async () => {
    const files = await sourceFiles(RUNTIME);
    expect(files.length).toBeGreaterThan(0);
    const tooLong: string[] = [];
    for (const file of files) {
      const lines = lineCount(await readFile(file, 'utf8'));
      if (lines > MAX_FILE_LINES) tooLong.push(`${relative(SRC, file)} (${lines} lines)`);
    }
    expect(tooLong, `files over ${MAX_FILE_LINES} lines`).toEqual([]);
  });

  it(`keeps every function to ${MAX_FUNCTION_LINES} lines`, async () => {
    const tooLong: string[] = [];
    let measured = 0;
    for (const file of await sourceFiles(RUNTIME)) {
      for (const span of functionSpans(file, await readFile(file, 'utf8'))) {
        measured++;
        if (span.lines > MAX_FUNCTION_LINES) {
          tooLong.push(`${relative(SRC, file)}:${span.line} ${span.name} (${span.lines} lines)`);
        }
      }
    }
    expect(measured).toBeGreaterThan(0);
    expect(tooLong, `functions over ${MAX_FUNCTION_LINES} lines`).toEqual([]);
  });
});
