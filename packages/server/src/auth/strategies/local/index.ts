import { LocalLoginBodySchema as LocalInput } from '@tessera/protocol';
import type { Static } from 'typebox';
import { TesseraError } from '../../../errors.js';
import type { PasswordHasher } from '../../passwords/index.js';
import { throttleAccountOfLogin, type UserService } from '../../../users/user-service.js';
import type { LoginThrottle } from '../../throttle/login-throttle.js';
import type { Identity, Strategy, StrategyContext } from '../contract.js';

/** Username or email and password (Feathers' `local`). */
export class LocalStrategy implements Strategy<typeof LocalInput> {
  readonly name = 'local';
  readonly input = LocalInput;

  constructor(
    private readonly users: UserService,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
  ) {}

  async authenticate(input: Static<typeof LocalInput>, { app, client }: StrategyContext): Promise<Identity> {
    if ((input.email === undefined) === (input.username === undefined)) {
      throw new TesseraError('invalid_request', { message: 'Give either email or username.' });
    }
    const login: { email: string } | { username: string } =
      input.email !== undefined ? { email: input.email } : { username: input.username ?? '' };
    const subject = { account: throttleAccountOfLogin(login), ip: client.ip };
    await this.throttle.assertAllowed(app, subject);
    const user = await this.users.findByLogin(app, login);
    // An unknown user, or one without a password (made by the secret key with password null), costs
    // the same hash as a known one and answers as a wrong password, so timing does not reveal accounts.
    const password = input.password.normalize('NFKC');
    const { valid, needsRehash } = await this.hasher.verify(user?.passwordHash ?? null, password);
    // A disabled user's right password answers as a wrong one, unless the app opts in to telling:
    // otherwise a guesser learns the password, to try elsewhere. It counts as a failure too, so
    // that the throttle's waits do not tell it apart either.
    if (user === undefined || !valid || (user.disabledAt !== null && !app.settings.revealDisabledUsers)) {
      await this.throttle.recordFailure(app, subject);
      throw new TesseraError('invalid_credentials');
    }
    await this.throttle.recordSuccess(app, subject);
    if (needsRehash) await this.users.storePasswordHash(app, user, await this.hasher.hash(password));
    return { user };
  }
}
