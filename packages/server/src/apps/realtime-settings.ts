import Type, { type Static } from 'typebox';

/** Per-app settings of the realtime gateway (`settings.realtime`). */
export const RealtimeSettings = Type.Object(
  {
    maxConnectionsPerUser: Type.Integer({
      default: 20,
      minimum: 1,
      maximum: 1000,
      description:
        'Open realtime connections one user may have on a node, across its sessions; one more closes with too_many_connections.',
    }),
    presence: Type.Boolean({
      default: true,
      description: 'Whether connected users may see who else is online (presence.query and presence.subscribe).',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'The WebSocket gateway at /v1/apps/{namespace}/{app}/realtime.',
  },
);

export type RealtimeSettings = Static<typeof RealtimeSettings>;
