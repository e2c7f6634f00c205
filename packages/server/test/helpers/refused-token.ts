/** What every refused external token (jwt, oidc) answers over REST, whatever the reason (issue 12, item 7). */
export const REFUSED_TOKEN_MESSAGE = "The token is not valid. The server's log says why.";

export const REFUSED_TOKEN_ANSWER = {
  error: { code: 'invalid_token', message: REFUSED_TOKEN_MESSAGE, status: 401 },
  // Feathers' fields (issue 14): they say no more than the envelope.
  name: 'NotAuthenticated',
  message: REFUSED_TOKEN_MESSAGE,
  code: 401,
  className: 'not-authenticated',
  data: { code: 'invalid_token' },
};
