import Fastify, { type FastifyInstance } from 'fastify';
import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendError } from '../../src/http/errors.js';
import { validatorCompiler } from '../../src/http/validation.js';
import { parseWithSchema } from '../../src/lib/validate.js';
import { dottedPath, validationDetails } from '../../src/lib/validation-details.js';
import { parseClientFrame } from '../../src/realtime/frames.js';

/** What a refusal carries as `details`. */
function detailsOf(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return (error as { details?: unknown }).details;
  }
  throw new Error('expected a refusal');
}

describe('validationDetails (lib/validation-details.ts)', () => {
  it('maps each problem to its pointer and message; an empty pointer reads / and a missing message "is not valid"', () => {
    expect(
      validationDetails([
        { instancePath: '/a/0', message: 'must be string' },
        { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'x' } },
      ]),
    ).toEqual([
      { path: '/a/0', message: 'must be string' },
      { path: '/', message: 'is not valid' },
    ]);
  });

  it("prefixes the request part, and names the unknown field when asked (REST's details)", () => {
    const problems = [
      {
        instancePath: '',
        keyword: 'additionalProperties',
        params: { additionalProperty: 'admin' },
        message: 'must NOT have additional properties',
      },
      { instancePath: '/limit', keyword: 'type', params: { type: 'integer' }, message: 'must be integer' },
    ];
    expect(validationDetails(problems, { part: 'body', nameUnknownField: true })).toEqual([
      { path: 'body', message: 'must NOT have additional properties', field: 'admin' },
      { path: 'body/limit', message: 'must be integer' },
    ]);
  });

  it('gives at most 10 problems', () => {
    const problems = Array.from({ length: 25 }, (_, index) => ({ instancePath: `/${index}`, message: 'bad' }));
    expect(validationDetails(problems).map(({ path }) => path)).toEqual(
      Array.from({ length: 10 }, (_, index) => `/${index}`),
    );
  });

  it('writes a pointer as a dotted path for messages', () => {
    expect(dottedPath('/jwt/jwksUrl')).toBe('jwt.jwksUrl');
    expect(dottedPath('')).toBe('');
  });
});

describe('the same details from each validator', () => {
  const Body = Type.Object(
    { name: Type.String({ minLength: 1 }), tags: Type.Optional(Type.Array(Type.String())) },
    { additionalProperties: false },
  );
  let fastify: FastifyInstance;

  beforeAll(async () => {
    fastify = Fastify({ logger: false });
    fastify.setValidatorCompiler(validatorCompiler);
    fastify.setErrorHandler((error, request, reply) => sendError(error, request, reply));
    fastify.post('/things', {
      schema: { body: Body, querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1 })) }) },
      handler: () => ({ ok: true }),
    });
    await fastify.ready();
  });
  afterAll(() => fastify.close());

  const rest = async (body: object, query = '') => {
    const response = await fastify.inject({ method: 'POST', url: `/things${query}`, payload: body });
    return response.json<{ error: { details?: unknown } }>().error.details;
  };

  it('REST (Ajv through Fastify): the request part, the pointer, and the unknown field', async () => {
    expect(await rest({ name: 'a', admin: true })).toEqual([
      { path: 'body', message: 'must NOT have additional properties', field: 'admin' },
    ]);
    expect(await rest({ name: 'a', tags: [1] })).toEqual([{ path: 'body/tags/0', message: 'must be string' }]);
    expect(await rest({})).toEqual([{ path: 'body', message: "must have required property 'name'" }]);
    expect(await rest({ name: 'a' }, '?limit=0')).toEqual([{ path: 'querystring/limit', message: 'must be >= 1' }]);
  });

  it('strategy inputs (TypeBox): every problem, / for the whole value, no field name', () => {
    expect(detailsOf(() => parseWithSchema(Body, { name: 'a', admin: true }))).toEqual([
      { path: '/admin', message: 'schema is false' },
      { path: '/', message: 'must not have additional properties' },
    ]);
    expect(detailsOf(() => parseWithSchema(Body, { name: 'a', tags: [1] }))).toEqual([
      { path: '/tags/0', message: 'must be string' },
    ]);
  });

  it('realtime frames (Ajv): the pointer, / for the whole frame, no field name', () => {
    const parsed = parseClientFrame(Buffer.from(JSON.stringify({ type: 'ping', admin: true })), false);
    expect(parsed.ok ? undefined : parsed.error.details).toEqual([
      { path: '/', message: 'must NOT have additional properties' },
    ]);
  });
});
