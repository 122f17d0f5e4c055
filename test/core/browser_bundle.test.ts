// The core entry (`segrefine`) must bundle for a browser: esbuild's browser
// platform cannot resolve a Node built-in, so the build fails on one, and the
// metafile lists every file pulled in, so a Node-only package or segrefine's
// own Node/bench code shows there even when it would resolve. tfjs stays
// external: the page brings its own.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type BuildFailure, type BuildResult, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
// ajv is not here: it is portable, and the core validates configs with it.
const NODE_ONLY = /(^|\/)(src\/(node|bench|cli)\/|node_modules\/(sharp|@img\/sharp[^/]*|vega[^/]*|cli-progress|commander)\/)/;

describe('the core entry in a browser bundle', () => {
  it('bundles with no Node built-in and no Node-only package or module', async () => {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      external: ['@tensorflow/*'],
      write: false,
      metafile: true,
      logLevel: 'silent',
    }).catch((failure: BuildFailure) => failure);
    // On failure, the messages name the import esbuild could not resolve and the file it is in.
    const errors = result.errors.map((e) => `${e.text} (${e.location?.file ?? '?'}:${e.location?.line ?? '?'})`);
    expect(errors).toEqual([]);
    const { inputs } = (result as BuildResult & { metafile: Metafile }).metafile;
    expect(Object.keys(inputs).filter((path) => NODE_ONLY.test(path))).toEqual([]);
    // Nor an import of a built-in left in the bundle (with or without `node:`), which would only fail in the browser.
    const builtins = new Set(builtinModules);
    const nodeImports = Object.values(inputs)
      .flatMap((input) => input.imports)
      .filter((i) => i.path.startsWith('node:') || builtins.has(i.path))
      .map((i) => i.path);
    expect(nodeImports).toEqual([]);
  }, 10_000);
});
