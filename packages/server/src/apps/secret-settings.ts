import Type, { type TSchema, type TString } from 'typebox';

/**
 * Secrets inside app settings (a trusted issuer's HMAC secret, a header the identity-provider
 * webhook checks…). A settings schema marks such a field with `secretString`; everything else
 * finds the marked fields by walking the schema, so a strategy adding a secret needs nothing
 * more: the admin API masks it, the store encrypts it, a masked value sent back is refused.
 */

/** The JSON Schema annotation that marks a secret. */
export const SECRET_ANNOTATION = 'x-secret';

/** What the admin API shows instead of a secret. */
export const SECRET_MASK = '••••••••';

/** Secrets this long show their last characters after the mask, so an operator can tell which one is set. */
const SHOW_TAIL_FROM_LENGTH = 20;
const TAIL_LENGTH = 4;

type StringOptions = Parameters<typeof Type.String>[0];

/** A string setting that is a secret: masked in admin answers, encrypted at rest. */
export function secretString(options: StringOptions = {}): TString {
  return Type.String({ ...options, [SECRET_ANNOTATION]: true });
}

/** The admin API's view of a secret. */
export function maskSecret(secret: string): string {
  return secret.length >= SHOW_TAIL_FROM_LENGTH ? `${SECRET_MASK}${secret.slice(-TAIL_LENGTH)}` : SECRET_MASK;
}

/** A step of a secret's path: a property name, any array item, or any key of a record. */
type Step = string | typeof ITEM | typeof ANY_KEY;
const ITEM = Symbol('item');
const ANY_KEY = Symbol('any key');
type SecretPath = readonly Step[];

/** Where the secrets of a settings value are, as found once per schema. */
const pathsBySchema = new WeakMap<object, readonly SecretPath[]>();
/** Far deeper than any settings schema; only a malformed (cyclic) schema gets there. */
const MAX_DEPTH = 32;

function secretPaths(schema: TSchema): readonly SecretPath[] {
  let paths = pathsBySchema.get(schema);
  if (paths === undefined) {
    const found = new Map<string, SecretPath>();
    collect(schema, [], found, 0);
    paths = [...found.values()];
    pathsBySchema.set(schema, paths);
  }
  return paths;
}

function collect(schema: unknown, path: Step[], found: Map<string, SecretPath>, depth: number): void {
  if (typeof schema !== 'object' || schema === null || depth > MAX_DEPTH) return;
  const node = schema as Record<string, unknown>;
  if (node[SECRET_ANNOTATION] === true)
    found.set(path.map((step) => (typeof step === 'string' ? JSON.stringify(step) : step.description)).join('/'), [
      ...path,
    ]);
  for (const variants of [node.anyOf, node.oneOf, node.allOf]) {
    if (Array.isArray(variants)) for (const variant of variants) collect(variant, path, found, depth + 1);
  }
  if (typeof node.properties === 'object' && node.properties !== null) {
    for (const [name, property] of Object.entries(node.properties))
      collect(property, [...path, name], found, depth + 1);
  }
  if (typeof node.items === 'object') collect(node.items, [...path, ITEM], found, depth + 1);
  if (typeof node.additionalProperties === 'object')
    collect(node.additionalProperties, [...path, ANY_KEY], found, depth + 1);
  if (typeof node.patternProperties === 'object' && node.patternProperties !== null) {
    for (const property of Object.values(node.patternProperties))
      collect(property, [...path, ANY_KEY], found, depth + 1);
  }
}

/**
 * A copy of `value` in which every secret the schema marks is replaced by `replace(secret,
 * pointer)` (pointer: the field's JSON pointer, e.g. `/strategies/jwt/issuers/0/secrets/0/secret`).
 * Fields that are absent are left absent; the input is not changed.
 */
export function mapSecrets<T>(schema: TSchema, value: T, replace: (secret: unknown, pointer: string) => unknown): T {
  const copy = structuredClone(value);
  for (const path of secretPaths(schema))
    visit(copy, path, '', (container, key, pointer) => {
      container[key] = replace(container[key], pointer);
    });
  return copy;
}

/** Every secret the schema marks that is present in `value`, with its JSON pointer. */
export function listSecrets(schema: TSchema, value: unknown): { pointer: string; secret: unknown }[] {
  const secrets: { pointer: string; secret: unknown }[] = [];
  for (const path of secretPaths(schema))
    visit(value, path, '', (container, key, pointer) => secrets.push({ pointer, secret: container[key] }));
  return secrets;
}

/** The settings as the admin API shows them: every secret masked. */
export function maskSecrets<T>(schema: TSchema, value: T): T {
  return mapSecrets(schema, value, (secret) => (typeof secret === 'string' ? maskSecret(secret) : secret));
}

/**
 * The pointer of a secret that is the mask the admin API shows rather than a secret: settings
 * read back and sent again must not replace a secret with its mask.
 */
export function maskedSecretPointer(schema: TSchema, value: unknown): string | undefined {
  return listSecrets(schema, value).find(({ secret }) => typeof secret === 'string' && secret.startsWith(SECRET_MASK))
    ?.pointer;
}

type Container = Record<string, unknown> | unknown[];
type Visitor = (container: Record<string | number, unknown>, key: string | number, pointer: string) => void;

function visit(value: unknown, path: SecretPath, pointer: string, visitor: Visitor): void {
  const [step, ...rest] = path;
  if (step === undefined || typeof value !== 'object' || value === null) return;
  const container = value as Container;
  for (const key of keysAt(container, step)) {
    const childPointer = `${pointer}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;
    const record = container as Record<string | number, unknown>;
    if (rest.length === 0) {
      if (record[key] !== undefined) visitor(record, key, childPointer);
    } else {
      visit(record[key], rest, childPointer, visitor);
    }
  }
}

function keysAt(container: Container, step: Step): (string | number)[] {
  if (step === ITEM) return Array.isArray(container) ? container.map((_, index) => index) : [];
  if (Array.isArray(container)) return [];
  if (step === ANY_KEY) return Object.keys(container);
  return Object.hasOwn(container, step) ? [step] : [];
}
