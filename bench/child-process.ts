import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';

/** A child process the benchmarks started, with its stderr kept for error messages. */
export interface BenchChild {
  readonly child: ChildProcess;
  readonly pid: number;
  exited(): boolean;
  /** The last lines it wrote to stderr. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `node <args>` and resolves with the first stdout line that `ready` accepts (parsed as
 * JSON when possible); rejects when it exits first or after `timeoutMs`.
 */
export function startNodeChild<T>(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: (line: string) => T | undefined,
  timeoutMs = 60_000,
): Promise<{ handle: BenchChild; value: T }> {
  const handle = spawnNodeChild(args, env);
  const child = handle.child;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void handle.stop(1000);
      reject(new Error(`child ${args.join(' ')} not ready within ${timeoutMs} ms:\n${handle.stderrTail()}`));
    }, timeoutMs);
    const rl = readline.createInterface({ input: child.stdout! });
    let settled = false;
    rl.on('line', (line) => {
      if (settled) return;
      const value = ready(line);
      if (value !== undefined) {
        settled = true;
        clearTimeout(timer);
        resolve({ handle, value });
      }
    });
    child.once('exit', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`child ${args.join(' ')} exited (${code}) before it was ready:\n${handle.stderrTail()}`));
    });
  });
}

/** Starts `node <args>` (stdout piped and drained, stderr's tail kept). */
export function spawnNodeChild(args: readonly string[], env: NodeJS.ProcessEnv): BenchChild {
  const child = spawn(process.execPath, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.resume();
  const tail: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  });
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const handle: BenchChild = {
    child,
    exited: () => exited,
    pid: child.pid ?? -1,
    stderrTail: () => tail.join('\n'),
    async stop(graceMs = 15_000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, graceMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
  return handle;
}

/** Parses a JSON line, undefined when it is not JSON. */
export function jsonLine<T>(line: string): T | undefined {
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}
