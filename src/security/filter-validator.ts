import {
  Model,
  PropertyDefinition,
  RelationMetadata,
  resolveType,
} from '@loopback/repository';
import {compileLinear, UnsafePatternError} from './linear-regexp';

/** A filter or where clause the service refuses; the message names the spot. */
export class InvalidFilterError extends Error {}

/** Bounds on what one filter may ask of the database. */
export interface FilterLimits {
  /** Nesting of and/or (and of include scopes); default 6. */
  maxDepth: number;
  /** Conditions in one filter, all levels together; default 100. */
  maxConditions: number;
  /** Values in one inq/nin list; default 1000. */
  maxListLength: number;
}

export const DEFAULT_FILTER_LIMITS: FilterLimits = Object.freeze({
  maxDepth: 6,
  maxConditions: 100,
  maxListLength: 1000,
});

/** Keys that would reach an object's prototype if a parser honoured them. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

const FILTER_KEYS = new Set([
  'where',
  'fields',
  'order',
  'limit',
  'skip',
  'offset',
  'include',
]);
const COMPARISONS = new Set(['eq', 'neq', 'gt', 'gte', 'lt', 'lte']);
const NULLABLE = new Set(['eq', 'neq']);
const LISTS = new Set(['inq', 'nin']);
const LIKES = new Set(['like', 'nlike', 'ilike', 'nilike']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?$/;
const ORDER = /^(\S+)(\s+(asc|desc))?$/i;

/** What a property holds, as far as a where clause is concerned. */
type Kind =
  | 'string'
  | 'uuid'
  | 'integer'
  | 'bigint'
  | 'number'
  | 'boolean'
  | 'date'
  | 'json';

/** Column types of a number property that hold more than a 32-bit integer. */
const WIDE_NUMBERS: Record<string, Kind> = {
  bigint: 'bigint',
  int8: 'bigint',
  numeric: 'number',
  decimal: 'number',
  real: 'number',
  float: 'number',
  double: 'number',
  'double precision': 'number',
};
const INT32 = 2 ** 31 - 1;

interface Walk {
  conditions: number;
  readonly limits: FilterLimits;
}

/**
 * Checks a LoopBack filter (`where`, `fields`, `order`, `limit`, `skip`,
 * `offset`, `include`) against `model`: every property, operator, value,
 * relation and key must be one the model and the SQL connectors really
 * apply. Anything they would drop, misread or send to the database as an
 * error is refused here instead, with `InvalidFilterError`.
 */
export function validateFilter(
  model: typeof Model,
  filter: unknown,
  options: {path?: string; allowWhere?: boolean; limits?: FilterLimits} = {},
): void {
  const walk = {conditions: 0, limits: options.limits ?? DEFAULT_FILTER_LIMITS};
  checkFilter(
    model,
    filter,
    options.path ?? 'filter',
    options.allowWhere ?? true,
    0,
    walk,
  );
}

/** Checks a `where` clause against `model` (see `validateFilter`). */
export function validateWhere(
  model: typeof Model,
  where: unknown,
  options: {path?: string; limits?: FilterLimits} = {},
): void {
  const walk = {conditions: 0, limits: options.limits ?? DEFAULT_FILTER_LIMITS};
  checkWhere(model, where, options.path ?? 'where', 0, walk);
}

function checkFilter(
  model: typeof Model,
  filter: unknown,
  path: string,
  allowWhere: boolean,
  depth: number,
  walk: Walk,
): void {
  const object = plainObject(filter, path, 'a filter object');
  for (const key of Object.keys(object)) {
    if (!FILTER_KEYS.has(key) || (key === 'where' && !allowWhere)) {
      refuse(
        `${path}.${key}`,
        `is not a filter key here (use ${[...FILTER_KEYS].filter(k => allowWhere || k !== 'where').join(', ')})`,
      );
    }
  }
  if (object.where !== undefined) {
    checkWhere(model, object.where, `${path}.where`, depth, walk);
  }
  if (object.fields !== undefined)
    checkFields(model, object.fields, `${path}.fields`);
  if (object.order !== undefined)
    checkOrder(model, object.order, `${path}.order`);
  for (const key of ['limit', 'skip', 'offset'] as const) {
    if (object[key] !== undefined)
      checkCount(object[key], `${path}.${key}`, key === 'limit' ? 1 : 0);
  }
  if (object.include !== undefined) {
    checkInclude(model, object.include, `${path}.include`, depth, walk);
  }
}

function checkWhere(
  model: typeof Model,
  where: unknown,
  path: string,
  depth: number,
  walk: Walk,
): void {
  if (depth > walk.limits.maxDepth) {
    refuse(path, `nests deeper than ${walk.limits.maxDepth} levels`);
  }
  const object = plainObject(where, path, 'a where object');
  for (const [key, value] of Object.entries(object)) {
    const at = `${path}.${key}`;
    if (++walk.conditions > walk.limits.maxConditions) {
      refuse(path, `has more than ${walk.limits.maxConditions} conditions`);
    }
    if (key === 'and' || key === 'or') {
      if (!Array.isArray(value) || value.length === 0) {
        refuse(at, 'must be a non-empty array of where objects');
      }
      value.forEach((clause, i) =>
        checkWhere(model, clause, `${at}[${i}]`, depth + 1, walk),
      );
      continue;
    }
    checkCondition(model, key, value, at, walk);
  }
}

