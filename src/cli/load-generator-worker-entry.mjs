// Entry of a load-generator worker thread. Worker threads do not inherit the
// loader the main thread registered, so register tsx here, then load the worker.
import { register } from 'tsx/esm/api';

register();
await import('./load-generator-worker.ts');
