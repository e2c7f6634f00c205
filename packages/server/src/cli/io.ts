import type { StoppableServer } from './signals.js';

/** What the CLI reads and writes: the process's in production, buffers in tests. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  /** Called with the running server by `start`, which then waits for a signal. */
  onStarted?: (server: StoppableServer) => void;
}
