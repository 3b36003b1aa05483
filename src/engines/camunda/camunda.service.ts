import {BindingScope, inject, injectable} from '@loopback/core';
import {AnyObject} from '@loopback/repository';
import {LRUCache} from 'lru-cache';
import {Agent, Dispatcher, FormData, request as httpRequest} from 'undici';
import {
  DeployedWorkflow,
  IWorkflowManager,
  PendingUserTask,
  StartedInstance,
  StartOptions,
  UnknownUserTaskError,
  UnknownWorkflowError,
  WorkflowRefusedError,
} from '../../interfaces';
import {ExportedWorkflowServiceBindingConfig} from '../../keys';
import {WorkflowServiceConfig, workflowEngineUrl} from '../../types';
import {toCamundaVariables} from './camunda-variables';
import {withHistoryTimeToLive} from './history-time-to-live';
import {definitionRefusal} from '../../security/engine-refusal';

/** An error answered by the engine, with its status and message. */
export class CamundaError extends Error {
  constructor(
    readonly status: number,
    readonly engineMessage: string,
    readonly engineType?: string,
    readonly path?: string,
  ) {
    super(`Camunda answered ${status} to ${path}: ${engineMessage}`);
  }
}

interface DeploymentResponse {
  id: string;
  deployedProcessDefinitions?: Record<
    string,
    {id: string; key: string; version: number}
  > | null;
}

export interface CamundaProcessDefinition {
  id: string;
  key: string;
  version: number;
  name?: string;
  deploymentId: string;
  tenantId?: string | null;
}

/** How many definition ids the tenant check remembers (ids never change owner). */
const OWN_DEFINITIONS_CACHED = 1000;

/** How many definitions' "has a user task" answers are kept (a definition never changes). */
const USER_TASK_DEFINITIONS_CACHED = 1000;

/** A user task element, with any namespace prefix (`bpmn:userTask`, `userTask`). */
const USER_TASK_ELEMENT = /<(?:[A-Za-z_][\w.-]*:)?userTask[\s/>]/;

interface CamundaInstance {
  id: string;
  definitionId: string;
  ended: boolean;
  businessKey?: string | null;
}

interface CamundaHistoricInstance {
  id: string;
  processDefinitionId: string;
  /** ACTIVE, SUSPENDED, COMPLETED, EXTERNALLY_TERMINATED, INTERNALLY_TERMINATED. */
  state: string;
}

/** A user task as Camunda's REST API lists it (the fields used here). */
export interface CamundaTask {
  id: string;
  name: string | null;
  taskDefinitionKey: string;
  created: string;
  description: string | null;
  processDefinitionId: string;
  processInstanceId: string;
}

/**
 * Keep-alive connections to the engines, shared by every engine client of
 * the process, as Node's own fetch shares its one.
 */
const engineConnections = new Agent();

/** Camunda 7's REST API, on undici's `request`, as a workflow manager. */
@injectable({scope: BindingScope.SINGLETON})
export class CamundaService implements IWorkflowManager {
  private readonly baseUrl: string;
  private readonly historyTimeToLive: string;
  private readonly tenantId?: string;
  /** Definition ids known to belong to our tenant. */
  private readonly ownDefinitions = new LRUCache<string, true>({
    max: OWN_DEFINITIONS_CACHED,
  });
  /** Whether each definition holds a user task. */
  private readonly userTaskDefinitions = new LRUCache<string, Promise<boolean>>(
    {max: USER_TASK_DEFINITIONS_CACHED},
  );

  constructor(
    @inject(ExportedWorkflowServiceBindingConfig, {optional: true})
    config?: WorkflowServiceConfig,
  ) {
    this.baseUrl = workflowEngineUrl(config);
    this.historyTimeToLive = String(config?.defaultHistoryTimeToLive ?? 180);
    // An empty tenant means none.
    this.tenantId = config?.engineTenantId ? config.engineTenantId : undefined;
  }

