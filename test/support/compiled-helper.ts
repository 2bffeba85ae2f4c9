// A helper compiled to plain JavaScript, for tests that start many helper processes: one
// run through tsx costs about 0.3 s of CPU to start, the same code compiled ahead about
// 0.08 s (tsx's loader thread and its transforms are the difference).
//
// compileHelper() transpiles the helper and every TypeScript file it imports (relative
// imports, followed recursively: the library's src/ included, so the processes run the
// checkout's current code) into a fresh directory under the system's temporary directory,
// laid out as in the checkout, with build/ linked to the checkout's (the addon) and a
// package.json that makes the files ES modules. Type checking is tsc's business, not this.
// A helper compiled this way may import node: modules and relative .ts files, nothing else,
// and runs as the test's own user (the directory is private to it).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { HELPERS_DIR, startHelper, type Helper, type HelperOptions } from './helper-process.ts';

const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  rewriteRelativeImportExtensions: true,
  verbatimModuleSyntax: true,
};

export interface CompiledHelper {
  /** The helper's name under test/helpers/, as startHelper() takes it. */
  script: string;
  /** The compiled helper, to run with plain `node`. */
  path: string;
  /** Removes the compiled files. */
  remove(): void;
}

export function compileHelper(script: string): CompiledHelper {
  const directory = mkdtempSync(join(tmpdir(), 'interproc-helper-'));
  try {
    const compiled = new Set<string>();
    const compile = (file: string): void => {
      if (compiled.has(file)) return;
      compiled.add(file);
      const source = readFileSync(file, 'utf8');
      const target = join(directory, relative(CHECKOUT, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, ts.transpileModule(source, { fileName: file, compilerOptions: COMPILER_OPTIONS }).outputText);
      for (const { fileName } of ts.preProcessFile(source, true, false).importedFiles) {
        if (fileName.startsWith('.') && fileName.endsWith('.ts')) compile(resolve(dirname(file), fileName));
      }
    };
    compile(join(HELPERS_DIR, script));
    writeFileSync(join(directory, 'package.json'), '{ "type": "module" }\n');
    symlinkSync(join(CHECKOUT, 'build'), join(directory, 'build'));
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    script,
    path: join(directory, relative(CHECKOUT, join(HELPERS_DIR, script))).replace(/\.ts$/, '.js'),
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

/** As startHelper(), for a compiled helper: no tsx, a quarter of the start-up. */
export function startCompiledHelper(compiled: CompiledHelper, args: string[] = [], options: HelperOptions = {}): Helper {
  return startHelper(compiled.script, args, { ...options, compiled: compiled.path });
}
