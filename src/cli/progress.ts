/**
 * Progress bars for the CLI (cli-progress) with an ETA; plain lines when the
 * output is not a terminal (CI logs).
 * @module
 */
import cliProgress from 'cli-progress';
import type { ProgressReporter } from '../bench/progress.js';

/**
 * A reporter drawing one bar per phase on stderr.
 * @param stream - where bars and lines go (default stderr)
 */
export function terminalReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const interactive = stream.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let phase = '';
  let started = 0;
  return {
    start(label, total) {
      phase = label;
      started = performance.now();
      if (!interactive) return;
      bar = new cliProgress.SingleBar(
        { format: '{phase} |{bar}| {value}/{total} {info} ETA {eta_formatted}', stream, hideCursor: true, clearOnComplete: false, etaBuffer: 20 },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { phase: label.padEnd(28), info: '' });
    },
    update(done, info = '') {
      bar?.update(done, { info });
    },
    stop() {
      if (bar !== undefined) {
        bar.stop();
        bar = undefined;
      } else {
        stream.write(`${phase}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      }
    },
    log(message) {
      stream.write(`${message}\n`);
    },
  };
}
