import Type, { type Static } from 'typebox';

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

/** Profile fields a user may set at signup and change later. */
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

export const ProfileFieldsSchema = Type.Object(ProfileProperties, { additionalProperties: false });
export type ProfileFields = Static<typeof ProfileFieldsSchema>;

/** A signup as a client sends it to `POST …/users`; also the body of `POST …/me/upgrade`. */
export const SignupBodySchema = Type.Object(
  { username: Type.Optional(Username), email: Type.Optional(Email), password: NewPassword, ...ProfileProperties },
  { additionalProperties: false },
);
export type SignupBody = Static<typeof SignupBodySchema>;

/** `POST …/me/upgrade`: an anonymous user becomes a registered one, keeping its id. Answers an AuthenticationResult. */
export type UpgradeBody = SignupBody;

/** `PATCH …/me`. */
export const UpdateMeBodySchema = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    /** New password; requires `oldPassword`. Ends every other session of the user. */
    password: Type.Optional(NewPassword),
    oldPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    ...ProfileProperties,
  },
  { additionalProperties: false },
);
export type UpdateMeBody = Static<typeof UpdateMeBodySchema>;
