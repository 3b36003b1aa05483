import {AnyObject} from '@loopback/repository';
import {Variables} from 'camunda-external-task-client-js';
import {toCamundaVariable} from './camunda-variables';

/**
 * Variables for `taskService.complete(task, variables)` in a command: plain
 * values in, typed as the REST API types them (objects as Json).
 */
export function processVariables(values: AnyObject): Variables {
  const variables = new Variables();
  for (const [name, value] of Object.entries(values)) {
    const typed = toCamundaVariable(value);
    variables.setTyped(name, {
      type: typed.type.toLowerCase(),
      value: typed.value,
      valueInfo: typed.valueInfo ?? {},
    });
  }
  return variables;
}
