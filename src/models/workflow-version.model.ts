import {AnyObject, Entity, model, property} from '@loopback/repository';
import {column, serviceTable, uuidId} from './schema';

@model({
  name: 'workflow_versions',
  settings: {...serviceTable('workflow_versions'), strict: true},
})
export class WorkflowVersion extends Entity {
  @property(uuidId())
  id?: string;

  @property({
    type: 'number',
    required: true,
    ...column('version', 'integer'),
  })
  version: number;

  @property({
    type: 'string',
    required: true,
    ...column('workflow_id', 'uuid'),
  })
  workflowId: string;

  /** The BPMN XML of this version. */
  @property({type: 'string', ...column('bpmn_diagram')})
  bpmnDiagram?: string;

  /** The engine's definition id of this version. */
  @property({
    type: 'string',
    required: true,
    ...column('external_workflow_id'),
  })
  externalWorkflowId: string;

  @property({
    type: 'object',
    ...column('inputschema', 'json'),
  })
  inputSchema?: AnyObject;

  constructor(data?: Partial<WorkflowVersion>) {
    super(data);
  }
}
