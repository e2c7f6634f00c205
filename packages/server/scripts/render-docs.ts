/**
 * Renders the generated parts of the docs from their single sources: the error registry
 * (docs/errors.md) and the configuration schema (docs/configuration.md). A test fails when
 * the committed docs differ from what this prints; run `npm run docs` to refresh them.
 */
import { writeFileSync } from 'node:fs';
import { renderConfigurationDoc, renderErrorsDoc } from './docs.js';

const root = new URL('../../../docs/', import.meta.url);
writeFileSync(new URL('errors.md', root), renderErrorsDoc());
writeFileSync(new URL('configuration.md', root), renderConfigurationDoc());
