import Type, { type Static } from 'typebox';

/** Segments a path may not walk through: reading is by own property, but a copy must never write a prototype. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

const CustomDataPath = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: '^[A-Za-z0-9_$-]{1,64}(\\.[A-Za-z0-9_$-]{1,64})*$',
  description: 'A key of the user’s customData, or a dotted path into nested objects (`team.id`).',
});

const CustomDataPaths = Type.Refine(
  Type.Array(CustomDataPath, {
    default: [],
    maxItems: 16,
    uniqueItems: true,
    description:
      'Paths of the user’s customData copied into the `customData` claim, in their own nesting (`team.id` is `customData.team.id`). Earlier paths have priority when the claims would exceed 1 KiB.',
  }),
  (paths) => pathsProblem(paths) === undefined,
  (paths) => pathsProblem(paths) ?? '',
);

/**
 * Per-app choice of the user's fields that every access token carries (`settings.accessTokenClaims`),
 * so that the app's own servers can decide from the token alone. Top-level claim names are fixed
 * (`roles`, `tags`, `customData`) and none is a registered JWT claim, so nothing a user holds can
 * stand in for `sub`, `exp` or `aud`.
 */
export const AccessTokenClaimsSettings = Type.Object(
  {
    roles: Type.Boolean({
      default: true,
      description: 'Whether access tokens carry the user’s `roles` (RFC 9068 §2.2.3.1), an empty list included.',
    }),
    tags: Type.Boolean({ default: false, description: 'Whether access tokens carry the user’s `tags`.' }),
    customData: CustomDataPaths,
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'What access tokens say about their user, at most 1 KiB as JSON: roles always fit; tags and each customData path are left out whole when they would not (logged once per user). See docs/guide.md, "Roles and claims in access tokens".',
  },
);

export type AccessTokenClaimsSettings = Static<typeof AccessTokenClaimsSettings>;

/** Why a list of customData paths is refused: a forbidden segment, or two paths of which one holds the other. */
function pathsProblem(paths: readonly string[]): string | undefined {
  for (const path of paths) {
    const forbidden = path.split('.').find((segment) => FORBIDDEN_SEGMENTS.has(segment));
    if (forbidden !== undefined) return `the path ${JSON.stringify(path)} may not contain ${forbidden}`;
  }
  for (const outer of paths) {
    const inner = paths.find((path) => path.startsWith(`${outer}.`));
    if (inner !== undefined) return `the paths ${JSON.stringify(outer)} and ${JSON.stringify(inner)} overlap: keep one`;
  }
  return undefined;
}
