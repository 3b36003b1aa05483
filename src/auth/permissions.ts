/**
 * Permission keys a token's `permissions` claim may hold. Routes accept the
 * numeric key or its name (the original's tokens carry either).
 */
export const PermissionKey = {
  CreateApiKey: '16001',
  ViewEvent: '16002',
  ViewTask: '16003',
  ViewUserTask: '16004',
  CompleteUserTask: '16005',
  MapTask: '16006',
  TriggerEvent: '16007',
  DeleteTask: '16008',
  DeleteUserTask: '16009',
  SubscribeToWebhook: '16010',
  UpdateTask: '16011',
  ReplayEvent: '16012',
  DiscardEvent: '16013',
  ViewWorkflow: '1',
  CreateWorkflow: '2',
  UpdateWorkflow: '3',
  DeleteWorkflow: '4',
  ExecuteWorkflow: '5',
} as const;

export type PermissionName = keyof typeof PermissionKey;

/** Any valid token will do. */
export const ANY_PERMISSION = '*';

/** The keys that grant `name`: its number and its name. */
export function permissionsFor(...names: PermissionName[]): string[] {
  return names.flatMap(name => [PermissionKey[name], name]);
}
