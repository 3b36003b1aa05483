export enum TaskStatus {
  Pending = 'pending',
  InProgress = 'in progress',
  Completed = 'completed',
}

export enum UserTaskStatus {
  Pending = 'pending',
  Completed = 'completed',
}

export enum TaskPriority {
  Low = 'low',
  Medium = 'medium',
  High = 'high',
}

export enum TaskSeverity {
  Low = 'low',
  Medium = 'medium',
  High = 'high',
}

/** Keys of the events the service publishes. */
export enum EventType {
  TaskCreated = 'task-created',
  TaskCompleted = 'task-completed',
  UserTaskCompleted = 'user-task-completed',
}

/** Where an event came from. */
export enum Source {
  TaskService = 'task-service',
  Kafka = 'kafka',
  Http = 'http',
}
