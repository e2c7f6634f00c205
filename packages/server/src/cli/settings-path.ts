import { TesseraError } from '../errors.js';

/**
 * Dotted paths into an app's settings document (`strategies.local.enabled`,
 * `strategies.oidc.providers.0.clientId`), checked against the settings schema, and the patch
 * that sets one. A list item is addressed by its index.
 */

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A list index as a path step: digits, no leading zero. */
const isIndex = (step: string): boolean => /^(0|[1-9][0-9]{0,5})$/.test(step);

/** `a.b.0.c` as its steps; the empty path is the whole document. */
export function parseSettingsPath(text: string): string[] {
  if (text === '') return [];
  const steps = text.split('.');
  if (steps.some((step) => step === '')) throw pathError(steps, `"${text}" is not a dotted path`);
  return steps;
}

export const dotted = (steps: readonly string[]): string => (steps.length === 0 ? 'settings' : steps.join('.'));

/** Throws `invalid_request` naming the first step the schema does not know, and what it knows there. */
export function assertSettingsPath(schema: unknown, steps: readonly string[]): void {
  let candidates = [schema];
  for (const [index, step] of steps.entries()) {
    const next = candidates.flatMap((candidate) => childSchemas(candidate, step));
    if (next.length === 0) {
      const known = candidates.flatMap(propertyNames);
      const hint = known.length > 0 ? `; ${dotted(steps.slice(0, index))} has ${known.join(', ')}` : '';
      throw pathError(steps.slice(0, index + 1), `no such setting${hint}`);
    }
    candidates = next;
  }
}

/** The value at `steps`, or undefined where the document has none. */
export function valueAt(document: unknown, steps: readonly string[]): unknown {
  let value = document;
  for (const step of steps) {
    if (Array.isArray(value)) value = isIndex(step) ? value[Number(step)] : undefined;
    else if (isObject(value) && Object.hasOwn(value, step)) value = value[step];
    else return undefined;
  }
  return value;
}

/**
 * The settings patch (objects merge, anything else replaces) that puts `value` at `steps` of
 * `current`. Under a list the whole list is sent, the current one with the item changed, since
 * a patch cannot name an item; an index may add an item at the end.
 */
export function patchSetting(current: unknown, steps: readonly string[], value: unknown): unknown {
  return patchFrom(current, steps, value, []);
}

function patchFrom(current: unknown, steps: readonly string[], value: unknown, done: readonly string[]): unknown {
  const [step, ...rest] = steps;
  if (step === undefined) return value;
  if (Array.isArray(current)) return replaced(current, steps, value, done);
  return { [step]: patchFrom(isObject(current) ? current[step] : undefined, rest, value, [...done, step]) };
}

function replaced(current: unknown, steps: readonly string[], value: unknown, done: readonly string[]): unknown {
  const [step, ...rest] = steps;
  if (step === undefined) return value;
  const here = [...done, step];
  if (Array.isArray(current)) {
    if (!isIndex(step) || Number(step) > current.length)
      throw pathError(here, `no item ${step}: the list has ${current.length} (an index of ${current.length} adds one)`);
    const copy: unknown[] = [...(current as unknown[])];
    copy[Number(step)] = replaced(copy[Number(step)], rest, value, here);
    return copy;
  }
  const object = isObject(current) ? current : {};
  return { ...object, [step]: replaced(object[step], rest, value, here) };
}

/** Flattens a document into `path = JSON` lines, one per leaf, as `settings set` takes them. */
export function settingLines(value: unknown, steps: readonly string[]): string[] {
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [String(index), item])
    : isObject(value)
      ? Object.entries(value)
      : [];
  if (entries.length === 0) return [`${dotted(steps)} = ${JSON.stringify(value ?? null)}`];
  return entries.flatMap(([key, item]) => settingLines(item, [...steps, key]));
}

function childSchemas(schema: unknown, step: string): unknown[] {
  if (!isObject(schema)) return [];
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants)) return variants.flatMap((variant) => childSchemas(variant, step));
  if (isObject(schema.properties) && Object.hasOwn(schema.properties, step)) return [schema.properties[step]];
  if (isObject(schema.patternProperties)) {
    const matching = Object.entries(schema.patternProperties).filter(([pattern]) =>
      new RegExp(pattern, 'u').test(step),
    );
    if (matching.length > 0) return matching.map(([, child]) => child);
  }
  if (isObject(schema.additionalProperties)) return [schema.additionalProperties];
  if (isObject(schema.items)) return isIndex(step) ? [schema.items] : [];
  // A schema that says nothing of its shape (`Type.Unknown()`) takes any value, so any path below it.
  const described = ['type', 'properties', 'items', 'anyOf', 'oneOf', 'const', 'enum'].some((key) => key in schema);
  return described ? [] : [{}];
}

function propertyNames(schema: unknown): string[] {
  if (!isObject(schema)) return [];
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants)) return variants.flatMap(propertyNames);
  if (isObject(schema.properties)) return Object.keys(schema.properties);
  return isObject(schema.items) ? ['items by index (0, 1, …)'] : [];
}

function pathError(steps: readonly string[], problem: string): TesseraError {
  const message = `${dotted(steps)}: ${problem}`;
  return new TesseraError('invalid_request', {
    message,
    details: [{ path: `/settings/${steps.join('/')}`, message: problem }],
  });
}
