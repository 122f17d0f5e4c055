/**
 * The PyTorch CPU references of `bench/ops/torch/reference_server.py`, run
 * in a helper process so a case can alternate segrefine and reference calls
 * in one run. Found when a `python3` with torch is on the machine
 * (`SEGREFINE_TORCH_PYTHON`, `none` for no reference, else Debian's `/usr/bin/python3`, else
 * `python3`); on one thread unless told otherwise (`torch.set_num_threads`
 * and `OPENBLAS_NUM_THREADS`/`OMP_NUM_THREADS` alike), with glibc keeping
 * freed memory (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`).
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
  /** The threads torch and OpenBLAS run on. */
  readonly threads: number;
  /** Runs a case once — its name and arguments, e.g. `conv-crf-forward 64 8 4 1` — and returns its wall ms (its inputs are built on the first call, untimed). */
  time(call: string): Promise<number>;
  /** A value the reference reports, e.g. `params-sim-deeplab-18 1` (a parameter count). */
  value(query: string): Promise<number>;
  /** Ends the process. */
  close(): void;
}

function pythonWithTorch(): string | undefined {
  if (process.env['SEGREFINE_TORCH_PYTHON'] === 'none') return undefined; // the rows without a reference
  const candidates = [process.env['SEGREFINE_TORCH_PYTHON'], '/usr/bin/python3', 'python3'].filter((c): c is string => c !== undefined && c !== '');
  return candidates.find((python) => spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

/**
 * Starts the reference process, or undefined (with the reason printed) when no python3 has torch.
 * @param threads - threads torch and OpenBLAS use (match the segrefine backend's)
 */
export async function startTorchReference(threads = 1): Promise<TorchReference | undefined> {
  const python = pythonWithTorch();
  if (python === undefined) {
    console.log('  (no python3 with torch: PyTorch reference rows skipped; Debian: apt-get install python3-torch libopenblas0-pthread)');
    return undefined;
  }
  // glibc returns every freed block over its mmap threshold to the kernel, so each call of a
  // reference with 10–100 MB intermediates (ConvCRF's unfolded windows) page-faults them in anew:
  // up to 6× its time, most of it in the kernel. Keeping freed memory in the heap measures the
  // computation, as PyTorch with jemalloc or tcmalloc would run it.
  const allocator = { MALLOC_MMAP_THRESHOLD_: String(2 ** 32), MALLOC_TRIM_THRESHOLD_: String(2 ** 34) };
  const env = { ...process.env, ...allocator, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const child: ChildProcessWithoutNullStreams = spawn(python, [server, String(threads)], { env });
  const lines: Interface = createInterface({ input: child.stdout });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk)); // a traceback, if it dies
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
  const ask = async (line: string, what: string): Promise<number> => {
    const reply = next();
    child.stdin.write(`${line}\n`);
    const value = Number(await reply);
    if (!Number.isFinite(value)) throw new Error(`torch reference: no ${what} for ${line}`);
    return value;
  };
  return {
    version: ready.replace(/^ready /, ''),
    threads,
    time: (call) => ask(call, 'time'),
    value: (query) => ask(`?${query}`, 'value'),
    close() {
      child.stdin.end();
      lines.close();
    },
  };
}
