/**
 * The CLI's backend line: start the backend, say which one in one line, and
 * keep tfjs's "install the node backend" banner out (the line says it).
 * @module
 */
import { describeBackend, initBackend, suppressCpuBanner, type BackendInfo, type BackendPreference } from '../core/backend.js';

/**
 * Starts the backend the user asked for and logs `backend: …`.
 * @param preference - the `--backend` option
 * @param log - where the line goes
 */
export async function startBackend(preference: string, log: (line: string) => void): Promise<BackendInfo> {
  const info = await initBackend(preference as BackendPreference);
  log(`backend: ${describeBackend(info)}`);
  await suppressCpuBanner();
  return info;
}
