import type { AuthContext } from '../auth/sessions/session-service.js';
import type { AdminTokenRecord, ApiKeyRecord, AppRecord } from '../store/repositories/index.js';

/** What the request hooks learned about the caller. */
export interface RequestAuth {
  app: AppRecord | null;
  key: ApiKeyRecord | null;
  user: AuthContext | null;
  admin: AdminTokenRecord | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    tessera: RequestAuth;
  }
}
