import {AnyObject, Entity, model, property} from '@loopback/repository';
import {pgTable, uuidId} from './schema';

@model({
  name: 'workflow_versions',
  settings: {...pgTable('workflow_versions'), strict: true},
})
export class WorkflowVersion extends Entity {
  @property(uuidId())
  id?: string;

  @property({
    type: 'number',
    required: true,
    postgresql: {columnName: 'version', dataType: 'integer'},
  })
  version: number;

  @property({
    type: 'string',
    required: true,
    postgresql: {columnName: 'workflow_id', dataType: 'uuid'},
  })
  workflowId: string;

  /** The BPMN XML of this version. */
  @property({type: 'string', postgresql: {columnName: 'bpmn_diagram'}})
  bpmnDiagram?: string;

  /** The engine's definition id of this version. */
  @property({
    type: 'string',
    required: true,
    postgresql: {columnName: 'external_workflow_id'},
  })
  externalWorkflowId: string;

  @property({
    type: 'object',
    postgresql: {columnName: 'inputschema', dataType: 'json'},
  })
  inputSchema?: AnyObject;

  constructor(data?: Partial<WorkflowVersion>) {
    super(data);
  }
}
