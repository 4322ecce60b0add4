import { orientFlow, sourceIsServerByPorts } from '../../../src/flows/orient-flow';

describe('orientFlow', () => {
  const tcp = (sp: number, dp: number, extra: object = {}) => ({ l4: { TCP: { source_port: sp, destination_port: dp } }, ...extra });

  it('trusts is_reply over ports', () => {
    expect(orientFlow(tcp(40000, 80, { is_reply: true }))).toMatchObject({ reversed: true, port: 40000, rule: 'is_reply' });
  });

  it('turns L7 responses around even without is_reply', () => {
    expect(orientFlow({ ...tcp(80, 40000), l7: { type: 'RESPONSE' } })).toMatchObject({
      reversed: true,
      port: 80,
      clientPort: 40000,
      rule: 'l7',
    });
  });

  it('marks a SYN without ACK as an open, from the client', () => {
    expect(orientFlow({ l4: { TCP: { source_port: 40000, destination_port: 80, flags: { SYN: true } } } })).toMatchObject({
      reversed: false,
      tcpOpen: true,
      rule: 'tcp_flags',
    });
    expect(orientFlow({ l4: { TCP: { source_port: 80, destination_port: 40000, flags: { SYN: true, ACK: true } } } })).toMatchObject({
      reversed: true,
      tcpOpen: false,
      port: 80,
    });
  });

  it('ranks ports well-known, then registered, then ephemeral; same class stays as observed', () => {
    expect(sourceIsServerByPorts(53, 2000)).toBe(true);
    expect(sourceIsServerByPorts(8080, 45000)).toBe(true);
    expect(sourceIsServerByPorts(45000, 8080)).toBe(false);
    expect(orientFlow(tcp(5000, 6000))).toMatchObject({ reversed: false, rule: 'as_observed', port: 6000 });
    expect(orientFlow({ l4: { UDP: { source_port: 53, destination_port: 40000 } } })).toMatchObject({
      reversed: true,
      protocol: 'UDP',
      port: 53,
    });
  });

  it('uses port 0 for ICMP and treats echo replies as replies', () => {
    expect(orientFlow({ l4: { ICMPv4: { type: 8 } } })).toMatchObject({ reversed: false, port: 0, protocol: 'ICMPv4' });
    expect(orientFlow({ l4: { ICMPv4: {} } })).toMatchObject({ reversed: true, port: 0 });
    expect(orientFlow({ l4: { ICMPv6: { type: 129 } } })).toMatchObject({ reversed: true, protocol: 'ICMPv6' });
  });

  it('returns undefined without L4', () => {
    expect(orientFlow({})).toBeUndefined();
    expect(orientFlow({ l4: {} })).toBeUndefined();
  });
});
