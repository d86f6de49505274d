export { TypeormDirectoryStore } from './store.js';
export {
  scimDirectoryEntities,
  scimDirectoryEntitiesMysql,
  ScimCountEntity,
  ScimDirectoryEntity,
  ScimMemberEntity,
  ScimResourceEntity,
  ScimResourceEntityMysql,
  ScimTokenEntity,
  ScimValueEntity,
} from './schema.js';
export { translateFilter, type TranslateContext, type Condition } from './translate.js';
