import {expect} from '@loopback/testlab';
import {assertKnownProperties} from '../../controllers';
import {Task} from '../../models';

describe('assertKnownProperties (unit): no property of a filter is silently dropped', () => {
  it('accepts known properties at any depth of and/or, and in order', () => {
    expect(() =>
      assertKnownProperties(Task, {
        where: {and: [{key: 'a'}, {or: [{name: 'b'}, {status: 'pending'}]}]},
        order: ['name ASC', 'createdOn'],
      }),
    ).to.not.throw();
    expect(() => assertKnownProperties(Task, undefined)).to.not.throw();
    expect(() =>
      assertKnownProperties(Task, {order: 'key DESC'}),
    ).to.not.throw();
  });

  it('names every unknown property of a where, however deep', () => {
    expect(() =>
      assertKnownProperties(Task, {
        where: {or: [{keyy: 'a'}, {and: [{nme: 'b'}]}]},
      }),
    ).to.throw('Unknown tasks properties in the filter: keyy, nme.');
  });

  it('names an unknown order property', () => {
    expect(() => assertKnownProperties(Task, {order: ['bogus DESC']})).to.throw(
      'Unknown tasks property in the filter: bogus.',
    );
  });

  it('answers 400', () => {
    try {
      assertKnownProperties(Task, {where: {x: 1}});
      throw new Error('no error');
    } catch (err) {
      expect((err as {statusCode?: number}).statusCode).to.equal(400);
    }
  });
});
