// Runs one bounded load (load.ts's options as JSON in argv[2]) and prints its result as JSON:
// a load generator in a process of its own, as the other clients of a real server are.
import { load, type LoadOptions } from './load.js';

process.stdout.write(JSON.stringify(await load(JSON.parse(process.argv[2]!) as LoadOptions)));
