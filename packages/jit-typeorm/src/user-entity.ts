import type { EntitySchema } from 'typeorm';
import { jitEntities, JitUserEntity } from './schema.js';

/** `jitEntities` without `JitUser`, for an app that brings its own user entity. */
export const jitEntitiesWithoutUser: EntitySchema[] = jitEntities.filter(
  (entity) => entity !== JitUserEntity,
);