  /**
   * Deploys one BPMN file; every deployment makes a new version of its
   * process. BPMN the engine cannot take is a `WorkflowRefusedError` with
   * the engine's reason.
   */
  async deploy(name: string, bpmn: string): Promise<DeployedWorkflow> {
    const deployment = await this.deployment(name, bpmn, false);
    const [definition] = Object.values(
      deployment.deployedProcessDefinitions ?? {},
    );
    if (!definition) {
      // Nothing of it can run: take the deployment back before refusing it.
      await this.request(
        'DELETE',
        `/deployment/${encodeURIComponent(deployment.id)}?cascade=true`,
      );
      throw new WorkflowRefusedError(
        'The BPMN holds no executable process (isExecutable="true").',
      );
    }
    return {externalId: definition.id, version: definition.version};
  }

  /**
   * Starts a process: by definition id (`key:version:id`, as stored), or by
   * definition key (its newest version) when the name has no colon. With a
   * tenant, only definitions of that tenant are started: a key is looked up
   * in the tenant, and a definition id of another tenant is unknown here.
   */
  async start(
    definitionIdOrKey: string,
    input: AnyObject,
    options: StartOptions = {},
  ): Promise<StartedInstance> {
    const instance = await this.startInstance<CamundaInstance>(
      definitionIdOrKey,
      input,
      options,
    );
    return {
      id: instance.id,
      definitionId: instance.definitionId,
      ended: instance.ended,
      businessKey: instance.businessKey ?? undefined,
    };
  }

  /** Starts an instance (see `start`) and returns the engine's answer. */
  private async startInstance<T>(
    definitionIdOrKey: string,
    input: AnyObject,
    options: StartOptions = {},
  ): Promise<T> {
    const byId = definitionIdOrKey.includes(':');
    const path = byId
      ? `/process-definition/${encodeURIComponent(definitionIdOrKey)}/start`
      : `/process-definition/key/${encodeURIComponent(definitionIdOrKey)}${this.tenantPath()}/start`;
    try {
      if (byId) await this.assertOwnDefinition(definitionIdOrKey);
      return await this.request<T>('POST', path, {
        variables: toCamundaVariables(input),
        ...(options.businessKey ? {businessKey: options.businessKey} : {}),
      });
    } catch (err) {
      if (err instanceof CamundaError && isMissingDefinition(err)) {
        throw new UnknownWorkflowError(definitionIdOrKey, err.engineMessage);
      }
      throw err;
    }
  }

  /**
   * One deployment of one BPMN file (with this service's tenant and a
   * history time to live when it has none). With `changedOnly` the engine
   * deploys nothing when the last deployment of this name holds the same
   * file. BPMN the engine cannot take is a `WorkflowRefusedError`.
   */
  private async deployment(
    name: string,
    bpmn: string,
    changedOnly: boolean,
  ): Promise<DeploymentResponse> {
    const form = new FormData();
    form.append('deployment-name', name);
    form.append('deployment-source', 'loopback4-task-service');
    form.append('deploy-changed-only', String(changedOnly));
    if (this.tenantId) form.append('tenant-id', this.tenantId);
    form.append(
      'data',
      new Blob([withHistoryTimeToLive(bpmn, this.historyTimeToLive)], {
        type: 'application/xml',
      }),
      `${safeFileName(name)}.bpmn`,
    );
    try {
      return await this.request<DeploymentResponse>(
        'POST',
        '/deployment/create',
        form,
      );
    } catch (err) {
      // Refused for what the BPMN says (a 400, or a 500 from the parser).
      const reason = definitionRefusal(err);
      if (reason !== undefined) throw new WorkflowRefusedError(reason);
      throw err;
    }
  }

