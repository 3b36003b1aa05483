import {AnyObject} from '@loopback/repository';

/** A variable as Camunda's REST API takes it. */
export interface CamundaVariable {
  value: unknown;
  type: string;
  valueInfo?: AnyObject;
}

/**
 * Turns plain values into Camunda typed variables: objects and arrays go
 * as `Json` (Spin), numbers as Integer, Long or Double as they fit.
 */
export function toCamundaVariables(
  input: AnyObject,
): Record<string, CamundaVariable> {
  const variables: Record<string, CamundaVariable> = {};
  for (const [name, value] of Object.entries(input)) {
    variables[name] = toCamundaVariable(value);
  }
  return variables;
}

export function toCamundaVariable(value: unknown): CamundaVariable {
  if (value === null || value === undefined) return {value: null, type: 'Null'};
  switch (typeof value) {
    case 'string':
      return {value, type: 'String'};
    case 'boolean':
      return {value, type: 'Boolean'};
    case 'number':
      if (!Number.isInteger(value)) return {value, type: 'Double'};
      return Math.abs(value) <= 2 ** 31 - 1
        ? {value, type: 'Integer'}
        : {value, type: 'Long'};
    case 'bigint':
      return {value: Number(value), type: 'Long'};
    default:
      if (value instanceof Date)
        return {value: value.toISOString(), type: 'String'};
      return {value: JSON.stringify(value), type: 'Json'};
  }
}
