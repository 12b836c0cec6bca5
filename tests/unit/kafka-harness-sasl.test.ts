/** The harness's SASL_PLAINTEXT (SCRAM-SHA-512) listener option: broker properties and format arguments. */
import {
  brokerProperties,
  planNodes,
  saslBootstrapOf,
  scramFormatArgs,
} from '../../scripts/kafka/config';

describe('SCRAM-SHA-512 listener', () => {
  const nodes = planNodes(1, [9092], [9093], [9094]);
  const [node] = nodes;

  test('a node with a SASL port gets a second listener; PLAINTEXT stays first (inter-broker)', () => {
    if (!node) throw new Error('no node');
    const props = brokerProperties({ node, all: nodes, dataDir: '/tmp/x' });
    expect(props['listeners']).toBe(
      'PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9093',
    );
    expect(props['advertised.listeners']).toBe(
      'PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9094',
    );
    expect(props['inter.broker.listener.name']).toBe('PLAINTEXT');
    expect(props['listener.security.protocol.map']).toContain('SASL_PLAINTEXT:SASL_PLAINTEXT');
    expect(props['listener.name.sasl_plaintext.sasl.enabled.mechanisms']).toBe('SCRAM-SHA-512');
    expect(props['listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config']).toMatch(
      /ScramLoginModule required;$/,
    );
    expect(saslBootstrapOf(nodes)).toBe('127.0.0.1:9094');
  });

  test('without SASL ports nothing changes', () => {
    const plain = planNodes(1, [9092], [9093]);
    const [only] = plain;
    if (!only) throw new Error('no node');
    const props = brokerProperties({ node: only, all: plain, dataDir: '/tmp/x' });
    expect(props['listeners']).toBe('PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(Object.keys(props).some((k) => k.startsWith('listener.name.'))).toBe(false);
    expect(saslBootstrapOf(plain)).toBeUndefined();
  });

  test('users become --add-scram arguments; unsafe or repeated names are refused', () => {
    expect(scramFormatArgs([{ name: 'svc', password: 'pw-1' }])).toEqual([
      '--add-scram',
      'SCRAM-SHA-512=[name=svc,password=pw-1]',
    ]);
    expect(() => scramFormatArgs([{ name: 'a,b', password: 'x' }])).toThrow(/must match/);
    expect(() => scramFormatArgs([{ name: 'a', password: 'x]' }])).toThrow(/must match/);
    expect(() =>
      scramFormatArgs([
        { name: 'a', password: 'x' },
        { name: 'a', password: 'y' },
      ]),
    ).toThrow(/twice/);
  });

  test('SASL ports are checked like the others', () => {
    expect(() => planNodes(1, [9092], [9093], [9092])).toThrow(/must differ/);
    expect(() => planNodes(3, [1, 2, 3], [4, 5, 6], [7])).toThrow(/SASL port/);
  });
});
