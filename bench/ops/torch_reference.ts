/**
 * The PyTorch CPU references of `bench/ops/torch/reference_server.py`, run
 * in a helper process so a case can alternate segrefine and reference calls
 * in one run. Found when a `python3` with torch is on the machine
 * (`SEGREFINE_TORCH_PYTHON`, else Debian's `/usr/bin/python3`, else
 * `python3`); one thread, `OPENBLAS_NUM_THREADS=1`.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const server = join(dirname(fileURLToPath(import.meta.url)), 'torch', 'reference_server.py');

/** A running reference process. */
export interface TorchReference {
  /** torch's version. */
  readonly version: string;
  /** Runs case `name` once; its wall ms. */
  time(name: string): Promise<number>;
  /** Ends the process. */
  close(): void;
}

function pythonWithTorch(): string | undefined {
  const candidates = [process.env['SEGREFINE_TORCH_PYTHON'], '/usr/bin/python3', 'python3'].filter((c): c is string => c !== undefined && c !== '');
  return candidates.find((python) => spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

/** Starts the reference process, or undefined (with the reason printed) when no python3 has torch. */
export async function startTorchReference(): Promise<TorchReference | undefined> {
  const python = pythonWithTorch();
  if (python === undefined) {
    console.log('  (no python3 with torch: PyTorch reference rows skipped; Debian: apt-get install python3-torch libopenblas0-pthread)');
    return undefined;
  }
  const child: ChildProcessWithoutNullStreams = spawn(python, [server], { env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' } });
  const lines: Interface = createInterface({ input: child.stdout });
  const pending: Array<(line: string) => void> = [];
  lines.on('line', (line) => pending.shift()?.(line));
  // A reference that dies answers every pending and later call with NaN (an error below), never a hang.
  let exited = false;
  child.on('exit', () => {
    exited = true;
    pending.splice(0).forEach((resolve) => resolve('NaN'));
  });
  const next = (): Promise<string> => new Promise((resolve) => (exited ? resolve('NaN') : pending.push(resolve)));
  const ready = await next();
  return {
    version: ready.replace(/^ready /, ''),
    async time(name) {
      const reply = next();
      child.stdin.write(`${name}\n`);
      const ms = Number(await reply);
      if (!Number.isFinite(ms)) throw new Error(`torch reference: no time for ${name}`);
      return ms;
    },
    close() {
      child.stdin.end();
      lines.close();
    },
  };
}
