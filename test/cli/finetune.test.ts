import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/training.md's fine-tuning workflow through the built CLI: a pretrained
// (here: the narrow torchvision-layout fixture) ResNet under a DiffusionHead,
// trained on a VOC folder named in an experiment file, saved with --save and
// loaded by another command with --model.
const cli = resolve('bin/segrefine.js');
const weights = resolve('test/fixtures/torchvision/resnet18_w0.125.safetensors');

/** Runs the CLI in `cwd`; what it printed on stdout and stderr (it must exit 0). */
function run(cwd: string, ...args: string[]): string {
  const result = spawnSync('node', [cli, ...args, '--backend', 'wasm'], { cwd, encoding: 'utf8' });
  const printed = `${result.stdout}${result.stderr}`;
  expect(result.status, printed).toBe(0);
  return printed;
}

describe('fine-tuning a pretrained ResNet under DifNet from the CLI', () => {
  it('train --save writes a model that eval --model and refine --model load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segrefine-finetune-'));
    execFileSync('node', [cli, 'data', 'export', join(dir, 'voc'), '--size', '32x32', '--train', '8', '--val', '4', '--classes', '4'], { stdio: 'pipe' });
    const experiment = {
      name: 'finetune',
      seed: 1,
      dataset: { type: 'voc', root: 'voc' },
      protocol: 'end-to-end',
      entries: [
        {
          label: 'DifNet on ResNet-18',
          backbone: { type: 'resnet', depth: 18, width: 0.125, outputStride: 8, weights },
          refiner: { type: 'difnet', walks: 2, embeddingDim: 8 },
        },
      ],
      train: { epochs: 1, batchSize: 4, optimizer: 'adam', learningRate: 0.001 },
    };
    writeFileSync(join(dir, 'finetune.json'), JSON.stringify(experiment));
    expect(run(dir, 'train', 'finetune.json', '--entry', 'DifNet on ResNet-18', '--save', 'model')).toMatch(/saved to model/);
    expect(existsSync(join(dir, 'model', 'model.json'))).toBe(true);
    expect(run(dir, 'eval', 'finetune.json', '--model', 'model')).toMatch(/mIoU \d+\.\d+%/);
    expect(run(dir, 'refine', join('voc', 'JPEGImages', 'val_000000.png'), '--model', 'model', '--out', 'labels.png')).toMatch(/wrote labels\.png \(32×32/);
  }, 240_000);
});
