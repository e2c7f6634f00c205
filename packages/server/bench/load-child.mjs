// Runs one bounded load (load.ts's options as JSON in argv[2]) and prints its result as JSON:
// a load generator in a process of its own, as the other clients of a real server are.
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2]);
const result = await autocannon({
  url: options.url,
  method: options.method ?? 'GET',
  headers: options.headers,
  body: options.body,
  connections: options.connections,
  duration: options.durationSeconds,
  ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
});
process.stdout.write(
  JSON.stringify({ requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx }),
);
