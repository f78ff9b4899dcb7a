// Entry of a worker thread, for the sources and the compiled build alike.
// Beside the compiled worker (build/) it loads that; beside the TypeScript
// source it registers tsx first, since worker threads do not inherit the
// loader the main thread registered.
import { existsSync } from 'node:fs';

if (existsSync(new URL('./demo-history-worker.js', import.meta.url))) {
  await import('./demo-history-worker.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./demo-history-worker.ts');
}
