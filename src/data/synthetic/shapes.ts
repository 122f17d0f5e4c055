/**
 * Shape families of the synthetic scenes: one per object class, each drawn
 * from random parameters, so that the class is told by the shape (colours are
 * shared across classes). Several families have thin parts (a few pixels
 * wide) and holes, where a coarse prediction must be refined.
 *
 * A shape is an inside test in the object's local frame: `(u, v)` are the
 * pixel offset from the object centre, rotated and divided by the object
 * radius, and every family fits in the disc `u² + v² ≤ 1.2²`.
 * @module
 */
import type { SeededRandom } from '../random.js';

/** An inside test in local coordinates. */
export type InsideTest = (u: number, v: number) => boolean;

/** A family of shapes: a name and a way to draw one random member. */
export interface ShapeFamily {
  /** Class name of the family. */
  readonly name: string;
  /**
   * Draws one member.
   * @param rng - random stream
   * @param thin - half-width of thin parts, in local units (pixels / radius)
   */
  create(rng: SeededRandom, thin: number): InsideTest;
}

const ring: ShapeFamily = {
  name: 'ring',
  create(rng) {
    const inner = rng.uniform(0.45, 0.7);
    const inner2 = inner * inner;
    return (u, v) => {
      const r2 = u * u + v * v;
      return r2 <= 1 && r2 >= inner2;
    };
  },
};

const fork: ShapeFamily = {
  name: 'fork',
  create(rng, thin) {
    const prongs = 3 + rng.int(2);
    const spread = rng.uniform(0.35, 0.5);
    const base = rng.uniform(-0.2, 0);
    const barEnd = base + 2.5 * thin;
    return (u, v) => {
      if (u < -1 || u > 1) return false;
      if (u <= base) return Math.abs(v) <= thin; // handle
      if (u <= barEnd) return Math.abs(v) <= spread + thin; // crossbar
      for (let k = 0; k < prongs; k++) {
        const centre = -spread + (2 * spread * k) / (prongs - 1);
        if (Math.abs(v - centre) <= thin) return true;
      }
      return false;
    };
  },
};

const blob: ShapeFamily = {
  name: 'blob',
  create(rng) {
    const amp = [rng.uniform(-0.15, 0.15), rng.uniform(-0.12, 0.12), rng.uniform(-0.08, 0.08)];
    const phase = [rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI)];
    return (u, v) => {
      const r2 = u * u + v * v;
      if (r2 > 1) return false;
      if (r2 < 0.4) return true; // always inside: the radius never drops below 0.75·0.65
      const phi = Math.atan2(v, u);
      let radius = 1;
      for (let k = 0; k < 3; k++) radius += (amp[k] as number) * Math.cos((k + 2) * phi + (phase[k] as number));
      radius *= 0.8;
      return r2 <= radius * radius;
    };
  },
};

const windowFrame: ShapeFamily = {
  name: 'window',
  create(rng, thin) {
    const outer = 0.8;
    const frame = Math.max(1.5 * thin, rng.uniform(0.1, 0.18));
    const inner = outer - frame;
    return (u, v) => {
      const au = Math.abs(u);
      const av = Math.abs(v);
      if (au > outer || av > outer) return false;
      if (au > inner || av > inner) return true; // frame
      return au <= thin || av <= thin; // mullions; the four panes are holes
    };
  },
};

const star: ShapeFamily = {
  name: 'star',
  create(rng) {
    const spikes = 5 + rng.int(3);
    const core = rng.uniform(0.25, 0.4);
    const sharpness = rng.uniform(6, 12);
    return (u, v) => {
      const r2 = u * u + v * v;
      if (r2 > 1) return false;
      if (r2 <= core * core) return true;
      const phi = Math.atan2(v, u);
      const radius = core + (1 - core) * Math.pow(Math.abs(Math.cos((spikes * phi) / 2)), sharpness);
      return r2 <= radius * radius;
    };
  },
};

const crescent: ShapeFamily = {
  name: 'crescent',
  create(rng) {
    const offset = rng.uniform(0.35, 0.55);
    const bite = rng.uniform(0.75, 0.9);
    const bite2 = bite * bite;
    return (u, v) => {
      if (u * u + v * v > 1) return false;
      const du = u - offset;
      return du * du + v * v > bite2;
    };
  },
};

const ladder: ShapeFamily = {
  name: 'ladder',
  create(rng, thin) {
    const halfGap = rng.uniform(0.35, 0.5);
    const rungs = 3 + rng.int(3);
    const length = 0.9;
    return (u, v) => {
      if (Math.abs(u) > length) return false;
      const av = Math.abs(v);
      if (Math.abs(av - halfGap) <= thin) return true; // rails
      if (av > halfGap) return false;
      for (let k = 0; k < rungs; k++) {
        const centre = -length + thin + ((2 * (length - thin)) * k) / (rungs - 1);
        if (Math.abs(u - centre) <= thin) return true;
      }
      return false;
    };
  },
};

/** Every shape family, in class order (class `k + 1` is family `k`; class 0 is background). */
export const SHAPE_FAMILIES: readonly ShapeFamily[] = Object.freeze([ring, fork, blob, windowFrame, star, crescent, ladder]);
