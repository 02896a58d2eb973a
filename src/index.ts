// The public API of Steward, and nothing else.
export * from './client/index.ts';
export { type Config, loadConfig, type ServeOptions } from './config.ts';
export { defineConfig, type StewardConfig } from './configFile.ts';
export { ERROR_CODES, type ErrorCode, isStewardError, StewardError } from './errors.ts';
export { createLogger, type Logger } from './logger.ts';
export * from './machines/actions.ts';
export { validateAnswer } from './machines/answers.ts';
export { initialSupervisorContext, SupervisorContext } from './machines/context.ts';
export * from './machines/events.ts';
export { invocationKey } from './machines/invocations.ts';
export { lifecycleOf } from './machines/lifecycle.ts';
export {
  type ReferenceContext,
  ReferenceInput,
  referenceSupervisor,
} from './machines/referenceSupervisor.ts';
export {
  createMachineRegistry,
  type MachineDefinition,
  type MachineRegistry,
  type TaskRunInput,
} from './machines/registry.ts';
export * from './machines/tasks.ts';
export * from './model/index.ts';
export type { FleetFilter } from './persistence/fleetQueries.ts';
export { type Database, migrate, openDatabase } from './persistence/index.ts';
export { createSupervisorStore, type SupervisorStore } from './persistence/supervisorStore.ts';
export { validateSpawnedTasks } from './persistence/taskRepository.ts';
export * from './protocol/frames.ts';
export type { ChangeListener, CommittedChange } from './runtime/commit/committedChanges.ts';
export { checkMigrations, type MigrationCheck } from './runtime/restore/migrationCheck.ts';
export type { RestorationInfo } from './runtime/restore/restoration.ts';
export {
  type AnswerOptions,
  type AnswerResult,
  type Committed,
  createSupervisorHost,
  type RetryOptions,
  type SpawnOptions,
  type SupervisorHost,
  type SupervisorHostOptions,
} from './runtime/supervisorHost.ts';
export {
  createTokenTable,
  type Principal,
  type TokenGrant,
  type TokenTable,
} from './server/auth.ts';
export { createServerMetrics, type ServerMetrics } from './server/metrics.ts';
export { type StewardServer, type StewardServerOptions, startServer } from './server/server.ts';
export {
  createRegistry,
  createSteward,
  type Steward,
  type StewardOptions,
} from './steward.ts';
export * from './visualizer/index.ts';
