import { DISPLAY_NAME_MAX_LENGTH } from '@tessera/protocol';
import { TesseraError } from '../../errors.js';

// Control, format (bidi overrides, zero-width) and separator-line characters make names that
// look like other names or break the layout of whatever shows them.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * A name a person typed, made comparable and safe to show: NFKC, whitespace runs collapsed,
 * trimmed, 1 to 128 code points, no control or invisible formatting characters. Returns null
 * for a blank name; throws `invalid_request` naming `path` otherwise.
 */
export function normalizeDisplayName(raw: string, path: string): string | null {
  const name = raw.normalize('NFKC').replace(/\s+/gu, ' ').trim();
  if (name === '') return null;
  if (FORBIDDEN.test(name)) throw invalid(path, 'must not contain control or invisible formatting characters');
  if ([...name].length > DISPLAY_NAME_MAX_LENGTH)
    throw invalid(path, `must have at most ${DISPLAY_NAME_MAX_LENGTH} characters`);
  return name;
}

function invalid(path: string, message: string): TesseraError {
  return new TesseraError('invalid_request', { message: `${path.slice(1)} ${message}.`, details: [{ path, message }] });
}
