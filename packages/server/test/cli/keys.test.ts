import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { cliFixture, type CliFixture } from '../helpers/cli.js';

interface ListedKey {
  id: string;
  kind: string;
  label: string | null;
  revokedAt: string | null;
}

describe.each(backends)('tessera app and key with --json on $name', (backend) => {
  let cli: CliFixture;
  beforeEach(async () => (cli = await cliFixture(backend)));
  afterEach(() => cli.dispose());

  it('prints apps and keys as JSON; a key itself only where it is made', async () => {
    const created = await cli.json<{ app: { path: string }; keys: { key: string; kind: string }[] }>([
      'app',
      'create',
      'acme/chat',
    ]);
    expect(created.app.path).toBe('acme/chat');
    expect(created.keys.map(({ kind, key }) => [kind, key.slice(0, 3)])).toEqual([
      ['publishable', 'pk_'],
      ['secret', 'sk_'],
    ]);
    expect(await cli.json(['app', 'list'])).toMatchObject({ items: [{ path: 'acme/chat' }] });

    const made = await cli.json<ListedKey & { key: string }>(['key', 'create', 'acme/chat', '--kind', 'secret']);
    expect(made).toMatchObject({ kind: 'secret', key: expect.stringMatching(/^sk_/), revokedAt: null });
    expect(await cli.json(['key', 'revoke', 'acme/chat', made.id])).toEqual({ id: made.id, revoked: true });
    const listed = await cli.json<{ items: ListedKey[] }>(['key', 'list', 'acme/chat']);
    expect(listed.items).toHaveLength(3);
    expect(listed.items.find((key) => key.id === made.id)?.revokedAt).toEqual(expect.any(String));
    expect(JSON.stringify(listed)).not.toContain(made.key.split('.')[1]);
    expect(await cli.run(['key', 'revoke', 'acme/chat', 'nope'])).toEqual({
      status: 1,
      stdout: '',
      stderr: 'error key_not_found: No such key.\n',
    });
  });
});
