import { runFromEnvironment } from './cli.js';
import { startSample } from './start.js';

// `npm start`: the sample app on PORT (default 3000), the local identity providers on the next free
// port, the database at DATABASE_URL (default SQLite), migrated at start.
await runFromEnvironment('Express', startSample);
