import Type from 'typebox';

/** Field schemas shared by signup, profile updates and the login strategies. */
export const Username = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[\\p{L}\\p{N}][\\p{L}\\p{N}._-]*$',
  description: 'Letters, digits, ".", "_" and "-"; unique per app, case-insensitively.',
});

export const Email = Type.String({
  minLength: 3,
  maxLength: 254,
  pattern: '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$',
  description: 'Unique per app, case-insensitively.',
});

export const NewPassword = Type.String({
  minLength: 1,
  maxLength: 1024,
  description:
    "At least the app's passwordPolicy.minLength (default 15) and at most 256 characters; common passwords and the user's own email, username and the app's name are refused.",
});

const HttpUrl = Type.String({ maxLength: 2048, pattern: '^https?://[^\\s]+$' });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/** Upper bound of `customData`, as serialized JSON. */
export const CUSTOM_DATA_MAX_BYTES = 16 * 1024;

export const ProfileProperties = {
  fullName: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128 }))),
  phone: Type.Optional(Nullable(Type.String({ pattern: '^\\+?[0-9 ().-]{3,32}$' }))),
  website: Type.Optional(Nullable(HttpUrl)),
  avatarUrl: Type.Optional(Nullable(HttpUrl)),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50, uniqueItems: true })),
  customData: Type.Optional(
    Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
      description: 'Any JSON object up to 16 KiB.',
    }),
  ),
};

export const SignupBodySchema = Type.Object(
  { username: Type.Optional(Username), email: Type.Optional(Email), password: NewPassword, ...ProfileProperties },
  { additionalProperties: false },
);

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
  },
  { additionalProperties: false, description: 'Give password, or (secret key) passwordHash.' },
);

export const UpdateMeBodySchema = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    password: Type.Optional(NewPassword),
    oldPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    ...ProfileProperties,
  },
  { additionalProperties: false },
);

export const AdminUpdateUserBodySchema = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    password: Type.Optional(NewPassword),
    disabled: Type.Optional(Type.Boolean({ description: 'A disabled user cannot log in, and its sessions end.' })),
    ...ProfileProperties,
  },
  { additionalProperties: false },
);
