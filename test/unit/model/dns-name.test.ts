import { MAX_DNS_NAMES_PER_EDGE, addDnsName, normalizeDnsName } from '../../../src/model/dns-name';
import { fqdnId } from '../../../src/model/endpoint-ids';

describe('DNS names as the graph keeps them', () => {
  it('lower-cases a name and drops one trailing dot', () => {
    expect(normalizeDnsName('API.Example.com.')).toBe('api.example.com');
    expect(normalizeDnsName('api.example.com')).toBe('api.example.com');
  });

  it('gives an fqdn endpoint the id of its normalised name, whatever the spelling Hubble wrote', () => {
    expect(fqdnId('API.Example.com.')).toBe('fqdn:api.example.com');
    expect(fqdnId('api.example.com')).toBe(fqdnId('API.EXAMPLE.COM.'));
  });

  it('keeps two spellings of one name in one place and refuses a new name once the cap is full', () => {
    const names = new Set<string>();
    expect(addDnsName(names, 'a.example.', 2)).toBe(true);
    expect(addDnsName(names, 'A.Example', 2)).toBe(true);
    expect(names.size).toBe(1);
    expect(addDnsName(names, 'b.example', 2)).toBe(true);
    expect(addDnsName(names, 'c.example', 2)).toBe(false);
    // A name already kept is still kept when the cap is full, in any spelling.
    expect(addDnsName(names, 'B.EXAMPLE.', 2)).toBe(true);
    expect([...names]).toEqual(['a.example', 'b.example']);
  });

  it('caps at 50 names per edge by default', () => {
    const names = new Set<string>();
    for (let i = 0; i < 60; i++) addDnsName(names, `q${i}.example.`);
    expect(names.size).toBe(MAX_DNS_NAMES_PER_EDGE);
    expect(MAX_DNS_NAMES_PER_EDGE).toBe(50);
  });
});
