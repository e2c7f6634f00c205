import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as verifier from '../src/index.js';
import * as express from '../src/integrations/express.js';
import * as fastify from '../src/integrations/fastify.js';
import * as feathers from '../src/integrations/feathers.js';
import * as socketIo from '../src/integrations/socket.io.js';
import * as ws from '../src/integrations/ws.js';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

/** The integrations' entry points, their modules, and the values each exports. */
const INTEGRATIONS: Record<string, [object, string[]]> = {
  './ws': [ws, ['tesseraUpgrade']],
  './socket.io': [socketIo, ['SESSION_ENDED_EVENT', 'sessionRoom', 'tesseraSocketIo', 'userRoom']],
  './fastify': [fastify, ['principalOf', 'tesseraFastify']],
  './express': [express, ['principalOf', 'tesseraExpress']],
  './feathers': [feathers, ['TesseraStrategy']],
};

// issue 15: @tessera/verifier's public surface is a whitelist.
describe('the public surface of @tessera/verifier', () => {
  it('is an explicit exports map, without wildcards', () => {
    expect(Object.keys(manifest.exports)).toEqual(['.', ...Object.keys(INTEGRATIONS), './package.json']);
    expect(JSON.stringify(manifest.exports)).not.toContain('*');
    for (const entry of ['.', ...Object.keys(INTEGRATIONS)]) {
      const paths = manifest.exports[entry] as Record<string, string>;
      expect(Object.keys(paths), entry).toEqual(['tessera-source', 'types', 'default']);
      expect(existsSync(new URL(`../${paths['tessera-source']}`, import.meta.url)), entry).toBe(true);
      const built = paths['tessera-source']!.replace(/^\.\/src\//, './dist/').replace(/\.ts$/, '');
      expect([paths.types, paths.default], entry).toEqual([`${built}.d.ts`, `${built}.js`]);
    }
  });

  it('depends on jose and the protocol only', () => {
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@tessera/protocol', 'jose']);
  });

  it("has the integrations' libraries as optional peer dependencies, of the majors the repository tests", () => {
    const peers = Object.keys(manifest.peerDependencies).sort();
    expect(peers).toEqual([
      '@feathersjs/authentication',
      '@feathersjs/errors',
      '@feathersjs/feathers',
      'express',
      'fastify',
      'socket.io',
      'ws',
    ]);
    expect(Object.keys(manifest.peerDependenciesMeta).sort()).toEqual(peers);
    for (const peer of peers) {
      expect(manifest.peerDependenciesMeta[peer], peer).toEqual({ optional: true });
      const installed = (
        JSON.parse(readFileSync(new URL(`../../../node_modules/${peer}/package.json`, import.meta.url), 'utf8')) as {
          version: string;
        }
      ).version;
      expect(manifest.peerDependencies[peer], peer).toBe(`^${installed.split('.')[0]!}.0.0`);
    }
  });

  it('exports exactly these values from each integration; their shared internals stay inside', () => {
    for (const [entry, [module, values]] of Object.entries(INTEGRATIONS))
      expect(Object.keys(module).sort(), entry).toEqual(values);
  });

  it('exports exactly these values; internals stay inside', () => {
    expect(Object.keys(verifier).sort()).toEqual(['VerifierError', 'createVerifier']);
  });
});
