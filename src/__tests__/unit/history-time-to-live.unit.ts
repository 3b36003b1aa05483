import {expect} from '@loopback/testlab';
import {withHistoryTimeToLive} from '../../engines/camunda';

describe('withHistoryTimeToLive (unit)', () => {
  it('adds the default to a process without one, using the declared camunda prefix', () => {
    const xml =
      '<bpmn:definitions xmlns:bpmn="x" xmlns:cam="http://camunda.org/schema/1.0/bpmn"><bpmn:process id="p" isExecutable="true"></bpmn:process></bpmn:definitions>';
    expect(withHistoryTimeToLive(xml, '180')).to.equal(
      '<bpmn:definitions xmlns:bpmn="x" xmlns:cam="http://camunda.org/schema/1.0/bpmn"><bpmn:process id="p" isExecutable="true" cam:historyTimeToLive="180"></bpmn:process></bpmn:definitions>',
    );
  });

  it('declares the camunda namespace when the file lacks it', () => {
    const out = withHistoryTimeToLive(
      '<definitions xmlns="m"><process id="p"/></definitions>',
      'P30D',
    );
    expect(out).to.equal(
      '<definitions xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns="m"><process id="p" camunda:historyTimeToLive="P30D"/></definitions>',
    );
  });

  it('keeps a process that sets its own, and touches nothing then', () => {
    const xml =
      '<d xmlns:camunda="http://camunda.org/schema/1.0/bpmn"><process id="p" camunda:historyTimeToLive="5"></process></d>';
    expect(withHistoryTimeToLive(xml, '180')).to.equal(xml);
  });
});