  /**
   * The instance started with `businessKey` in this service's tenant: a
   * running one from the runtime, else an ended one from the history
   * (which needs a history level other than `none`, Camunda's default).
   */
  async findInstanceByBusinessKey(
    businessKey: string,
  ): Promise<StartedInstance | undefined> {
    const tenant = this.tenantId
      ? `&tenantIdIn=${encodeURIComponent(this.tenantId)}`
      : '';
    const key = encodeURIComponent(businessKey);
    const [running] = await this.request<CamundaInstance[]>(
      'GET',
      `/process-instance?businessKey=${key}${tenant}&maxResults=1`,
    );
    if (running) {
      return {
        id: running.id,
        definitionId: running.definitionId,
        ended: running.ended,
        businessKey,
      };
    }
    const [past] = await this.request<CamundaHistoricInstance[]>(
      'GET',
      `/history/process-instance?processInstanceBusinessKey=${key}${tenant}&sortBy=startTime&sortOrder=asc&maxResults=1`,
    );
    return past
      ? {
          id: past.id,
          definitionId: past.processDefinitionId,
          ended: past.state !== 'ACTIVE' && past.state !== 'SUSPENDED',
          businessKey,
        }
      : undefined;
  }

  async getDefinition(definitionId: string): Promise<CamundaProcessDefinition> {
    return this.request(
      'GET',
      `/process-definition/${encodeURIComponent(definitionId)}`,
    );
  }

  private tenantPath(): string {
    return this.tenantId
      ? `/tenant-id/${encodeURIComponent(this.tenantId)}`
      : '';
  }

  /** With a tenant: a definition of another tenant is, for us, not there. */
  private async assertOwnDefinition(definitionId: string): Promise<void> {
    if (!this.tenantId || this.ownDefinitions.has(definitionId)) return;
    const definition = await this.getDefinition(definitionId);
    if (definition.tenantId !== this.tenantId) {
      throw new CamundaError(
        404,
        `process definition ${definitionId} belongs to ${definition.tenantId ? `tenant ${definition.tenantId}` : 'no tenant'}, not to this service's tenant ${this.tenantId}`,
        'ForeignDefinition',
        `/process-definition/${definitionId}`,
      );
    }
    this.ownDefinitions.set(definitionId, true);
  }

  /** Deletes definitions with their instances; ones already gone are skipped. */
  async deleteDefinitions(definitionIds: string[]): Promise<void> {
    for (const id of definitionIds) {
      try {
        await this.request(
          'DELETE',
          `/process-definition/${encodeURIComponent(id)}?cascade=true&skipCustomListeners=true`,
        );
      } catch (err) {
        if (!(err instanceof CamundaError && err.status === 404)) throw err;
      }
    }
  }

  /** Deletes a process instance; one already gone (ended or deleted) is fine. */
  async deleteInstance(instanceId: string): Promise<void> {
    try {
      await this.request(
        'DELETE',
        `/process-instance/${encodeURIComponent(instanceId)}?skipCustomListeners=true&skipIoMappings=true`,
      );
    } catch (err) {
      if (!(err instanceof CamundaError && err.status === 404)) throw err;
    }
  }

  async pendingUserTasks(instanceId: string): Promise<PendingUserTask[]> {
    const tasks = await this.getPendingUserTasks(instanceId);
    return tasks.map(t => ({id: t.id, name: t.name ?? t.taskDefinitionKey}));
  }

  /**
   * Whether the definition's BPMN holds a user task, read once per
   * definition id (a deployed definition never changes). The user tasks of
   * a called process belong to its own instance, not to this one.
   */
  definitionHasUserTasks(definitionId: string): Promise<boolean> {
    const known = this.userTaskDefinitions.get(definitionId);
    if (known) return known;
    const answer = this.request<{bpmn20Xml?: string | null}>(
      'GET',
      `/process-definition/${encodeURIComponent(definitionId)}/xml`,
    ).then(({bpmn20Xml}) =>
      // Without its XML, it may have one.
      bpmn20Xml ? USER_TASK_ELEMENT.test(bpmn20Xml) : true,
    );
    this.userTaskDefinitions.set(definitionId, answer);
    // A failed read is asked again next time.
    answer.catch(() => this.userTaskDefinitions.delete(definitionId));
    return answer;
  }

  async completeUserTask(
    userTaskId: string,
    variables: AnyObject = {},
  ): Promise<void> {
    try {
      await this.request(
        'POST',
        `/task/${encodeURIComponent(userTaskId)}/complete`,
        {
          variables: toCamundaVariables(variables),
        },
      );
    } catch (err) {
      if (
        err instanceof CamundaError &&
        (err.status === 404 || /Cannot find task/i.test(err.engineMessage))
      ) {
        throw new UnknownUserTaskError(userTaskId);
      }
      throw err;
    }
  }

