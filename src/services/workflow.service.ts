import {BindingScope, inject, injectable, service} from '@loopback/core';
import {
  AnyObject,
  Filter,
  FilterExcludingWhere,
  Options,
  repository,
} from '@loopback/repository';
import {TaskServiceError} from '../errors';
import {
  DeployedWorkflow,
  IWorkflowManager,
  StartedInstance,
  StartOptions,
  UnknownWorkflowError,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {Workflow, WorkflowVersion} from '../models';
import {WorkflowRepository, WorkflowVersionRepository} from '../repositories';
import {TaskSqlBindings, TransactionRunner} from '../sql';
import {WorkflowInputValidator} from './input-validator.service';
import {TaskObservabilityBindings} from '../observability/keys';
import {fallbackLogger} from '../observability/logger';
import type {TaskLogger} from '../observability/types';

/** What `POST /workflows` takes, and `PATCH /workflows/{id}` in part. */
export interface WorkflowDto {
  name: string;
  /** The BPMN XML. */
  bpmnFile: string;
  /** JSON Schema of the input that `execute` accepts. */
  inputSchema?: AnyObject;
  description?: string;
}

/** The `provider` recorded for workflows deployed here. */
const PROVIDER = 'camunda';

/** The original's answer to a repeated deployment. */
const SAME_DEFINITION = 'Workflow with same name and definition already exists';

/**
 * The workflows managed here: their deployment to the engine, their
 * numbered versions, and which engine definition is current. Every
 * deployment is recorded in one transaction or taken back from the engine.
 */
@injectable({scope: BindingScope.TRANSIENT})
export class WorkflowService {
  constructor(
    @repository(WorkflowRepository)
    private readonly workflows: WorkflowRepository,
    @repository(WorkflowVersionRepository)
    private readonly versions: WorkflowVersionRepository,
    @inject(TaskServiceBindings.WORKFLOW_MANAGER)
    private readonly engine: IWorkflowManager,
    @service(WorkflowInputValidator)
    private readonly validator: WorkflowInputValidator,
    @inject(TaskSqlBindings.WORKFLOW_TRANSACTIONS)
    private readonly transactions: TransactionRunner,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
  ) {}

  find(filter?: Filter<Workflow>): Promise<Workflow[]> {
    return this.workflows.find({include: ['workflowVersions'], ...filter});
  }

  findById(
    id: string,
    filter?: FilterExcludingWhere<Workflow>,
  ): Promise<Workflow> {
    return this.workflows.findById(id, {
      include: ['workflowVersions'],
      ...filter,
    });
  }

  /**
   * Deploys a new workflow and records it with its version 1. The same
   * name with the same BPMN as the newest version of a workflow here is
   * refused (400), as the original refused it: posting it again is a
   * repeated request, not a new workflow.
   */
  async create(dto: WorkflowDto): Promise<Workflow> {
    this.validator.assertSchema(dto.inputSchema);
    if (await this.isDeployed(dto.name, dto.bpmnFile)) {
      throw new TaskServiceError('invalid', SAME_DEFINITION);
    }
    const deployed = await this.engine.deploy(dto.name, dto.bpmnFile, {
      description: dto.description,
      inputSchema: dto.inputSchema,
    });
    const id = await this.record(deployed, async options => {
      const workflow = await this.workflows.create(
        {
          name: dto.name,
          description: dto.description,
          workflowVersion: 1,
          externalIdentifier: deployed.externalId,
          provider: PROVIDER,
          inputSchema: dto.inputSchema,
        },
        options,
      );
      await this.versions.create(
        {
          workflowId: workflow.id!,
          version: 1,
          bpmnDiagram: dto.bpmnFile,
          externalWorkflowId: deployed.externalId,
          inputSchema: dto.inputSchema,
        },
        options,
      );
      return workflow.id!;
    });
    return this.findById(id);
  }

  /**
   * Deploys a new version (what `dto` leaves out is taken from the newest)
   * and makes it current. Concurrent updates number their versions one
   * after the other.
   */
  async update(id: string, dto: Partial<WorkflowDto>): Promise<Workflow> {
    const current = await this.workflows.findById(id);
    const newest = await this.newestVersion(current);
    const inputSchema = dto.inputSchema ?? newest.inputSchema;
    this.validator.assertSchema(inputSchema);
    const bpmn = dto.bpmnFile ?? newest.bpmnDiagram ?? '';
    const name = dto.name ?? current.name;
    const deployed = await this.engine.deploy(name, bpmn, {
      description: dto.description ?? current.description,
      inputSchema,
      workflowId: id,
    });
    await this.record(deployed, async options => {
      await this.workflows.lockById(id, options);
      const workflow = await this.workflows.findById(id, undefined, options);
      const version = workflow.workflowVersion + 1;
      await this.versions.create(
        {
          workflowId: id,
          version,
          bpmnDiagram: bpmn,
          externalWorkflowId: deployed.externalId,
          inputSchema,
        },
        options,
      );
      await this.workflows.updateById(
        id,
        {
          name,
          description: dto.description ?? workflow.description,
          workflowVersion: version,
          externalIdentifier: deployed.externalId,
          inputSchema,
        },
        options,
      );
    });
    return this.findById(id);
  }

  /**
   * Starts a version (default: the newest) with `input`, checked against
   * that version's JSON Schema.
   */
  async execute(
    id: string,
    input: AnyObject,
    versionNumber?: number,
  ): Promise<StartedInstance> {
    const workflow = await this.workflows.findById(id);
    const version = versionNumber
      ? await this.version(id, versionNumber)
      : await this.newestVersion(workflow);
    this.validator.assertValid(input, version.inputSchema);
    try {
      return await this.engine.start(version.externalWorkflowId, input);
    } catch (err) {
      if (err instanceof UnknownWorkflowError) {
        throw new TaskServiceError(
          'conflict',
          `The engine no longer has version ${version.version} of workflow ${id}.`,
        );
      }
      throw err;
    }
  }

  /** Deletes the workflow with all its versions, in the engine too. */
  async remove(id: string): Promise<void> {
    await this.workflows.findById(id);
    const versions = await this.versions.find({where: {workflowId: id}});
    await this.engine.deleteDefinitions(
      versions.map(v => v.externalWorkflowId),
    );
    await this.versions.deleteAll({workflowId: id});
    await this.workflows.deleteByIdHard(id);
  }

  /** Deletes one version, in the engine too; the newest stays (delete the workflow instead). */
  async removeVersion(id: string, versionNumber: number): Promise<void> {
    const workflow = await this.workflows.findById(id);
    if (versionNumber === workflow.workflowVersion) {
      throw new TaskServiceError(
        'invalid',
        'The newest version of a workflow cannot be deleted; delete the workflow instead.',
      );
    }
    const version = await this.version(id, versionNumber);
    await this.engine.deleteDefinitions([version.externalWorkflowId]);
    await this.versions.deleteById(version.id!);
  }

  /**
   * The definition that a mapping's `workflowKey` starts now: a key naming
   * any version of a workflow managed here starts that workflow's newest
   * version (so updating a workflow does not break its mappings); any other
   * key goes to the engine as it is.
   */
  async currentDefinition(workflowKey: string): Promise<string> {
    const current = await this.workflows.findOne({
      where: {externalIdentifier: workflowKey},
    });
    if (current) return current.externalIdentifier;
    const version = await this.versions.findOne({
      where: {externalWorkflowId: workflowKey},
    });
    if (version) {
      const owner = await this.workflows.findOne({
        where: {id: version.workflowId},
      });
      if (owner) return owner.externalIdentifier;
    }
    return workflowKey;
  }

  /** Starts the current definition of a mapped workflow. */
  async start(
    workflowKey: string,
    input: AnyObject,
    options?: StartOptions,
  ): Promise<StartedInstance> {
    return this.engine.start(
      await this.currentDefinition(workflowKey),
      input,
      options,
    );
  }

  /**
   * The instance started earlier with `businessKey`, running or ended; none
   * when there is none, or when the engine cannot look instances up by
   * business key.
   */
  async findStarted(businessKey: string): Promise<StartedInstance | undefined> {
    return this.engine.findInstanceByBusinessKey?.(businessKey);
  }

  /** Starts a mapped workflow; an unknown one is logged and skipped, other errors propagate. */
  async startIfKnown(
    workflowKey: string,
    input: AnyObject,
    cause: string,
    options?: StartOptions,
  ): Promise<StartedInstance | undefined> {
    try {
      return await this.start(workflowKey, input, options);
    } catch (err) {
      if (err instanceof UnknownWorkflowError) {
        this.logger.warn(
          {workflowKey, cause},
          'A mapped workflow is unknown to the engine; skipped',
        );
        return undefined;
      }
      throw err;
    }
  }

  /** Whether a workflow of this name has `bpmn`, byte for byte, as its newest version. */
  private async isDeployed(name: string, bpmn: string): Promise<boolean> {
    const namesakes = await this.workflows.find({
      where: {name},
      fields: {id: true, workflowVersion: true},
    });
    if (!namesakes.length) return false;
    const newest = await this.versions.find({
      where: {
        or: namesakes.map(w => ({
          workflowId: w.id!,
          version: w.workflowVersion,
        })),
      },
      fields: {bpmnDiagram: true},
    });
    return newest.some(v => v.bpmnDiagram === bpmn);
  }

  /**
   * Records a deployment in one transaction; if that fails, the deployment
   * is taken back so the engine holds no definition we do not know of.
   */
  private record<T>(
    deployed: DeployedWorkflow,
    work: (options: Options) => Promise<T>,
  ): Promise<T> {
    return this.transactions.run(work, () =>
      this.undeploy(deployed.externalId),
    );
  }

  /** Takes back a deployment whose rows did not commit; a failure here is logged, the first error stands. */
  private async undeploy(definitionId: string) {
    try {
      await this.engine.deleteDefinitions([definitionId]);
    } catch (err) {
      this.logger.error(
        {err, definitionId},
        'A workflow definition was deployed but not recorded, and could not be removed',
      );
    }
  }

  private async version(
    id: string,
    versionNumber: number,
  ): Promise<WorkflowVersion> {
    const version = await this.versions.findOne({
      where: {workflowId: id, version: versionNumber},
    });
    if (!version) {
      throw new TaskServiceError(
        'not-found',
        `Workflow ${id} has no version ${versionNumber}.`,
      );
    }
    return version;
  }

  private async newestVersion(workflow: Workflow): Promise<WorkflowVersion> {
    const newest = await this.versions.findOne({
      where: {workflowId: workflow.id!, version: workflow.workflowVersion},
    });
    if (!newest) {
      throw new TaskServiceError(
        'conflict',
        `Workflow ${workflow.id} has lost its newest version.`,
      );
    }
    return newest;
  }
}
