// `logwire serve` as a child process, for tests that measure its memory or kill it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `logwire serve` in its own process (so its memory is its own); resolves with its URL. */
export async function serveProcess(args: string[]): Promise<{ url: string; child: ChildProcess; stderr(): string; peakRss(): number; stop(signal?: NodeJS.Signals): Promise<void> }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../../../bin/logwire.js', import.meta.url)), 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  return {
    url,
    child,
    stderr: () => err,
    // The kernel's high-water mark of the process's resident set.
    peakRss: () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      // A service that does not stop on SIGTERM within 10 s is a failure, not a hang of the tests.
      const late = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(late);
      if (signal === 'SIGTERM' && child.signalCode === 'SIGKILL') throw new Error(`logwire serve did not stop on SIGTERM: ${err}`);
    },
  };
}
