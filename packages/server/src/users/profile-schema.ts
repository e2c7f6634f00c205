import { Email, NewPassword, ProfileProperties, Roles, Username } from '@tessera/protocol';
import Type from 'typebox';

/*
 * Field schemas shared by signup, profile updates and the login strategies, and the bodies a
 * client sends, live in @tessera/protocol; the bodies only the app's backend sends live here.
 */
export {
  Email,
  NewPassword,
  ProfileProperties,
  SignupBodySchema,
  UpdateMeBodySchema,
  Username,
} from '@tessera/protocol';

/** Upper bound of `customData`, as serialized JSON. */
export const CUSTOM_DATA_MAX_BYTES = 16 * 1024;

/**
 * The app's own id of a user (CometChat's UID, ConnectyCube's external user id): 1 to 100 of
 * A–Z a–z 0–9 `_ . @ : -`, compared exactly (case-sensitive), unique per app. Only the secret key
 * and the app's trusted identity sources set it; the public never chooses one.
 */
export const ExternalId = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[A-Za-z0-9_.@:-]+$',
  description:
    "The app's own id of the user: 1 to 100 of A-Z a-z 0-9 _ . @ : -, case-sensitive, unique per app. Secret key only.",
});

/** A password, or (secret key only) null: the user has none and logs in by auth token or external identity. */
const PasswordOrNone = Type.Union([NewPassword, Type.Null()], {
  description: 'null (secret key only): the user has no password, and a password login answers as a wrong password.',
});

/** `POST …/users`: a signup, or (secret key only) a user imported with the password hash it had elsewhere. */
export const CreateUserBodySchema = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    externalId: Type.Optional(ExternalId),
    password: Type.Optional(PasswordOrNone),
    passwordHash: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description:
          'Instead of password, with the secret key only: an argon2id or bcrypt hash imported from another system.',
      }),
    ),
    ...ProfileProperties,
    roles: Type.Optional(Roles),
  },
  {
    additionalProperties: false,
    description:
      'Give password, or (secret key) passwordHash or password null. Only the secret key may give roles or externalId.',
  },
);

export const AdminUpdateUserBodySchema = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    externalId: Type.Optional(Type.Union([ExternalId, Type.Null()], { description: 'null removes it.' })),
    password: Type.Optional(PasswordOrNone),
    disabled: Type.Optional(Type.Boolean({ description: 'A disabled user cannot log in, and its sessions end.' })),
    ...ProfileProperties,
    roles: Type.Optional(Roles),
  },
  { additionalProperties: false },
);
