/** One schema error, as Ajv, Fastify and TypeBox all report it. */
export interface SchemaProblem {
  readonly instancePath: string;
  readonly keyword?: string;
  readonly params?: object;
  readonly message?: string | undefined;
}

/** One entry of an `invalid_request`'s `details`. */
export interface ValidationDetail {
  path: string;
  message: string;
  /** The unknown field's name, on REST only. */
  field?: string;
}

export interface DetailsOptions {
  /**
   * The part of a request that was checked (`body`, `querystring`, `params`), before the
   * pointer: REST says which part is at fault. Without it an empty pointer reads `/`.
   */
  part?: string;
  /** Names the unknown field of an `additionalProperties` problem (REST does; frames and strategy inputs do not). */
  nameUnknownField?: boolean;
}

/** A client sees at most this many problems. */
const MAX_DETAILS = 10;

/**
 * The one mapping of schema errors to `details: [{ path, message }]`, for REST bodies
 * (http/errors.ts), realtime frames (realtime/frames.ts) and strategy inputs (lib/validate.ts).
 */
export function validationDetails(
  problems: readonly SchemaProblem[],
  { part, nameUnknownField = false }: DetailsOptions = {},
): ValidationDetail[] {
  return problems.slice(0, MAX_DETAILS).map((problem) => {
    const detail: ValidationDetail = {
      path: part === undefined ? problem.instancePath || '/' : `${part}${problem.instancePath}`,
      message: problem.message ?? 'is not valid',
    };
    if (nameUnknownField && problem.keyword === 'additionalProperties')
      detail.field = (problem.params as { additionalProperty?: string } | undefined)?.additionalProperty;
    return detail;
  });
}

/** A schema error's JSON pointer as a dotted path (`/jwt/jwksUrl` → `jwt.jwksUrl`), for messages read by people. */
export function dottedPath(instancePath: string): string {
  return instancePath.replace(/^\//, '').replaceAll('/', '.');
}
