import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgres, postgresUrl, redisUrl } from './backends.js';
import { startNode, type FirstRunCredentials, type NodeProcess } from './node-process.js';
import { endpointOf, TcpProxy } from './tcp-proxy.js';

/** Several `tessera start` processes on one PostgreSQL schema and one Redis, as a deployment runs them. */
export interface TestCluster {
  nodes: NodeProcess[];
  /**
   * The load balancer in front of the nodes (round robin over the nodes still running). Its URL
   * is every node's TESSERA_PUBLIC_URL, so all of them issue tokens with the same issuer.
   */
  balancer: TcpProxy;
  /** demo/chat's keys and the admin token, printed by the first node. */
  credentials: FirstRunCredentials;
  databaseUrl: string;
  redisUrl: string;
  /** The Redis key prefix of this cluster alone, so parallel tests share the server without crosstalk. */
  redisKeyPrefix: string;
  /** Starts one more node of this cluster. */
  addNode(env?: Record<string, string>): Promise<NodeProcess>;
  /** Stops every node still running (SIGTERM) and drops the schema. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  nodes: number;
  /** Defaults to TESSERA_TEST_REDIS_URL; a test that stops Redis passes a private one. */
  redisUrl?: string;
  /** More TESSERA_* variables for every node. */
  env?: Record<string, string>;
  /** Puts something between the nodes and PostgreSQL (a TcpProxy that can be cut): maps the real URL to the one the nodes use. */
  databaseUrlForNodes?: (databaseUrl: string) => string;
}

/** Whether this machine can run cluster tests: it needs both PostgreSQL and Redis (CI always has them). */
export const clusterTestsEnabled = postgresUrl !== undefined && redisUrl !== undefined;

/** Starts `nodes` nodes, the first alone (it migrates and creates demo/chat), the others together. */
export async function startCluster(options: ClusterOptions): Promise<TestCluster> {
  if (postgresUrl === undefined || redisUrl === undefined)
    throw new Error('cluster tests need TESSERA_TEST_POSTGRES_URL and TESSERA_TEST_REDIS_URL');
  const provisioned = await postgres(postgresUrl).provision();
  const { dispose } = provisioned;
  const databaseUrl = provisioned.databaseUrl!;
  const nodeDatabaseUrl = options.databaseUrlForNodes?.(databaseUrl) ?? databaseUrl;
  const redis = options.redisUrl ?? redisUrl;
  const redisKeyPrefix = `tessera-test:${randomBytes(6).toString('hex')}:`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cluster-'));
  const nodes: NodeProcess[] = [];
  const running = new Set<NodeProcess>();
  const balancer = new TcpProxy(() => [...running].map((node) => endpointOf(node.url)));
  await balancer.start();
  const addNode = async (env: Record<string, string> = {}) => {
    const node = await startNode({
      databaseUrl: nodeDatabaseUrl,
      redisUrl: redis,
      dataDir,
      env: { TESSERA_REDIS_KEY_PREFIX: redisKeyPrefix, TESSERA_PUBLIC_URL: balancer.url, ...options.env, ...env },
    });
    running.add(node);
    void node.exited.then(() => running.delete(node));
    nodes.push(node);
    return node;
  };
  try {
    const first = await addNode();
    if (first.firstRun === undefined) throw new Error(`the first node did not create demo/chat:\n${first.output()}`);
    await Promise.all(Array.from({ length: options.nodes - 1 }, () => addNode()));
    return {
      nodes,
      balancer,
      credentials: first.firstRun,
      databaseUrl,
      redisUrl: redis,
      redisKeyPrefix,
      addNode,
      async close() {
        await Promise.all(nodes.map((node) => node.stop()));
        await balancer.close();
        await dispose();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    await balancer.close();
    await dispose();
    throw error;
  }
}
