/**
 * Executable documentation: finds the fenced code blocks of the docs pages
 * and the README, pairs each runnable TypeScript block with the ```text output
 * block that shows what it prints, and runs a block as its own program
 * (`node --import tsx`, as a user who pastes it into a file would).
 *
 * Conventions (checked by `test/docs/snippets.docs-test.ts`):
 * - ```ts / ```typescript blocks run; ```ts illustrative blocks are shown only.
 * - A ```text output block right after a runnable block (blank lines allowed
 *   in between) is what that block prints on stdout; the test compares them.
 *   `npx tsx scripts/run-doc-snippets.ts --update <page.md>` rewrites it.
 * - ```ts continued continues the runnable block before it on the page: the
 *   blocks of such a chain run as one program (a guide that builds something
 *   step by step), each block's output still compared with its own
 *   ```text output block. A continued block must not re-import names.
 * - Any other word in a TypeScript info string is an error (a typo of
 *   `illustrative` must not silently skip a block).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in `scripts/`). */
export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Where extracted snippets are written: a `*.tmp.ts` name keeps them out of git. */
export const snippetDir = join(repoRoot, '.doc-snippets');

const TS_LANGUAGES = new Set(['ts', 'typescript']);
const TS_MARKERS = new Set(['illustrative', 'continued']);

/** One fenced code block of a markdown file. */
export interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** 1-based line of the closing fence (or the last line if unclosed). */
  endLine: number;
  /** First word of the info string, lower-cased (`ts`, `text`, `sh`, …). */
  lang: string;
  /** The other words of the info string. */
  markers: string[];
  /** The block's content (without fences), ending in a newline unless empty. */
  code: string;
  /** Whether the block's closing fence was found. */
  closed: boolean;
  /** Whether only blank lines separate this block from the previous one. */
  adjacentToPrevious: boolean;
}

/** A TypeScript block of a page, with its expected output when shown. */
export interface DocSnippet {
  /** Page path relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The TypeScript source. */
  code: string;
  /** Marked ```ts illustrative: shown, not run. */
  illustrative: boolean;
  /** Marked ```ts continued: runs after the runnable block before it, as one program. */
  continues: boolean;
  /** The ```text output block after it, if any. */
  output?: {
    /** Its content. */
    text: string;
    /** 1-based line of its opening fence. */
    line: number;
    /** 1-based line of its closing fence. */
    endLine: number;
  };
}

/** A convention broken by a page. */
export interface SnippetProblem {
  /** Page path relative to the repository root. */
  file: string;
  /** 1-based line. */
  line: number;
  /** What is wrong. */
  message: string;
}

/**
 * Splits markdown into its fenced code blocks (``` or ~~~, up to three spaces
 * of indentation, CommonMark's closing rule: same character, at least as long).
 * @param markdown - the page's text
 */
export function parseCodeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let lastEnd = 0;
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence, infoRaw] = open as unknown as [string, string, string, string];
    if (fence[0] === '`' && infoRaw.includes('`')) continue; // not a fence (CommonMark)
    const words = infoRaw.trim().split(/\s+/).filter((w) => w.length > 0);
    const body: string[] = [];
    let j = i + 1;
    let closed = false;
    for (; j < lines.length; j++) {
      const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`).exec(lines[j]!);
      if (close !== null) {
        closed = true;
        break;
      }
      // Content lines lose up to the opening fence's indentation.
      body.push(lines[j]!.replace(new RegExp(`^ {0,${indent.length}}`), ''));
    }
    const between = lines.slice(lastEnd, i);
    blocks.push({
      line: i + 1,
      endLine: Math.min(j, lines.length - 1) + 1,
      lang: (words[0] ?? '').toLowerCase(),
      markers: words.slice(1),
      code: body.length > 0 ? `${body.join('\n')}\n` : '',
      closed,
      adjacentToPrevious: blocks.length > 0 && between.every((l) => l.trim() === ''),
    });
    lastEnd = j + 1;
    i = j;
  }
  return blocks;
}

/**
 * The TypeScript snippets of one page and the conventions it breaks.
 * @param file - page path relative to the repository root (for messages)
 * @param markdown - the page's text
 */
export function snippetsOf(file: string, markdown: string): { snippets: DocSnippet[]; problems: SnippetProblem[] } {
  const blocks = parseCodeBlocks(markdown);
  const snippets: DocSnippet[] = [];
  const problems: SnippetProblem[] = [];
  blocks.forEach((block, index) => {
    if (!block.closed) problems.push({ file, line: block.line, message: 'code block is never closed' });
    if (TS_LANGUAGES.has(block.lang)) {
      const unknown = block.markers.filter((m) => !TS_MARKERS.has(m));
      if (unknown.length > 0) {
        problems.push({ file, line: block.line, message: `unknown word(s) ${unknown.map((w) => `"${w}"`).join(', ')} after \`\`\`${block.lang} (allowed: illustrative, continued)` });
      }
      const illustrative = block.markers.includes('illustrative');
      const continues = block.markers.includes('continued');
      if (continues && (illustrative || !snippets.some((s) => !s.illustrative))) {
        problems.push({ file, line: block.line, message: '```ts continued must follow a runnable ```ts block on the same page' });
      }
      snippets.push({ file, line: block.line, code: block.code, illustrative, continues });
      return;
    }
    if (block.lang === 'text' && block.markers.includes('output')) {
      const previous = blocks[index - 1];
      const owner = snippets[snippets.length - 1];
      if (previous === undefined || !TS_LANGUAGES.has(previous.lang) || !block.adjacentToPrevious || owner === undefined || owner.line !== previous.line) {
        problems.push({ file, line: block.line, message: '```text output must directly follow the ```ts block whose output it shows' });
      } else if (owner.illustrative) {
        problems.push({ file, line: block.line, message: '```text output follows an illustrative block: outputs must come from code that runs' });
      } else {
        owner.output = { text: block.code, line: block.line, endLine: block.endLine };
      }
    }
  });
  return { snippets, problems };
}

