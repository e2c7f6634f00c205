/**
 * JSON parsing for untrusted token segments. `JSON.parse` keeps the last of two equal keys,
 * so `{"aud":"a","aud":"b"}` would read differently here than in a library that keeps the
 * first: a token is refused outright when any object in it repeats a key. Keys are compared
 * after unescaping ("a" and "\u0061" are the same key).
 */

/** Deeper nesting than this is not a token anyone means to send. */
const MAX_DEPTH = 32;

export type StrictJsonResult =
  { ok: true; value: unknown } | { ok: false; problem: 'invalid_json' | 'duplicate_key' | 'too_deep' };

export function parseStrictJson(text: string): StrictJsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'invalid_json' };
  }
  // The text is valid JSON from here on, which is what lets the scan below stay simple.
  const problem = scanKeys(text);
  return problem === undefined ? { ok: true, value } : { ok: false, problem };
}

/** Walks valid JSON text, keeping the keys seen in each open object. */
function scanKeys(text: string): 'duplicate_key' | 'too_deep' | undefined {
  // One entry per open container: the keys of an object, or null for an array.
  const open: (Set<string> | null)[] = [];
  let expectingKey = false;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (character === '"') {
      const end = closingQuote(text, index);
      const keys = open.at(-1);
      if (expectingKey && keys instanceof Set) {
        const key = JSON.parse(text.slice(index, end + 1)) as string;
        if (keys.has(key)) return 'duplicate_key';
        keys.add(key);
        expectingKey = false;
      }
      index = end;
    } else if (character === '{' || character === '[') {
      open.push(character === '{' ? new Set() : null);
      if (open.length > MAX_DEPTH) return 'too_deep';
      expectingKey = character === '{';
    } else if (character === '}' || character === ']') {
      open.pop();
      expectingKey = false;
    } else if (character === ',') {
      expectingKey = open.at(-1) instanceof Set;
    }
  }
  return undefined;
}

/** Index of the quote that ends the string starting at `start`. */
function closingQuote(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index += 1) {
    const character = text[index];
    if (character === '\\') index += 1;
    else if (character === '"') return index;
  }
  return text.length - 1;
}
