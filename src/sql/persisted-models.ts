import {Model, ModelDefinition} from '@loopback/repository';
import {DialectSource, sqlDialectOf} from './dialect';

/**
 * The service's tables belong to its migrations (`migrations/`): LoopBack's
 * `migrateSchema` (an app's `npm run migrate`) skips a datasource marked
 * `disableMigration`, so neither its autoupdate nor its automigrate
 * (`--rebuild`) alters or drops them. A datasource whose config sets
 * `disableMigration` itself (to `false`, say) keeps its setting.
 */
export function leaveSchemaToMigrations(dataSource: {settings?: object}): void {
  const settings = (dataSource.settings ?? {}) as {disableMigration?: boolean};
  settings.disableMigration ??= true;
}

/**
 * The model that a repository attaches to `dataSource` for `modelClass`,
 * fitted to its dialect: where the connector cannot hand back a uuid that
 * the database made (MySQL), a generated uuid id is made by the service
 * (`defaultFn: 'uuidv4'`) before the insert, so every created row comes back
 * with its id. Elsewhere the model as it is (PostgreSQL makes the id).
 */
export function fittedToDialect<M extends typeof Model>(
  modelClass: M,
  dataSource: DialectSource,
): M {
  if (sqlDialectOf(dataSource).readsGeneratedUuids) return modelClass;
  const {definition} = modelClass;
  const properties = {...definition.properties};
  let changed = false;
  for (const name of definition.idProperties()) {
    const id = properties[name];
    if (id.generated && id.type === 'string') {
      properties[name] = {...id, generated: false, defaultFn: 'uuidv4'};
      changed = true;
    }
  }
  if (!changed) return modelClass;
  const fitted = class extends (modelClass as typeof Model) {};
  fitted.definition = new ModelDefinition({
    name: definition.name,
    properties,
    settings: definition.settings,
    relations: definition.relations,
  });
  return fitted as unknown as M;
}
