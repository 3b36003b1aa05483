// `loopback4-task-service/testing`: helpers for the tests of an app that
// mounts the task service.
export * from './in-process-engine';
