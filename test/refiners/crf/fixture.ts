/**
 * The dense CRF fixture (`test/fixtures/densecrf/`: pydensecrf's outputs on
 * one W×H image with M labels), read once per test file.
 */
import { readFileSync } from 'node:fs';
import type { LabelProbabilities, RgbImage } from '../../../src/index.js';

const FIXTURES = new URL('../../fixtures/densecrf/', import.meta.url);

/** The bytes of a fixture file. */
export const readFixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));

/** Float32 values of a fixture file's bytes (copied, so aligned). */
export const float32s = (bytes: Buffer): Float32Array => new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));

const { W, H, M } = JSON.parse(readFixture('densecrf_fixture.json').toString('utf8')) as { W: number; H: number; M: number };

/** The fixture's RGB image `[H, W, 3]`. */
export const fixtureImage: RgbImage = { data: new Uint8Array(readFixture('image_h80_w96.u8')), height: H, width: W };

/** The fixture's label probabilities `[H, W, M]`. */
export const fixtureProbabilities: LabelProbabilities = { data: float32s(readFixture('prob_h80_w96_m4.f32')), height: H, width: W, labels: M };