/** The pages whose TypeScript blocks are run: `docs/**\/*.md` and `README.md`, sorted. */
export function docPages(root = repoRoot): string[] {
  const pages: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) pages.push(relative(root, path));
    }
  };
  walk(join(root, 'docs'));
  return ['README.md', ...pages.sort()];
}

/**
 * Every snippet of every page, and every broken convention.
 * @param root - the repository root
 */
export function collectSnippets(root = repoRoot): { snippets: DocSnippet[]; problems: SnippetProblem[] } {
  const snippets: DocSnippet[] = [];
  const problems: SnippetProblem[] = [];
  for (const page of docPages(root)) {
    const found = snippetsOf(page, readFileSync(join(root, page), 'utf8'));
    snippets.push(...found.snippets);
    problems.push(...found.problems);
  }
  return { snippets, problems };
}

/** Output as compared: no colour codes, no trailing spaces, no leading/trailing blank lines. */
export function normaliseOutput(text: string): string {
  return text
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/^\n+|\n+$/g, '');
}

/** Runnable snippets that run as one program: a block and the ```ts continued blocks after it. */
export interface SnippetProgram {
  /** Page path relative to the repository root. */
  file: string;
  /** 1-based line of the first block's opening fence. */
  line: number;
  /** The blocks, in page order. */
  blocks: DocSnippet[];
}

/**
 * Groups runnable snippets into programs (illustrative ones are left out).
 * @param snippets - snippets in page order
 */
export function programsOf(snippets: readonly DocSnippet[]): SnippetProgram[] {
  const programs: SnippetProgram[] = [];
  for (const snippet of snippets) {
    if (snippet.illustrative) continue;
    const last = programs[programs.length - 1];
    if (snippet.continues && last !== undefined && last.file === snippet.file) last.blocks.push(snippet);
    else programs.push({ file: snippet.file, line: snippet.line, blocks: [snippet] });
  }
  return programs;
}

/** Printed between the blocks of a program, to split its stdout per block. */
const BLOCK_SEPARATOR = '@@segrefine-doc-block@@';

function writeIfChanged(path: string, source: string): string {
  mkdirSync(snippetDir, { recursive: true });
  // Rewrite only on change: a typecheck may be reading the file meanwhile.
  if (!existsSync(path) || readFileSync(path, 'utf8') !== source) writeFileSync(path, source);
  return path;
}

/**
 * Writes a program to `.doc-snippets/<page>-L<line>.tmp.ts` (inside the
 * repository, so 'segrefine' resolves through tsconfig paths; the `*.tmp.ts`
 * name keeps it out of git) and returns the path. The first block starts at
 * line 1, so its line n is line `program.line + n` of the page.
 * @param program - the program
 */
export function writeProgramFile(program: SnippetProgram): string {
  const slug = program.file.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-');
  const parts = program.blocks.map((b, i) => (i === 0 ? b.code : `process.stdout.write('\\n${BLOCK_SEPARATOR}\\n');\n// ${b.file}:${b.line}\n${b.code}`));
  // `export {}` makes a snippet without imports a module (top-level await, own scope).
  return writeIfChanged(join(snippetDir, `${slug}-L${program.line}.tmp.ts`), `${parts.join('')}export {};\n`);
}

/**
 * Writes one block alone as a module (e.g. a guide's block that defines and
 * exports a class, for a test to import) and returns the path.
 * @param snippet - the block
 */
export function writeSnippetFile(snippet: DocSnippet): string {
  const slug = snippet.file.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-');
  return writeIfChanged(join(snippetDir, `${slug}-L${snippet.line}-only.tmp.ts`), `${snippet.code}export {};\n`);
}

/** What running a program produced. */
export interface SnippetRun {
  /** Exit code (null when killed). */
  code: number | null;
  /** Everything printed on stdout. */
  stdout: string;
  /** What each block printed on stdout (split at the block boundaries). */
  outputs: string[];
  /** Everything printed on stderr. */
  stderr: string;
  /** Wall time, s. */
  seconds: number;
}

/**
 * Runs a program as its own Node process with tsx. The backend is wasm unless
 * `SEGREFINE_BACKEND` says otherwise, so printed numbers do not depend on
 * which optional backends happen to be installed.
 * @param program - the program
 * @param timeoutMs - kill it after this long
 */
export function runProgram(program: SnippetProgram, timeoutMs = 300_000): Promise<SnippetRun> {
  const path = writeProgramFile(program);
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path], {
      cwd: repoRoot,
      env: { ...process.env, SEGREFINE_BACKEND: process.env['SEGREFINE_BACKEND'] ?? 'wasm', FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const outputs = stdout.split(`\n${BLOCK_SEPARATOR}\n`);
      resolvePromise({ code, stdout, outputs, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/**
 * Replaces the ```text output blocks of a page by what its snippets print now.
 * @param markdown - the page's text
 * @param outputs - per output-block opening line, the new content
 */
export function replaceOutputs(markdown: string, outputs: Map<number, string>): string {
  const lines = markdown.split('\n');
  const blocks = parseCodeBlocks(markdown).filter((b) => outputs.has(b.line));
  // Bottom-up, so earlier line numbers stay valid.
  for (const block of blocks.reverse()) {
    const text = normaliseOutput(outputs.get(block.line)!);
    lines.splice(block.line, block.endLine - block.line - 1, ...(text === '' ? [] : text.split('\n')));
  }
  return lines.join('\n');
}
