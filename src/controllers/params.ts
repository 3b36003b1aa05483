import {Model} from '@loopback/repository';
import {HttpErrors, param} from '@loopback/rest';

/** A path parameter holding a uuid: anything else is a 400, not a database error. */
export function uuidParam(name: string) {
  return param({
    name,
    in: 'path',
    required: true,
    schema: {type: 'string', format: 'uuid'},
  });
}

const OPERATORS = new Set(['and', 'or']);

/**
 * 400 unless every property a `where` (at any depth of and/or) or an `order`
 * names is a property of `model`. The connector silently drops unknown
 * properties, so `DELETE /tasks?where={"keyy":"x"}` would otherwise match
 * every row.
 */
export function assertKnownProperties(
  model: typeof Model,
  filter?: {where?: object; order?: string | string[]},
): void {
  if (!filter) return;
  const known = new Set(Object.keys(model.definition.properties));
  const unknown: string[] = [];
  const visit = (where: unknown) => {
    if (!where || typeof where !== 'object') return;
    for (const [key, value] of Object.entries(where)) {
      if (OPERATORS.has(key) && Array.isArray(value)) value.forEach(visit);
      else if (!known.has(key)) unknown.push(key);
    }
  };
  visit(filter.where);
  const order = filter.order ?? [];
  for (const clause of Array.isArray(order) ? order : [order]) {
    const property = String(clause).trim().split(/\s+/)[0];
    if (property && !known.has(property)) unknown.push(property);
  }
  if (unknown.length) {
    throw new HttpErrors.BadRequest(
      `Unknown ${model.modelName} propert${unknown.length > 1 ? 'ies' : 'y'} in the filter: ${unknown.join(', ')}.`,
    );
  }
}