function checkCondition(
  model: typeof Model,
  property: string,
  value: unknown,
  path: string,
  walk: Walk,
): void {
  const kind = kindOf(model, property, path);
  if (kind === 'json') {
    refuse(path, 'is a JSON property: it cannot be used in a where');
  }
  if (value === null) return;
  if (Array.isArray(value)) {
    refuse(
      path,
      'is a list: use {"inq": [...]} to match one of several values',
    );
  }
  if (!isOperatorObject(value)) {
    checkValue(kind, value, path);
    return;
  }
  const operators = ownKeys(value, path);
  if (operators.length !== 1) {
    refuse(
      path,
      `must hold exactly one operator, not ${operators.length}; combine several with "and"`,
    );
  }
  const [operator] = operators;
  const operand = (value as Record<string, unknown>)[operator];
  const at = `${path}.${operator}`;
  if (COMPARISONS.has(operator)) {
    if (operand === null && NULLABLE.has(operator)) return;
    if (operand === null || typeof operand === 'object') {
      refuse(at, 'must be a single value');
    }
    checkValue(kind, operand, at);
  } else if (LISTS.has(operator)) {
    if (!Array.isArray(operand) || operand.length === 0) {
      refuse(at, 'must be a non-empty array of values');
    }
    if (operand.length > walk.limits.maxListLength) {
      refuse(at, `holds more than ${walk.limits.maxListLength} values`);
    }
    operand.forEach((v, i) => checkValue(kind, v, `${at}[${i}]`));
  } else if (operator === 'between') {
    if (!Array.isArray(operand) || operand.length !== 2) {
      refuse(at, 'must be an array of two values');
    }
    if (kind === 'boolean') refuse(at, 'does not apply to a boolean');
    operand.forEach((v, i) => checkValue(kind, v, `${at}[${i}]`));
  } else if (LIKES.has(operator)) {
    if (kind !== 'string') refuse(at, 'applies to text properties only');
    if (typeof operand !== 'string') refuse(at, 'must be a string');
  } else if (operator === 'regexp') {
    if (kind !== 'string') refuse(at, 'applies to text properties only');
    checkRegexp(operand, at);
  } else {
    refuse(
      at,
      `is not a supported operator (use ${[...COMPARISONS, ...LISTS, 'between', ...LIKES, 'regexp'].join(', ')})`,
    );
  }
}

function checkRegexp(operand: unknown, path: string): void {
  let source: string;
  if (operand instanceof RegExp) source = operand.source;
  else if (typeof operand === 'string') {
    // The juggler reads "/pattern/flags" as a regular expression literal.
    source = /^\/(.*)\/[a-z]*$/s.exec(operand)?.[1] ?? operand;
  } else refuse(path, 'must be a string');
  try {
    compileLinear(source);
  } catch (err) {
    if (err instanceof UnsafePatternError) refuse(path, err.message);
    throw err;
  }
}

function checkFields(model: typeof Model, fields: unknown, path: string) {
  if (Array.isArray(fields)) {
    fields.forEach((f, i) => {
      if (typeof f !== 'string') refuse(`${path}[${i}]`, 'must be a string');
      kindOf(model, f, `${path}[${i}]`);
    });
    return;
  }
  const object = plainObject(fields, path, 'an object or an array');
  for (const [name, on] of Object.entries(object)) {
    kindOf(model, name, `${path}.${name}`);
    if (typeof on !== 'boolean' && on !== 'true' && on !== 'false') {
      refuse(`${path}.${name}`, 'must be true or false');
    }
  }
}

function checkOrder(model: typeof Model, order: unknown, path: string) {
  const clauses = Array.isArray(order) ? order : [order];
  clauses.forEach((clause, i) => {
    const at = Array.isArray(order) ? `${path}[${i}]` : path;
    if (typeof clause !== 'string') refuse(at, 'must be "property [ASC|DESC]"');
    const match = ORDER.exec(clause.trim());
    if (!match) refuse(at, 'must be "property [ASC|DESC]"');
    if (kindOf(model, match[1], at) === 'json') {
      refuse(at, 'is a JSON property: it cannot be ordered by');
    }
  });
}

function checkCount(value: unknown, path: string, minimum: number) {
  const n =
    typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < minimum) {
    refuse(path, `must be an integer of at least ${minimum}`);
  }
}

