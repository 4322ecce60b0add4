import { MAX_DNS_NAMES_PER_EDGE, addDnsName, normalizeDnsName, withDnsName } from '../../../src/model/dns-name';
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

  it('keeps the same names in a list as in a set: normalised, once, in the order they came, up to the cap', () => {
    const spellings = ['a.example.', 'A.Example', 'b.example', 'c.example', 'B.EXAMPLE.'];
    let list: readonly string[] | null = null;
    const set = new Set<string>();
    for (const name of spellings) {
      const before = list;
      list = withDnsName(list, name, 2);
      addDnsName(set, name, 2);
      // A name kept already, or refused, leaves the list as it was (no copy).
      if (before !== null && list.length === before.length) expect(list).toBe(before);
    }
    expect(list).toEqual(['a.example', 'b.example']);
    expect(list).toEqual([...set]);
  });
});
