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

/** `POST …/users`: a signup, or (secret key only) a user imported with the password hash it had elsewhere. */
export const CreateUserBodySchema = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    password: Type.Optional(NewPassword),
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
    description: 'Give password, or (secret key) passwordHash. Only the secret key may give roles.',
  },
);

export const AdminUpdateUserBodySchema = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    password: Type.Optional(NewPassword),
    disabled: Type.Optional(Type.Boolean({ description: 'A disabled user cannot log in, and its sessions end.' })),
    ...ProfileProperties,
    roles: Type.Optional(Roles),
  },
  { additionalProperties: false },
);