function checkInclude(
  model: typeof Model,
  include: unknown,
  path: string,
  depth: number,
  walk: Walk,
) {
  const items = Array.isArray(include) ? include : [include];
  items.forEach((item, i) => {
    const at = Array.isArray(include) ? `${path}[${i}]` : path;
    if (typeof item === 'string') {
      relationOf(model, item, at);
      return;
    }
    const object = plainObject(
      item,
      at,
      'a relation name or {relation, scope}',
    );
    for (const key of Object.keys(object)) {
      if (key !== 'relation' && key !== 'scope') {
        refuse(`${at}.${key}`, 'is not an include key (use relation, scope)');
      }
    }
    if (typeof object.relation !== 'string') {
      refuse(`${at}.relation`, 'must name a relation');
    }
    const relation = relationOf(model, object.relation, `${at}.relation`);
    if (object.scope !== undefined) {
      if (depth >= walk.limits.maxDepth) {
        refuse(at, `nests deeper than ${walk.limits.maxDepth} levels`);
      }
      const target = resolveType(relation.target) as unknown as typeof Model;
      checkFilter(target, object.scope, `${at}.scope`, true, depth + 1, walk);
    }
  });
}

function relationOf(
  model: typeof Model,
  name: string,
  path: string,
): RelationMetadata {
  const relations = model.definition.relations ?? {};
  if (!Object.prototype.hasOwnProperty.call(relations, name)) {
    const known = Object.keys(relations);
    refuse(
      path,
      `"${name}" is not a relation of ${model.modelName}${known.length ? ` (use ${known.join(', ')})` : ''}`,
    );
  }
  return relations[name];
}

function kindOf(model: typeof Model, property: string, path: string): Kind {
  const properties = model.definition.properties;
  if (
    PROTOTYPE_KEYS.has(property) ||
    !Object.prototype.hasOwnProperty.call(properties, property)
  ) {
    throw new InvalidFilterError(
      `Unknown ${model.modelName} property in the filter: ${property} (at ${path}).`,
    );
  }
  return kindOfDefinition(properties[property]);
}

function kindOfDefinition(definition: PropertyDefinition): Kind {
  const type =
    typeof definition.type === 'function'
      ? definition.type.name
      : String(definition.type);
  switch (type.toLowerCase()) {
    case 'string':
      return definition.postgresql?.dataType === 'uuid' ? 'uuid' : 'string';
    case 'number': {
      // A number property is an integer column unless it says otherwise.
      const column = String(
        definition.postgresql?.dataType ?? '',
      ).toLowerCase();
      return WIDE_NUMBERS[column] ?? 'integer';
    }
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    default:
      return 'json';
  }
}

function checkValue(kind: Kind, value: unknown, path: string): void {
  let ok: boolean;
  switch (kind) {
    case 'string':
      ok = ['string', 'number', 'boolean'].includes(typeof value);
      break;
    case 'uuid':
      ok = typeof value === 'string' && UUID.test(value);
      break;
    case 'number':
      ok =
        (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && NUMBER.test(value.trim()));
      break;
    case 'integer':
    case 'bigint': {
      const n =
        typeof value === 'string' && NUMBER.test(value.trim())
          ? Number(value)
          : value;
      const bound = kind === 'integer' ? INT32 : Number.MAX_SAFE_INTEGER;
      ok = typeof n === 'number' && Number.isInteger(n) && Math.abs(n) <= bound;
      break;
    }
    case 'boolean':
      ok = typeof value === 'boolean' || value === 'true' || value === 'false';
      break;
    case 'date':
      ok = isDate(value);
      break;
    default:
      ok = false;
  }
  if (!ok) {
    throw new InvalidFilterError(
      `Invalid value in the filter at ${path}: ${describe(value)} is not a valid ${kindName(kind)}.`,
    );
  }
}

/** A date the juggler and the database both read: ISO text or epoch ms, year 1 to 9999. */
function isDate(value: unknown): boolean {
  if (typeof value !== 'string' && typeof value !== 'number') return false;
  if (typeof value === 'string' && !value.trim()) return false;
  const date = new Date(value);
  const year = date.getUTCFullYear();
  return !Number.isNaN(date.getTime()) && year >= 1 && year <= 9999;
}

function kindName(kind: Kind): string {
  return {
    string: 'text value',
    uuid: 'uuid',
    number: 'number',
    integer: `integer (at most ${INT32})`,
    bigint: 'integer',
    boolean: 'boolean (true or false)',
    date: 'date (ISO 8601, e.g. 2024-01-31T12:00:00Z)',
    json: 'value',
  }[kind];
}

function isOperatorObject(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof RegExp)
  );
}

function plainObject(
  value: unknown,
  path: string,
  what: string,
): Record<string, unknown> {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    value instanceof Date
  ) {
    refuse(path, `must be ${what}`);
  }
  ownKeys(value, path);
  return value as Record<string, unknown>;
}

/** The object's keys; a prototype key is refused wherever it appears. */
function ownKeys(value: object, path: string): string[] {
  const keys = Object.keys(value);
  for (const key of keys) {
    if (PROTOTYPE_KEYS.has(key)) refuse(`${path}.${key}`, 'is not allowed');
  }
  return keys;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function refuse(path: string, problem: string): never {
  throw new InvalidFilterError(`Invalid filter: ${path} ${problem}.`);
}
