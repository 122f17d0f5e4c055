import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { dataExportCommand } from '../../src/cli/data_command.js';
import { VocDataset } from '../../src/node/index.js';

describe('segrefine CLI', () => {
  it('has the documented commands and a version', () => {
    const program = buildProgram();
    expect(program.commands.map((c) => c.name())).toEqual(['bench', 'train', 'eval', 'refine', 'data', 'demo']);
    expect(program.version()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('data export writes a VOC folder that loads back with identical pixels; a corrupt PNG is a DataError naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segrefine-voc-'));
    await dataExportCommand(dir, { seed: '3', size: '32x40', train: '3', val: '2', classes: '4', format: 'png' });
    const voc = await VocDataset.open(dir);
    expect(voc.ids('train')).toHaveLength(3);
    const { createSyntheticDataset } = await import('../../src/index.js');
    const original = createSyntheticDataset({ seed: 3, size: [32, 40], numTrain: 3, numVal: 2, numClasses: 4 });
    const id = voc.ids('val')[1]!;
    const loaded = await voc.load(id);
    const expected = await original.load(id);
    expect(Buffer.from(loaded.image).equals(Buffer.from(expected.image))).toBe(true);
    expect(Buffer.from(loaded.label).equals(Buffer.from(expected.label))).toBe(true);
    const labelFile = join(dir, 'SegmentationClass', `${id}.png`);
    writeFileSync(labelFile, Buffer.from('not a png at all'));
    await expect(voc.load(id)).rejects.toThrow(labelFile);
  });

  it('prints typed errors as one line without a stack (built CLI)', () => {
    let stderr = '';
    try {
      execFileSync('node', ['bin/segrefine.js', 'data', 'export', join(tmpdir(), 'x'), '--size', 'big'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      stderr = (error as { stderr: string }).stderr;
    }
    expect(stderr.trim()).toBe('segrefine: ConfigError: --size must be HEIGHTxWIDTH, e.g. 128x128, got "big"');
  });
});