  // The REST helpers of the original's CamundaService, for workflow-manager
  // providers written against it (`WorkflowServiceBindings.WorkflowManager`).

  /** The process definition, as the engine answers `GET /process-definition/{id}`. */
  get<T = CamundaProcessDefinition>(definitionId: string): Promise<T> {
    return this.request<T>(
      'GET',
      `/process-definition/${encodeURIComponent(definitionId)}`,
    );
  }

  /** Starts a definition (id or key) with `input` as its variables; the engine's answer (the instance). */
  execute<T = AnyObject>(
    definitionIdOrKey: string,
    input: AnyObject,
  ): Promise<T> {
    return this.startInstance<T>(definitionIdOrKey, input);
  }

  /**
   * Deploys `file` as `<name>.bpmn` unless the last deployment of that name
   * holds the same file (the engine's `deploy-changed-only`, as the
   * original); the engine's answer, whose `deployedProcessDefinitions` is
   * null when nothing was deployed.
   */
  create<T = AnyObject>(name: string, file: Buffer | string): Promise<T> {
    const bpmn = typeof file === 'string' ? file : file.toString('utf-8');
    return this.deployment(name, bpmn, true) as Promise<T>;
  }

  /** Deletes definitions with their instances. */
  delete(definitionIds: string[]): Promise<void> {
    return this.deleteDefinitions(definitionIds);
  }

  /** Deletes one definition; the engine refuses while it has instances. */
  async deleteVersion(definitionId: string): Promise<void> {
    await this.request(
      'DELETE',
      `/process-definition/${encodeURIComponent(definitionId)}`,
    );
  }

  /** The instance's user tasks that wait for a person, oldest first, as the engine lists them. */
  getPendingUserTasks(instanceId: string): Promise<CamundaTask[]> {
    return this.request<CamundaTask[]>(
      'GET',
      `/task?processInstanceId=${encodeURIComponent(instanceId)}&sortBy=created&sortOrder=asc`,
    );
  }

  /** Deletes process instances; ones already gone are fine. */
  async deleteProcessInstances(
    instanceIds: (string | undefined)[],
  ): Promise<void> {
    for (const id of instanceIds) if (id) await this.deleteInstance(id);
  }

  /** The engine answers (`GET /version`, which touches no data). */
  async ping(): Promise<void> {
    await this.request('GET', '/version');
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    // undici's `request` rather than `fetch`: the same client without the
    // WHATWG streams, about half the CPU per call.
    const headers: Record<string, string> = {accept: 'application/json'};
    let payload: string | FormData | undefined;
    if (body instanceof FormData) {
      payload = body;
    } else if (body instanceof globalThis.FormData) {
      payload = asUndiciForm(body);
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    let status: number;
    let text: string;
    try {
      const response = await httpRequest(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body: payload,
        dispatcher: engineConnections,
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (err) {
      throw new CamundaError(
        503,
        `engine not reachable at ${this.baseUrl} (${(err as Error).message})`,
        'Unreachable',
        path,
      );
    }
    if (status < 200 || status >= 300) {
      let message = text || `HTTP ${status}`;
      let type: string | undefined;
      try {
        const parsed = JSON.parse(text) as {message?: string; type?: string};
        message = parsed.message ?? message;
        type = parsed.type;
      } catch {
        // not JSON: keep the text as the message
      }
      throw new CamundaError(status, message, type, path);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** A form of Node's global `FormData` (which undici's `request` does not take) as undici's own. */
function asUndiciForm(form: globalThis.FormData): FormData {
  const copy = new FormData();
  for (const [name, value] of form) {
    if (typeof value === 'string') copy.append(name, value);
    else copy.append(name, value, value.name);
  }
  return copy;
}

function isMissingDefinition(err: CamundaError): boolean {
  return (
    err.status === 404 ||
    /no (matching )?(process )?definition|no deployed process definition|found for key|not found/i.test(
      err.engineMessage,
    )
  );
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'workflow';
}
