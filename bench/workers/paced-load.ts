/** The fixed-rate load generator's process (forked by bench/lib/load.ts); see bench/lib/paced-load.ts. */
import { runPacedLoad } from '../lib/paced-load';
import { serveWorker } from '../lib/serve-worker';

serveWorker(runPacedLoad);
