// Catalogue (issue 16), part 4: the CLI (the built one: bin/segrefine.js runs
// dist/, so `npm run build` first). Each row runs a process (~1–3 s), so a few only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createSegmenter, DataError } from '../../src/index.js';
import { fileSystemIO } from '../../src/node/index.js';
import { catalogue, CliError, type Row } from './catalogue.js';

const root = mkdtempSync(join(tmpdir(), 'segrefine-cli-catalogue-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the built CLI; a non-zero exit becomes a {@link CliError} rebuilt from its one-line message. */
function cli(...args: string[]): string {
  try {
    const env = { ...process.env };
    delete env['SEGREFINE_BACKEND']; // the rows choose the backend
    return execFileSync('node', ['bin/segrefine.js', ...args, ...(args.includes('--backend') || args[0] === 'data' ? [] : ['--backend', 'wasm'])], { encoding: 'utf8', stdio: 'pipe', env });
  } catch (failure) {
    const { status, stderr } = failure as { status: number | null; stderr: string };
    expect(status, stderr).not.toBe(0);
    expect(stderr, 'a one-line message, no stack trace').not.toMatch(/\n\s+at /);
    const line = stderr.split('\n').find((l) => l.startsWith('segrefine: '));
    const parsed = line === undefined ? undefined : /^segrefine: (\w+): (.*)$/.exec(line);
    if (parsed === null || parsed === undefined) throw new Error(`no typed one-line error in stderr: ${stderr}`);
    const error = new CliError(parsed[2]);
    error.name = parsed[1]!;
    throw error;
  }
}

/** Saves an fcn segmenter with `classes` outputs to `dir`, its weights all NaN when `nan`. */
async function saveModel(dir: string, classes: number, nan = false): Promise<void> {
  const model = createSegmenter({ backbone: { type: 'fcn', classes, channels: 4 } });
  if (nan) {
    const nanWeights = model.getWeights().map((w) => tf.fill(w.shape, NaN));
    model.setWeights(nanWeights);
    tf.dispose(nanWeights);
  }
  await model.save(fileSystemIO(dir));
  model.dispose();
}

beforeAll(async () => {
  // The default experiment's dataset has 4 classes.
  await saveModel(join(root, 'nan'), 4, true);
  await saveModel(join(root, 'k3'), 3);
  await saveModel(join(root, 'k4'), 4);
  await sharp(Buffer.alloc(16 * 16 * 3, 90), { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(join(root, 'image.png'));
  mkdirSync(join(root, 'empty'));
});

const rows: Row[] = [
  { name: 'eval: a model whose predictions are NaN', error: DataError, message: /predictions of .*nan must be finite logits \(NaN or Inf found/, run: () => cli('eval', '--model', join(root, 'nan'), '--fast') },
  { name: 'eval: a 3-class model on the 4-class dataset', error: ConfigError, message: /--model must predict the dataset's 4 classes \(.*k3 outputs 3 classes\)/, run: () => cli('eval', '--model', join(root, 'k3'), '--fast') },
  { name: 'eval: a folder without model.json', error: DataError, message: /location must contain model\.json/, run: () => cli('eval', '--model', join(root, 'empty'), '--fast') },
  { name: 'refine: an image that does not exist', error: DataError, message: /missing\.png must be a readable image/, run: () => cli('refine', join(root, 'missing.png'), '--model', join(root, 'k4'), '--out', join(root, 'x.png')) },
  { name: 'train: --entry that the experiment lacks', error: ConfigError, message: /--entry must be one of/, run: () => cli('train', '--entry', 'nope', '--save', join(root, 'saved'), '--fast') },
  { name: 'bench: an experiment file that does not exist', error: ConfigError, message: /missing\.json must be a readable experiment file/, run: () => cli('bench', join(root, 'missing.json'), '--fast') },
  { name: 'demo: --backend nope', error: ConfigError, message: /initBackend\(preference\) must be one of auto, /, run: () => cli('demo', '--backend', 'nope') },
  { name: 'data export: --size big', error: ConfigError, message: /--size must be HEIGHTxWIDTH/, run: () => cli('data', 'export', join(root, 'voc'), '--size', 'big') },
];

catalogue('reliability catalogue: the CLI', rows);

describe('refine --out', () => {
  it('creates a missing folder, as its help says', () => {
    const out = join(root, 'new', 'deeper', 'labels.png');
    cli('refine', join(root, 'image.png'), '--model', join(root, 'k4'), '--out', out);
    expect(existsSync(out)).toBe(true);
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
  });

  it('names --out when the path cannot be written', () => {
    writeFileSync(join(root, 'a-file'), '');
    expect(() => cli('refine', join(root, 'image.png'), '--model', join(root, 'k4'), '--out', join(root, 'a-file', 'labels.png'))).toThrow(/--out must be a writable file path/);
  });
});
