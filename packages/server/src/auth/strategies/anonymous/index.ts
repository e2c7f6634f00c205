import { AnonymousLoginBodySchema as AnonymousInput } from '@tessera/protocol';
import type { Static } from 'typebox';
import type { UserService } from '../../../users/user-service.js';
import type { Identity, Strategy, StrategyContext } from '../contract.js';
import { normalizeDisplayName } from '../display-name.js';

/**
 * Anonymous login with an optional display name (Convergence's `connectAnonymously`). Every
 * login makes a new user of kind `anonymous`; it ends when its last session does (see
 * ./lifecycle.ts), and may become a registered user by an upgrade (see ./upgrade.ts).
 */
export class AnonymousStrategy implements Strategy<typeof AnonymousInput> {
  readonly name = 'anonymous';
  readonly input = AnonymousInput;
  readonly limits = { attempts: 'anonymousLogin' } as const;

  constructor(private readonly users: UserService) {}

  async authenticate(input: Static<typeof AnonymousInput>, { app }: StrategyContext): Promise<Identity> {
    const fullName = input.displayName === undefined ? null : normalizeDisplayName(input.displayName, '/displayName');
    const user = await this.users.create(app, { kind: 'anonymous', profile: { fullName } });
    return { user };
  }
}
