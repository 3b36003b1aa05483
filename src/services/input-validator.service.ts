import {BindingScope, injectable} from '@loopback/core';
import {AnyObject} from '@loopback/repository';
import Ajv, {ValidateFunction} from 'ajv';
import addFormats from 'ajv-formats';
import {TaskServiceError} from '../errors';
import {linearRegExp} from '../security/linear-regexp';

/**
 * Checks workflow inputs against their version's JSON Schema. Patterns run
 * on a linear-time engine, so a user's `pattern` cannot stall the service.
 */
@injectable({scope: BindingScope.SINGLETON})
export class WorkflowInputValidator {
  private readonly ajv = new Ajv({
    allErrors: true,
    strict: false,
    code: {regExp: linearRegExp},
  });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    addFormats(this.ajv);
  }

  /** Refuses (`invalid`) a `schema` that is not a usable JSON Schema. */
  assertSchema(schema: unknown): void {
    if (schema === undefined || schema === null) return;
    if (typeof schema !== 'object' || Array.isArray(schema)) {
      throw new TaskServiceError(
        'invalid',
        'inputSchema must be a JSON Schema object.',
      );
    }
    try {
      this.compile(schema as AnyObject);
    } catch (err) {
      throw new TaskServiceError(
        'invalid',
        `inputSchema is not a valid JSON Schema: ${(err as Error).message}`,
      );
    }
  }

  /** Refuses (`invalid`) an `input` that breaks `schema`, listing every way it does. */
  assertValid(input: unknown, schema: AnyObject | undefined): void {
    if (!schema) return;
    let validate: ValidateFunction;
    try {
      validate = this.compile(schema);
    } catch (err) {
      // A schema stored before its patterns had to be linear-time.
      throw new TaskServiceError(
        'conflict',
        `The workflow's inputSchema cannot be used; update the workflow: ${(err as Error).message}`,
      );
    }
    if (validate(input)) return;
    const errors = (validate.errors ?? []).map(e => ({
      path: e.instancePath || '/',
      message: e.message ?? 'is invalid',
      params: e.params,
    }));
    const summary = errors.map(e => `${e.path} ${e.message}`).join('; ');
    throw new TaskServiceError(
      'invalid',
      `Workflow input is invalid: ${summary}`,
      errors,
    );
  }

  private compile(schema: AnyObject): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    return validate;
  }
}
