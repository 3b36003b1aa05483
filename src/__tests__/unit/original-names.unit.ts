// Every name a user of @sourceloop/task-service 2.0.0 imported (its root,
// `/kafka` and `/http`, and what its example took from
// @sourceloop/bpmn-service and @sourceloop/core), imported by this
// package's name as a user does. Types are checked by compiling this file
// (strict); values at run time.
import {Context} from '@loopback/core';
import {AnyObject} from '@loopback/repository';
import {expect} from '@loopback/testlab';
import {Task as ExternalTask, Variables} from 'camunda-external-task-client-js';
import {createServer, IncomingMessage, Server} from 'http';
import {AddressInfo} from 'net';
import * as root from 'loopback4-task-service';
import {
  AuthCacheSourceName,
  AuthDbSourceName,
  CamundaTask,
  CamundaTaskParameters,
  CommandParameters,
  EventFilter,
  ExportedWorkflowServiceBindingConfig,
  HttpClientService,
  HttpOptions,
  ICommand,
  IEvent,
  IEventAdapter,
  IEventProcessor,
  IEventStreamHandler,
  IIncomingConnector,
  IOutgoingConnector,
  IUserTaskService,
  IWorkflowServiceConfig,
  Message,
  ProccessorFunction,
  SuccessResponse,
  SystemUserProvider,
  TaskServiceBindings,
  TaskServiceConfig,
  User,
  UtilityService,
  WorflowManager,
  WorkflowDto,
  WorkflowServiceBindings,
  WorkflowServiceSourceName,
} from 'loopback4-task-service';
import * as http from 'loopback4-task-service/http';
import * as kafka from 'loopback4-task-service/kafka';
import {KafkaConfig, ProducerOptions} from 'loopback4-task-service/kafka';

const ROOT_VALUES = [
  'CreateTaskCommand',
  'EndTaskCommand',
  'TaskServiceComponent',
  'EventController',
  'TaskUserTaskController',
  'TaskController',
  'TaskServiceBindings',
  'ClientAppDTO',
  'SubscriberDTO',
  'EventWorkflow',
  'Event',
  'TaskDto',
  'TaskWorkflow',
  'Task',
  'UserTask',
  'BpmnProvider',
  'SystemUserProvider',
  'EventWorkflowRepository',
  'EventRepository',
  'TaskWorkFlowRepository',
  'TaskRepository',
  'UserTaskRepository',
  'CamundaService',
  'EventProcessorService',
  'HttpClientService',
  'UserTaskService',
  'UtilityService',
  'AuthDbSourceName',
  'AuthCacheSourceName',
  'Source',
  'EventType',
  'TaskStatus',
  'UserTaskStatus',
  'TaskPriority',
  'TaskSeverity',
  'TaskDbSourceName',
  'WorkflowServiceSourceName',
  'ExportedWorkflowServiceBindingConfig',
  // From @sourceloop/bpmn-service, as the original's example used them.
  'WorkflowServiceBindings',
  'Workflow',
  'WorkflowVersion',
];
const KAFKA_VALUES = [
  'KafkaEventAdapter',
  'KafkaStreamService',
  'TaskServiceKafkaModule',
];
const HTTP_VALUES = [
  'ClientAppController',
  'EventTriggerController',
  'WebhookSubscriptionController',
  'HttpStreamService',
  'ClientAppRepository',
  'WebhookSubscriptionRepository',
  'ApiKeyService',
  'TaskHttpComponent',
  'ClientApp',
  'WebhookSubscription',
];

// The original's type names, used as its users used them: compiling is the check.
type OriginalTypes = [
  ICommand,
  IEvent,
  IEventAdapter<AnyObject, IEvent>,
  IEventProcessor,
  IIncomingConnector,
  IIncomingConnector<unknown>,
  IEventStreamHandler,
  IOutgoingConnector<IEvent>,
  IOutgoingConnector<unknown>,
  IEventAdapter<AnyObject, unknown>,
  IUserTaskService,
  Message,
  ProccessorFunction,
  HttpOptions,
  CamundaTask,
  EventFilter,
  CamundaTaskParameters,
  TaskServiceConfig,
  User,
  KafkaConfig<unknown>,
  ProducerOptions,
  WorflowManager,
  IWorkflowServiceConfig,
  SuccessResponse,
  WorkflowDto,
];

/** A command typed with the client library's own types, as the original's were. */
class TypedCommand implements ICommand {
  topic = 'typed';
  parameters: CamundaTaskParameters;
  async execute(): Promise<void> {
    const variables = new Variables();
    variables.set('seen', this.parameters.task.variables.get('input'));
    await this.parameters.taskService.complete(this.parameters.task, variables);
  }
}

/** Without a type, as the original's README left it to the command. */
class LooseCommand implements ICommand {
  topic = 'loose';
  parameters: AnyObject;
  async execute(): Promise<void> {
    await this.parameters.taskService.complete(this.parameters.task);
  }
}

