import { MemoryDirectoryStore } from '../src/index.js';
import { runDirectoryConformance } from '../src/testing/index.js';

runDirectoryConformance({ name: 'MemoryDirectoryStore', store: () => new MemoryDirectoryStore() });
