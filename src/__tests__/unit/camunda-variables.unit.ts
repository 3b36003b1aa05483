import {expect} from '@loopback/testlab';
import {toCamundaVariables} from '../../engines/camunda';

describe('toCamundaVariables (unit): plain values as Camunda typed variables', () => {
  it('types each value as the REST API expects it', () => {
    const when = new Date('2030-01-02T03:04:05.000Z');
    expect(
      toCamundaVariables({
        text: 'a',
        yes: true,
        small: 42,
        big: 2 ** 31,
        negativeBig: -(2 ** 31),
        ratio: 0.5,
        huge: 10n,
        none: null,
        missing: undefined,
        when,
        object: {a: [1, 2]},
        list: ['x'],
      }),
    ).to.eql({
      text: {value: 'a', type: 'String'},
      yes: {value: true, type: 'Boolean'},
      small: {value: 42, type: 'Integer'},
      big: {value: 2 ** 31, type: 'Long'},
      negativeBig: {value: -(2 ** 31), type: 'Long'},
      ratio: {value: 0.5, type: 'Double'},
      huge: {value: 10, type: 'Long'},
      none: {value: null, type: 'Null'},
      missing: {value: null, type: 'Null'},
      when: {value: '2030-01-02T03:04:05.000Z', type: 'String'},
      object: {value: '{"a":[1,2]}', type: 'Json'},
      list: {value: '["x"]', type: 'Json'},
    });
  });

  it('keeps the largest Integer an Integer', () => {
    expect(toCamundaVariables({n: 2 ** 31 - 1}).n.type).to.equal('Integer');
  });
});
