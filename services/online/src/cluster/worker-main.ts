// The entry of an online worker process, forked by the primary (worker-pool.ts) under node:cluster.
import { runOnlineWorker } from "./worker.js";

runOnlineWorker();
