export * from './database.ts';
export * from './journalRepository.ts';
export * from './migrator.ts';
export * from './openDatabase.ts';
export * from './schemaDump.ts';
export * from './supervisorRepository.ts';
export * from './taskRepository.ts';
