/**
 * The clean-up a team writes by hand before it has a command for it: read the tenant's active users,
 * keep the dormant ones, deactivate them one by one through the engine (still audited). Used as the
 * baseline of run.ts.
 *
 *   node --conditions=source --import tsx bench/cli/naive.ts <sqlite-file> <tenant> <days> <exclude-role>
 */
import { createProvisioner } from '@jit-sso/core';
import { createJitDataSource, TypeormStore } from '@jit-sso/typeorm';

const [file, tenantId, days, excluded] = process.argv.slice(2);
const dataSource = await createJitDataSource(`sqlite:${file}`);
const store = new TypeormStore(dataSource);
const provisioner = createProvisioner({ store, connections: [] });
const cutoff = new Date(Date.now() - Number(days) * 86_400_000);
const users = await store.listUsers({ tenantId, status: 'active', limit: Number.MAX_SAFE_INTEGER });
let deactivated = 0;
for (const user of users) {
  if ((user.lastLoginAt ?? user.createdAt) >= cutoff) continue;
  if (user.roles.some((g) => g.role === excluded)) continue;
  await provisioner.deactivateUser(user.id, { actor: 'system', reason: 'dormant' });
  deactivated++;
}
await dataSource.destroy();
process.stdout.write(`${JSON.stringify({ deactivated })}\n`);
