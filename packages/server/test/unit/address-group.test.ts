import { describe, expect, it } from 'vitest';
import { addressGroup } from '../../src/auth/limits/address-group.js';

// Issue 12, item 5: what one client address is, for the abuse limits.
describe('the address a client is counted under (issue 12)', () => {
  it('is an IPv4 address itself, however it is written', () => {
    expect(addressGroup('203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('::FFFF:203.0.113.7')).toBe('203.0.113.7');
  });

  it('is the /64 of an IPv6 address, which one subscriber usually holds whole', () => {
    const group = addressGroup('2001:db8:1:2::1');
    expect(group).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:0DB8:0001:0002:ffff:ffff:ffff:fffe')).toBe(group);
    expect(addressGroup('2001:db8:1:2:abcd::9')).toBe(group);
    expect(addressGroup('2001:db8:1:3::1')).not.toBe(group);
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
  });

  it('keeps text that is no address as it is', () => {
    expect(addressGroup('unknown')).toBe('unknown');
  });
});
