/** What a workflow engine error carries (see `CamundaError`). */
interface EngineErrorLike {
  status?: unknown;
  engineMessage?: unknown;
  message?: unknown;
}

/** Camunda's BPMN parser speaks in `ENGINE-09xxx` codes. */
const PARSE_MESSAGE = /\bENGINE-09\d{3}\b|could not parse/i;

/**
 * The engine's reason when it refused a process definition because of the
 * definition itself (the caller's mistake, a 400), else `undefined`.
 *
 * Camunda answers a BPMN it cannot read as XML with a 500 whose message is
 * a parse error ("ENGINE-09003 Could not parse ..."), and a BPMN that is not
 * valid with a 400; neither leaves a deployment behind. Call this where a
 * deployment fails, and answer 400 with the returned reason.
 */
export function definitionRefusal(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const {status, engineMessage, message} = err as EngineErrorLike;
  if (typeof status !== 'number') return undefined;
  const reason = String(engineMessage ?? message ?? '');
  if (status >= 400 && status < 500) return reason;
  return status === 500 && PARSE_MESSAGE.test(reason) ? reason : undefined;
}
