import { describe, expect, it } from 'vitest';
import { RevokedSet } from '../src/revoked-set.js';

const T0 = Date.UTC(2026, 11, 8, 12);

// issue 15: the verifier keeps revoked sessions until their tokens expire, compactly.
describe("the verifier's revoked set", () => {
  it('refuses a session until its tokens expire, then forgets it', () => {
    let now = T0;
    const set = new RevokedSet(() => now);
    set.addSession('ses_a', 'session_revoked', T0 + 60_000);
    set.addSession('ses_b', 'user_disabled', T0 + 120_500);
    expect(set.refusal('ses_a', 'usr_1', T0)).toBe('session_revoked');
    expect(set.refusal('ses_b', 'usr_1', T0)).toBe('user_disabled');
    expect(set.refusal('ses_c', 'usr_1', T0)).toBeUndefined();
    now = T0 + 60_000;
    expect(set.refusal('ses_a', 'usr_1', T0)).toBeUndefined();
    expect(set.size).toBe(1);
    // Kept until the whole second after tokensExpireBy: never shorter than Tessera said.
    now = T0 + 120_999;
    expect(set.refusal('ses_b', 'usr_1', T0)).toBe('user_disabled');
    now = T0 + 121_000;
    set.sweep();
    expect(set.size).toBe(0);
  });

  it('never shortens an entry, and keeps entries from before its creation', () => {
    let now = T0;
    const set = new RevokedSet(() => now);
    set.addSession('ses_a', 'session_revoked', T0 + 600_000);
    set.addSession('ses_a', 'user_disabled', T0 + 1_000);
    now = T0 + 300_000;
    expect(set.refusal('ses_a', 'usr_1', T0)).toBe('session_revoked');
    set.addSession('ses_old', 'session_revoked', T0 - 10_000);
    expect(set.refusal('ses_old', 'usr_1', T0)).toBeUndefined();
  });

  it('keeps every entry the clock tolerance longer: tokens pass that long past their exp', () => {
    let now = T0;
    const set = new RevokedSet(() => now, 5_000);
    set.addSession('ses_a', 'session_revoked', T0 + 60_000);
    set.addUser('usr_1', { code: 'user_disabled', at: T0, until: T0 + 60_000 });
    now = T0 + 64_999;
    expect(set.refusal('ses_a', 'usr_2', T0)).toBe('session_revoked');
    expect(set.refusal('ses_b', 'usr_1', T0 - 1)).toBe('user_disabled');
    now = T0 + 65_000;
    set.sweep();
    expect(set.size).toBe(0);
  });

  it("refuses a user's tokens issued before its event, until they expire; enabling lifts it", () => {
    let now = T0;
    const set = new RevokedSet(() => now);
    set.addUser('usr_1', { code: 'user_disabled', at: T0 - 500, until: T0 + 60_000 });
    expect(set.refusal('ses_a', 'usr_1', T0 - 1_000)).toBe('user_disabled');
    expect(set.refusal('ses_a', 'usr_1', T0)).toBeUndefined();
    expect(set.refusal('ses_a', 'usr_2', T0 - 1_000)).toBeUndefined();
    set.removeUser('usr_1');
    expect(set.refusal('ses_a', 'usr_1', T0 - 1_000)).toBeUndefined();
    set.addUser('usr_1', { code: 'session_revoked', at: T0, until: T0 + 60_000 });
    now = T0 + 60_000;
    set.sweep();
    expect(set.size).toBe(0);
  });

  it('holds 100,000 revocations and sweeps them in one cheap pass', () => {
    let now = T0;
    const set = new RevokedSet(() => now);
    for (let index = 0; index < 100_000; index += 1)
      set.addSession(`ses_${index.toString(36).padStart(24, '0')}`, 'session_revoked', T0 + 900_000 + index);
    expect(set.size).toBe(100_000);
    now = T0 + 950_000;
    set.sweep();
    // Entries 0 to 50 000 end by then (rounded up to the second).
    expect(set.size).toBe(49_999);
  });
});
