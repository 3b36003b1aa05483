'use strict';
/** The columns the service answers for each read, as the JSON names them. */
const TASK_COLUMNS = `id, key, name, description, status, priority, severity,
  type, start_date AS "startDate", due_date AS "dueDate", end_date AS "endDate",
  assignee_id AS "assigneeId", metadata, external_id AS "externalId",
  created_on AS "createdOn", modified_on AS "modifiedOn",
  created_by AS "createdBy", modified_by AS "modifiedBy", deleted,
  deleted_on AS "deletedOn", deleted_by AS "deletedBy"`;
const USER_TASK_COLUMNS = `id, task_id AS "taskId", name, status,
  external_id AS "externalId", created_on AS "createdOn",
  modified_on AS "modifiedOn", created_by AS "createdBy",
  modified_by AS "modifiedBy", deleted, deleted_on AS "deletedOn",
  deleted_by AS "deletedBy"`;
const EVENT_COLUMNS = `id, key, description, source, payload, "timestamp"`;

module.exports = {TASK_COLUMNS, USER_TASK_COLUMNS, EVENT_COLUMNS};
