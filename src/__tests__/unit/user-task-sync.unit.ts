import {expect} from '@loopback/testlab';
import {IUserTaskService, IWorkflowManager} from '../../interfaces';
import {TaskRepository, UserTaskRepository} from '../../repositories';
import {UserTaskSync} from '../../services';

describe('UserTaskSync.afterStep (unit)', () => {
  /** What the sync asked, in order. */
  let asked: string[];

  function sync(hasUserTasks?: (definitionId: string) => Promise<boolean>) {
    asked = [];
    const tasks = {
      findOne: async (filter: {where: {externalId: string}}) => {
        asked.push(`task of ${filter.where.externalId}`);
        return {id: 'task-1'};
      },
    } as unknown as TaskRepository;
    const userTasks = {
      updateList: async (taskId: string, instanceId: string) => {
        asked.push(`user tasks of ${taskId} in ${instanceId}`);
        return [];
      },
    } as unknown as IUserTaskService;
    const engine = (
      hasUserTasks
        ? {
            definitionHasUserTasks: async (id: string) => {
              asked.push(`definition ${id}`);
              return hasUserTasks(id);
            },
          }
        : {}
    ) as IWorkflowManager;
    return new UserTaskSync(tasks, userTasks, {} as UserTaskRepository, engine);
  }

  it('looks no further when the definition holds no user task', async () => {
    await sync(async () => false).afterStep('instance-1', 'definition-1');
    expect(asked).to.deepEqual(['definition definition-1']);
  });

  it("records the task's user tasks when the definition holds one", async () => {
    await sync(async () => true).afterStep('instance-1', 'definition-1');
    expect(asked).to.deepEqual([
      'definition definition-1',
      'task of instance-1',
      'user tasks of task-1 in instance-1',
    ]);
  });

  it('records them when the engine cannot tell, or the definition is not known', async () => {
    await sync().afterStep('instance-1', 'definition-1');
    expect(asked).to.deepEqual([
      'task of instance-1',
      'user tasks of task-1 in instance-1',
    ]);
    await sync(async () => false).afterStep('instance-2');
    expect(asked).to.deepEqual([
      'task of instance-2',
      'user tasks of task-1 in instance-2',
    ]);
  });

  it('does nothing without an instance', async () => {
    await sync(async () => true).afterStep(undefined, 'definition-1');
    expect(asked).to.deepEqual([]);
  });
});
