export * from './journalKinds.ts';
export * from './requester.ts';
export * from './restoration.ts';
export * from './supervisor.ts';
export * from './task.ts';
