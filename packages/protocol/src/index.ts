export * from './errors.js';
export * from './error-body.js';
export * from './schema.js';
export * from './profile.js';
export * from './login-bodies.js';
export * from './realtime-schemas.js';
export * from './rest.js';
export * from './realtime.js';
