import type {RegExpEngine} from 'ajv/dist/types';
import {RE2JS} from 're2js';

/**
 * A pattern that cannot be matched in linear time (lookaround,
 * backreferences) or is not a regular expression at all.
 */
export class UnsafePatternError extends Error {}

/**
 * Compiles an ECMAScript regular expression with RE2JS, a pure-JavaScript
 * port of RE2: matching takes time linear in the input, whatever the
 * pattern, so a user-supplied pattern such as `^(a+)+$` cannot stall the
 * event loop. Patterns RE2 cannot run that way are refused.
 */
export function compileLinear(pattern: string): RE2JS {
  try {
    return RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (err) {
    throw new UnsafePatternError(
      `The regular expression ${JSON.stringify(pattern)} is not supported: ${(err as Error).message} ` +
        '(patterns run on a linear-time engine: no lookaround, no backreferences)',
    );
  }
}

/** The regular-expression engine for ajv (`code.regExp`): `pattern` and `patternProperties` run on RE2JS. */
export const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string) => {
    const compiled = compileLinear(pattern);
    return {test: (input: string) => compiled.test(input)};
  },
  {code: 'require("loopback4-task-service").linearRegExp'},
);