describe("The original's public names (by this package's name, as a user imports them)", () => {
  it('exports every value of its root, /kafka and /http', () => {
    const missing = [
      ...ROOT_VALUES.filter(n => !(n in root)),
      ...KAFKA_VALUES.filter(n => !(n in kafka)),
      ...HTTP_VALUES.filter(n => !(n in http)),
    ];
    expect(missing).to.eql([]);
    const types: OriginalTypes | undefined = undefined;
    expect(types).to.be.undefined();
  });

  it('keeps the original key strings and datasource names', () => {
    expect(ExportedWorkflowServiceBindingConfig.key).to.equal(
      'sf.workflow.config',
    );
    expect(WorkflowServiceBindings.Config).to.equal(
      ExportedWorkflowServiceBindingConfig,
    );
    expect(WorkflowServiceBindings.WorkflowManager.key).to.equal(
      'sf.workflow.manager',
    );
    expect(root.TaskDbSourceName).to.equal('taskdb');
    expect(WorkflowServiceSourceName).to.equal('WorkflowCache');
    expect([AuthDbSourceName, AuthCacheSourceName]).to.eql([
      'AuthDB',
      'AuthCache',
    ]);
    expect(Object.keys(TaskServiceBindings)).to.containDeep([
      'CUSTOM_BPMN_RUNNER',
      'SUB_TASK_SERVICE',
      'EVENT_PROCESSOR',
      'EVENT_FILTER',
      'INCOMING_CONNECTOR',
      'OUTGOING_CONNECTOR',
      'COMMANDS',
      'CONFIG',
      'SYSTEM_USER',
    ]);
  });

  it("binds commands typed as the original's, and runs them with the runner's parameters", async () => {
    const ctx = new Context();
    ctx.bind(TaskServiceBindings.COMMANDS).to([TypedCommand, LooseCommand]);
    const completed: unknown[] = [];
    const task = {
      variables: new Variables(),
    } as unknown as ExternalTask;
    const parameters: CommandParameters = {
      task,
      taskService: {
        complete: async (_t, variables) => {
          completed.push(variables);
        },
        handleFailure: async () => undefined,
        extendLock: async () => undefined,
      },
    };
    for (const Command of await ctx.get(TaskServiceBindings.COMMANDS)) {
      const command = new Command();
      command.parameters = parameters;
      await command.execute();
    }
    expect(completed).to.have.length(2);
    expect(completed[0]).to.be.instanceOf(Variables);
  });

  it('accepts the original config: an engine URL that may be undefined', () => {
    const config: IWorkflowServiceConfig = {
      useCustomSequence: true,
      workflowEngineBaseUrl: process.env.NO_SUCH_VARIABLE,
    };
    expect(root.workflowEngineUrl(config)).to.equal(
      'http://localhost:8080/engine-rest',
    );
    expect(
      root.workflowEngineUrl({workflowEngineBaseUrl: 'http://e:1/rest/'}),
    ).to.equal('http://e:1/rest');
  });

  it("gives the original's system user and credentials", () => {
    const user = new SystemUserProvider().value();
    expect(user).to.containDeep({username: 'system'});
    const {apiKey, apiSecret} = new UtilityService().generateApiKeyAndSecret({
      clientName: 'shop',
    });
    expect(apiKey).to.match(/^shop-[0-9a-f-]{36}$/);
    expect(apiSecret).to.match(/^[0-9a-f]{64}$/);
  });
});

describe("HttpClientService, the original's JSON client (a local HTTP server)", () => {
  let server: Server;
  let base: string;
  const seen: {method?: string; url?: string; body: string; type?: string}[] =
    [];

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', c => (body += c));
      req.on('end', () => {
        seen.push({
          method: req.method,
          url: req.url,
          body,
          type: req.headers['content-type'],
        });
        if (req.url?.startsWith('/fail')) {
          res.writeHead(500).end('engine says no');
        } else if (req.url?.startsWith('/empty')) {
          res.writeHead(204).end();
        } else {
          res
            .writeHead(200, {'content-type': 'application/json'})
            .end(JSON.stringify({ok: true}));
        }
      });
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise(r => server.close(r)));

  it('fills URL parameters and query, posts JSON, and answers {} without a body', async () => {
    const client = new HttpClientService();
    expect(
      await client.get(`${base}/process/{id}`, {
        urlParams: {id: 'a b'},
        query: {x: 1},
      }),
    ).to.eql({ok: true});
    expect(await client.post(`${base}/start`, {input: 1})).to.eql({ok: true});
    expect(await client.delete(`${base}/empty`)).to.eql({});
    expect(seen.slice(0, 2)).to.containDeep([
      {method: 'GET', url: '/process/a%20b?x=1'},
      {
        method: 'POST',
        url: '/start',
        body: '{"input":1}',
        type: 'application/json',
      },
    ]);
  });

  it('throws a 400 with the answer as its message, as the original', async () => {
    await expect(
      new HttpClientService().get(`${base}/fail`),
    ).to.be.rejectedWith({statusCode: 400, message: 'engine says no'});
  });
});
