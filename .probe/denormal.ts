import { frameLayout, prepareFrame } from '../src/refiners/crf/conv_crf_frame.js';
const layout = frameLayout(8, 64, 64, 7);
const fr = prepareFrame(layout, 5, 4);
const { at, instance, floats } = fr; const k = instance.kernel;
const o = 4 * layout.margin, ro = layout.margin * at.rowBytes, tb = 8 * layout.taps;
for (const [a, q] of [[0.5, 0.5], [1e-20, 1e-20], [1e-39, 0.5]]) {
  floats.fill(a, at.weights / 4, at.weights / 4 + layout.taps * layout.slots);
  floats.fill(q, at.values / 4, at.values / 4 + layout.slots * 4);
  let m = Infinity;
  for (let i = 0; i < 5; i++) { const t = performance.now(); k.message(at.weights + o, at.values + ro, at.out + ro, at.forwardTable, at.forwardTable + tb, layout.positions, at.rowBytes); m = Math.min(m, performance.now() - t); }
  console.log(a, q, m.toFixed(2));
}
