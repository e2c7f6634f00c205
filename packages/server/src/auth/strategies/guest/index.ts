import { GuestLoginBodySchema as GuestInput } from '@tessera/protocol';
import type { Static } from 'typebox';
import { TesseraError } from '../../../errors.js';
import type { Clock } from '../../../lib/clock.js';
import type { UserService } from '../../../users/user-service.js';
import type { Identity, Strategy, StrategyContext } from '../contract.js';
import { normalizeDisplayName } from '../display-name.js';

/**
 * A named guest (ConnectyCube's guest session): every login makes a new user of kind `guest`
 * that lasts the app's `guest.lifetime`. Its sessions end when it does (the session service
 * caps them at the user's `expiresAt`), and the maintenance job removes it afterwards.
 */
export class GuestStrategy implements Strategy<typeof GuestInput> {
  readonly name = 'guest';
  readonly input = GuestInput;
  readonly limits = { attempts: 'guestLogin' } as const;

  constructor(
    private readonly users: UserService,
    private readonly clock: Clock,
  ) {}

  async authenticate(input: Static<typeof GuestInput>, { app }: StrategyContext): Promise<Identity> {
    const fullName = normalizeDisplayName(input.fullName, '/fullName');
    if (fullName === null)
      throw new TesseraError('invalid_request', {
        message: "Give the guest's full name.",
        details: [{ path: '/fullName', message: 'must not be blank' }],
      });
    const expiresAt = this.clock.now() + app.settings.strategies.guest.lifetime * 1000;
    const user = await this.users.create(app, { kind: 'guest', profile: { fullName }, expiresAt });
    return { user };
  }
}
