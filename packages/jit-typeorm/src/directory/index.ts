export { TypeormDirectoryStore } from './store.js';
export {
  scimDirectoryEntities,
  ScimDirectoryEntity,
  ScimMemberEntity,
  ScimResourceEntity,
  ScimTokenEntity,
  ScimValueEntity,
} from './schema.js';
export { translateFilter, type TranslateContext, type Condition } from './translate.js';
